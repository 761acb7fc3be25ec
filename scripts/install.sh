#!/usr/bin/env bash
# Installs the workspace's dependencies when yarn.lock or a package.json changed since the last
# install, and does nothing otherwise (so a second `make start` starts at once).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh

stamp=node_modules/.install-stamp
want=$( { node --version; cat yarn.lock package.json packages/*/package.json plugins/*/package.json test/package.json; } | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "install: yarn install (first time on a machine takes a few minutes)..."
if [ -n "${CI:-}" ]; then
  yarn install --immutable
else
  yarn install
fi
echo "$want" > "$stamp"
