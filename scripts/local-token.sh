#!/usr/bin/env bash
# Prints this machine's static token for local scripts (scripts/demo.mjs, your own curl), making it
# on first use: random, in .local/ci-token (git-ignored, readable by you only). The backend of
# `make start` accepts it for starting and reading rollouts and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
file=.local/ci-token
if [ ! -s "$file" ]; then
  mkdir -p .local
  (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))' > "$file")
fi
cat "$file"
