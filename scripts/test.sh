#!/usr/bin/env bash
# `make test`: every check of the repository, in order, on a fresh machine or a warm one.
# Each stage runs even when an earlier one failed, so one run shows everything that is wrong;
# the last line counts the tests (and the checks that are not test runners) that passed and failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/.test-output"
rm -rf "$out" && mkdir -p "$out"

set -e
# The machine's own packages first, one apt-get at a time.
scripts/ensure-chromium.sh
BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING=$(scripts/ensure-postgres.sh)
export BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
PROMETHEUS_BIN=$(scripts/ensure-prometheus.sh)
export PROMETHEUS_BIN
# The real Kubernetes control plane that packages/kube-real's tests start: built once per machine
# into a cache outside the repository (about 10 minutes on 2 cores), found there at once afterwards.
# On a fresh machine it builds in the background while Node, the dependencies and the static checks
# take their turn (its apt-get runs now that the others are done); the unit stage waits for it.
packages/kube-real/scripts/build.sh >"$out/kube-real-build.log" 2>&1 &
kube_real_build=$!
trap 'kill $kube_real_build 2>/dev/null || true' EXIT
. scripts/toolchain.sh
# The real build of a generated Rust service needs cargo; rustup installs it under ~/.cargo/bin,
# which a non-login shell (CI) may not have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
scripts/install.sh
set +e

# Waits for the background build and prints what it said.
kube_real_built() {
  wait "$kube_real_build"; local rc=$?
  cat "$out/kube-real-build.log"
  return $rc
}

passed=0 failed=0 failures=()

# A stage that is a single check counts as one test.
check() {
  local name=$1; shift
  echo; echo "=== $name: $*"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - start)) s)"
  fi
}

# A stage that runs a test runner counts its tests from the JSON report it writes.
suite() {
  local name=$1 report=$2; shift 2
  echo; echo "=== $name: $*"
  local start=$SECONDS
  "$@"; local rc=$?
  local counts
  counts=$(node -e '
    const fs = require("fs");
    try { const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
          console.log(`${r.numPassedTests ?? r.passed ?? 0} ${r.numFailedTests ?? r.failed ?? 0}`); }
    catch { console.log("0 0"); }' "$report")
  local p=${counts% *} f=${counts#* }
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi   # a runner that crashed counts as a failure
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; echo "=== $name: ran no test"; fi
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" = 0 ] || failures+=("$name")
  echo "=== $name: $p passed, $f failed ($((SECONDS - start)) s)"
}

check types yarn tsc
check lint yarn backstage-cli repo lint
# The TypeScript sources as prettier writes them (the scripts under test/ keep their own wider style).
check format yarn prettier:check
# The backend image without a Docker engine: lint the Dockerfile, build the bundle it copies, check it.
check dockerfile scripts/check-dockerfile.sh
# The published packages' public API, against the committed report.api.md files (after the types
# stage, which writes dist-types): a change to it shows in review. `yarn build:api-reports` updates them.
check api-reports yarn check:api-reports
check kube-real-build kube_real_built
# --watchAll=false: outside CI the Backstage CLI would otherwise run only the tests of changed files.
suite unit "$out/jest.json" yarn backstage-cli repo test --ci --watchAll=false --json --outputFile="$out/jest.json"
suite e2e "$out/e2e.json" node test/e2e/run.mjs --report "$out/e2e.json"
# The packed packages in a fresh create-app app, by the README's install steps, new and legacy
# frontend, in Chromium (test/install/run.mjs; it stops itself after 40 minutes).
suite install "$out/install.json" node test/install/run.mjs --report "$out/install.json"

echo
[ ${#failures[@]} = 0 ] || echo "Failed stages: ${failures[*]}"
echo "Total: $passed passed, $failed failed"
[ "$failed" = 0 ]
