#!/usr/bin/env bash
# The test of report.html opens it in a real browser: Debian's headless Chromium. Install it when
# it is missing and we may (root, or password-less sudo, with apt-get); otherwise say what the test
# does instead. Never fails the set-up: without Chromium that one test is skipped with its reason.
for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
install() {
    ($1 apt-get update -qq && $1 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1
}
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium (headless, for the test of report.html) with apt-get ..."
    if install ""; then
        echo "chromium installed: $(command -v chromium)"
        exit 0
    fi
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium (headless, for the test of report.html) with sudo apt-get ..."
    if install "sudo -n"; then
        echo "chromium installed: $(command -v chromium)"
        exit 0
    fi
fi
echo "NOTE: chromium is not installed and could not be installed here; the browser test of" >&2
echo "      report.html (tests/test_report.py) will be skipped. Install it with:" >&2
echo "      sudo apt-get install chromium" >&2
exit 0
