#!/usr/bin/env bash
# `make start`: kube-sim seeded with the demo services on :6550, then the backend (:7007) and the
# app (:3000) on the embedded defaults of app-config.yaml (in-memory SQLite, guest sign-in).
# `make start CLUSTER=real`: the same portal on a real Kubernetes control plane (packages/kube-real,
# built once per machine) with simulated nodes, the portal's RBAC roles and the demo workloads.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
scripts/install.sh

# The static token of local scripts: random per machine, never one written in the repository.
ROLLOUTS_CI_TOKEN=$(scripts/local-token.sh)
export ROLLOUTS_CI_TOKEN
echo "Local scripts' token (starts and reads rollouts only): $ROLLOUTS_CI_TOKEN  (in .local/ci-token)"

# The release pipeline's clusters, staging and production: two more kube-sims (in either mode).
pipeline_pids=()
for stage in staging:6551 production:6552; do
  name=${stage%%:*} port=${stage##*:}
  mkdir -p .kube-sim
  node packages/kube-sim/bin/kube-sim --port "$port" --seed packages/kube-sim/seeds/checkout-api.yaml > ".kube-sim/kube-sim-$name.log" 2>&1 &
  pipeline_pids+=($!)
  export "KUBE_SIM_$(echo "$name" | tr a-z A-Z)_URL=http://127.0.0.1:$port"
done
trap 'kill "${pipeline_pids[@]}" 2>/dev/null || true' EXIT
for port in 6551 6552; do
  for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$port/version" >/dev/null && break
    sleep 0.5
  done
done
echo "kube-sim clusters staging (:6551) and production (:6552); logs in .kube-sim/"

config_args=()
case "${CLUSTER:-sim}" in
  sim)
    KUBE_SIM_PORT=${KUBE_SIM_PORT:-6550}
    export KUBE_SIM_URL="http://127.0.0.1:${KUBE_SIM_PORT}"
    mkdir -p .kube-sim
    # With Prometheus on the machine (scripts/ensure-prometheus.sh installs it, as make test does),
    # kube-sim's pods serve /metrics and a Prometheus on loopback scrapes them: payments-api's
    # canary is then analysed live. Without it, no analysis is configured.
    analysis_args=()
    if command -v prometheus >/dev/null 2>&1; then
      PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
      analysis_args=(--prometheus-port "$PROMETHEUS_PORT")
    fi
    node packages/kube-sim/bin/kube-sim --port "$KUBE_SIM_PORT" --seed demo "${analysis_args[@]}" > .kube-sim/kube-sim.log 2>&1 &
    sim_pid=$!
    trap 'kill $sim_pid "${pipeline_pids[@]}" 2>/dev/null || true' EXIT
    for _ in $(seq 1 60); do
      curl -sf "$KUBE_SIM_URL/version" >/dev/null && break
      kill -0 $sim_pid 2>/dev/null || { cat .kube-sim/kube-sim.log; exit 1; }
      sleep 0.5
    done
    echo "kube-sim (local development cluster) on $KUBE_SIM_URL; log in .kube-sim/kube-sim.log"
    if [ ${#analysis_args[@]} -gt 0 ]; then
      for _ in $(seq 1 60); do
        curl -sf "http://127.0.0.1:${PROMETHEUS_PORT}/-/ready" >/dev/null && break
        kill -0 $sim_pid 2>/dev/null || { cat .kube-sim/kube-sim.log; exit 1; }
        sleep 0.5
      done
      # The engine's credential entry again (config arrays replace, they do not merge), with Prometheus.
      cat > .kube-sim/app-config.analysis.yaml <<YAML
rollouts:
  clusters:
    - name: local
      serviceAccountToken: kube-sim-rollouts
      prometheus:
        url: http://127.0.0.1:${PROMETHEUS_PORT}
YAML
      config_args=(--config "$PWD/app-config.yaml" --config "$PWD/.kube-sim/app-config.analysis.yaml")
      curl -sf -X PATCH -H 'content-type: application/merge-patch+json' \
        -d '{"metadata":{"annotations":{"rollouts.backstage.io/analysis":"payments-api-analysis"}}}' \
        "$KUBE_SIM_URL/apis/apps/v1/namespaces/payments/deployments/payments-api" >/dev/null
      echo "Prometheus on http://127.0.0.1:${PROMETHEUS_PORT}: payments-api's canary is analysed (error ratio, p99 latency)"
    else
      echo "prometheus not installed (scripts/ensure-prometheus.sh): canary analysis is not configured in the demo"
    fi
    ;;
  real)
    # The first build takes about 10 minutes on 2 cores (612 s measured under load); later runs find the binaries in the cache.
    packages/kube-real/scripts/build.sh
    state=.kube-real
    rm -rf "$state" && mkdir -p "$state"
    node packages/kube-real/bin/kube-real --state-dir "$state" \
      --apply plugins/rollouts-backend/rbac/rollouts-engine.yaml \
      --apply plugins/rollouts-backend/rbac/kubernetes-plugin-reader.yaml \
      --apply packages/kube-real/manifests/token-users.yaml \
      --seed demo > .kube-real.log 2>&1 &
    real_pid=$!
    trap 'kill $real_pid "${pipeline_pids[@]}" 2>/dev/null || true' EXIT
    # It writes the portal's cluster entry once the cluster is up and the demo is applied.
    for _ in $(seq 1 600); do
      [ -f "$state/app-config.yaml" ] && break
      kill -0 $real_pid 2>/dev/null || { cat .kube-real.log; exit 1; }
      sleep 0.5
    done
    [ -f "$state/app-config.yaml" ] || { cat .kube-real.log; echo "kube-real did not come up" >&2; exit 1; }
    tail -1 .kube-real.log
    config_args=(--config "$PWD/app-config.yaml" --config "$PWD/$state/app-config.yaml")
    ;;
  *) echo "CLUSTER must be sim (default) or real, not '${CLUSTER}'" >&2; exit 2 ;;
esac
# Once the backend is up, the demo rollouts are started through its API (as CI would).
node scripts/demo.mjs http://localhost:7007 &
yarn start "${config_args[@]}"
