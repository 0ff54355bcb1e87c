#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Installed when missing and we may (root or sudo);
# otherwise `make test` stops with a clear message: browser tests are never skipped.
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-package.sh" chromium "${CHROMIUM_PATH:-/usr/bin/chromium}"
