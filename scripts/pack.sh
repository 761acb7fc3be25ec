#!/usr/bin/env bash
# scripts/pack.sh DEST: builds and packs every publishable package of this repository (every
# workspace that is not "private") into DEST as <name without its scope>.tgz, the tarballs that the
# README's "Install into your Backstage" installs until the packages are on a registry.
set -euo pipefail
dest=$(realpath -m "${1:?usage: scripts/pack.sh DEST}")
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
mkdir -p "$dest"
yarn tsc
dirs=$(yarn workspaces list --json | node -e '
  const fs = require("fs");
  for (const line of fs.readFileSync(0, "utf8").trim().split("\n")) {
    const { location } = JSON.parse(line);
    const pkg = JSON.parse(fs.readFileSync(`${location}/package.json`, "utf8"));
    if (location !== "." && !pkg.private) console.log(`${location} ${pkg.name.replace(/^@[^/]+\//, "")}`);
  }')
while read -r dir name; do
  echo "pack: $dir -> $dest/$name.tgz"
  (cd "$dir" && yarn backstage-cli package build && yarn pack --out "$dest/$name.tgz" >/dev/null)
done <<< "$dirs"
