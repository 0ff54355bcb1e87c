#!/usr/bin/env bash
# ensure-debian-package.sh PACKAGE BINARY: install a Debian package when BINARY is missing and we may
# (root or password-less sudo); otherwise fail with a message saying what to install.
set -euo pipefail
PACKAGE="$1"
BINARY="$2"
if command -v "$BINARY" >/dev/null 2>&1 || [ -x "$BINARY" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "$BINARY is missing and this user cannot install packages: install the Debian package '$PACKAGE'." >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$BINARY is missing and there is no apt-get here: install '$PACKAGE' by hand." >&2
    exit 1
fi
echo "Installing $PACKAGE (apt-get install $PACKAGE)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
echo "$PACKAGE installed."
