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
# On a fresh machine the automatic updates that run at boot hold apt's locks for minutes: wait
# for them (up to APT_LOCK_TIMEOUT seconds) instead of failing. `install` waits for the dpkg
# lock itself (DPkg::Lock::Timeout); `update` does not wait for the package-lists lock (apt
# 2.6 fails at once), so it is retried while that lock is what stops it.
LOCK_TIMEOUT="${APT_LOCK_TIMEOUT:-600}"
LOCK_WAIT=(-o "DPkg::Lock::Timeout=$LOCK_TIMEOUT")
deadline=$((SECONDS + LOCK_TIMEOUT))
until output=$($SUDO apt-get "${LOCK_WAIT[@]}" update -qq 2>&1); do
    if ! grep -q "Could not get lock" <<<"$output" || [ "$SECONDS" -ge "$deadline" ]; then
        echo "$output" >&2
        exit 100
    fi
    echo "apt is busy (another package operation holds its lock); waiting..."
    sleep "${APT_LOCK_RETRY_SECONDS:-5}"
done
$SUDO apt-get "${LOCK_WAIT[@]}" install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
echo "$PACKAGE installed."
