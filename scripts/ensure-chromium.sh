#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Install it when missing and we may (root or sudo);
# otherwise stop with a clear message: browser tests are part of the suite, never skipped.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "Chromium is missing at $CHROMIUM and this user cannot install packages." >&2
    echo "Install it (Debian/Ubuntu: 'apt-get install chromium') or set CHROMIUM_PATH, then run 'make test' again." >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing at $CHROMIUM and there is no apt-get here; install Chromium and set CHROMIUM_PATH." >&2
    exit 1
fi
echo "Installing Chromium for the browser tests (apt-get install chromium)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "Chromium install did not produce $CHROMIUM" >&2; exit 1; }
echo "Chromium installed: $("$CHROMIUM" --version)"
