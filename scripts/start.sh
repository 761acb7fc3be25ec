#!/usr/bin/env bash
# `make start`: kube-sim seeded with the demo services on :6550, then the backend (:7007) and the
# app (:3000) on the embedded defaults of app-config.yaml (in-memory SQLite, guest sign-in).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
scripts/install.sh

# The static token of local scripts: random per machine, never one written in the repository.
ROLLOUTS_CI_TOKEN=$(scripts/local-token.sh)
export ROLLOUTS_CI_TOKEN
echo "Local scripts' token (starts and reads rollouts only): $ROLLOUTS_CI_TOKEN  (in .local/ci-token)"

KUBE_SIM_PORT=${KUBE_SIM_PORT:-6550}
export KUBE_SIM_URL="http://127.0.0.1:${KUBE_SIM_PORT}"
mkdir -p .kube-sim
node packages/kube-sim/bin/kube-sim --port "$KUBE_SIM_PORT" --seed demo > .kube-sim/kube-sim.log 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "$KUBE_SIM_URL/version" >/dev/null && break
  kill -0 $sim_pid 2>/dev/null || { cat .kube-sim/kube-sim.log; exit 1; }
  sleep 0.5
done
echo "kube-sim (local development cluster) on $KUBE_SIM_URL; log in .kube-sim/kube-sim.log"
# Once the backend is up, the demo rollouts are started through its API (as CI would).
node scripts/demo.mjs http://localhost:7007 &
yarn start
