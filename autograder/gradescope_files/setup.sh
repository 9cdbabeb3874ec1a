#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image for @assignment@.
# GRADESCOPE_ROOT replaces /autograder; AUTOGRADER_SKIP_INSTALL=1 skips apt-get and pip (tests).
set -euo pipefail
ROOT="${GRADESCOPE_ROOT:-/autograder}"
SRC="$ROOT/source"
if [ -z "${AUTOGRADER_SKIP_INSTALL:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq python3 python3-pip python3-venv
        # the sandbox for student code; without it the harness falls back and says so in every result
        apt-get install -y -qq bubblewrap || echo "WARNING: bubblewrap could not be installed" >&2
    fi
    python3 -m venv "$ROOT/env"
    "$ROOT/env/bin/python" -m pip install --quiet --upgrade "pip>=24"
    "$ROOT/env/bin/python" -m pip install --quiet -r "$SRC/requirements.txt"
fi
PY=python3
if [ -x "$ROOT/env/bin/python" ]; then PY="$ROOT/env/bin/python"; fi
# The source (references, course secret) readable by root only: student code that runs as an
# unprivileged user cannot read it.
if [ "$(id -u)" = "0" ]; then chown -R root:root "$SRC"; fi
chmod -R go-rwx "$SRC"
# Except the data files the spec names (students have them anyway), which the sandbox gives to
# student code: readable, and the folders on their way open for passing through, not for listing.
for f in @public_files@; do
    chmod o+r "$SRC/$f"
    d=$(dirname "$f")
    while [ "$d" != "." ]; do chmod o+x "$SRC/$d"; d=$(dirname "$d"); done
    chmod o+x "$SRC"
done
# Grade the untouched template once, with the source locked as it will be: a harness that cannot
# grade here fails the image build, where the instructor sees it, not every student's submission.
PYTHONPATH="$SRC" "$PY" -m autograder.gradescope selfcheck
