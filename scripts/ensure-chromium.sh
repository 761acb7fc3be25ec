#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium through playwright-core. Install it when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: /usr/bin/chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "ensure-chromium: apt-get installed no /usr/bin/chromium" >&2; exit 1; }
