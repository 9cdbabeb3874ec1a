#!/usr/bin/env bash
# The sandbox uses Debian's bubblewrap (bwrap). Install it when it is missing and we may;
# otherwise say what happens instead. Never fails the set-up: the autograder falls back to a
# plain child process with the same limits and says so in every result.
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing bubblewrap (the sandbox for student code) with apt-get ..."
    if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1; then
        echo "bubblewrap installed: $(command -v bwrap)"
        exit 0
    fi
fi
if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
    if (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1; then
        echo "bubblewrap installed: $(command -v bwrap)"
        exit 0
    fi
fi
echo "WARNING: bubblewrap (bwrap) is not installed and could not be installed here." >&2
echo "         Student code will run in a plain child process with the same resource limits," >&2
echo "         but without the filesystem and network isolation. Install it with:" >&2
echo "         sudo apt-get install bubblewrap" >&2
exit 0
