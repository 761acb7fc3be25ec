#!/usr/bin/env bash
# `make bench`: the performance benchmark. Starts 3 kube-sim clusters and the real backend on free
# ports, seeds services, and prints figures side by side with the Backstage Kubernetes plugin
# (table on stdout, JSON in .bench-output/). Options are passed on: scripts/bench.sh --services 200
# (or BENCH_ARGS="--services 50" make bench). See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
scripts/install.sh
# shellcheck disable=SC2086
exec node test/bench/run.mjs ${BENCH_ARGS:-} "$@"
