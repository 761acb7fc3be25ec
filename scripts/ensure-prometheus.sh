#!/usr/bin/env bash
# Installs Debian's Prometheus for the analysis tests (and `make start`'s demo) when it is
# missing, and prints the binary's path. Nothing is started here, and systemd is not relied on:
# each test starts its own Prometheus on a free loopback port (packages/kube-sim/src/testing).
set -euo pipefail
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-prometheus: prometheus is not installed and installing it needs root (apt-get install -y prometheus)" >&2
    exit 1
  fi
  echo "ensure-prometheus: installing Debian's prometheus package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2; }
  # The package's service would scrape the machine; the tests start their own instances.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl stop prometheus >&2 || true
  fi
fi
command -v prometheus
