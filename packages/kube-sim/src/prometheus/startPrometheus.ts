import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** @public */
export interface PrometheusOptions {
  /** kube-sim's `prometheusTargetsFile` (kube-sim started with `podMetrics`). */
  targetsFile: string;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Seconds between scrapes (default 1). */
  scrapeIntervalSeconds?: number;
  /** The binary; default `$PROMETHEUS_BIN` or `prometheus` on PATH (scripts/ensure-prometheus.sh installs it). */
  binary?: string;
  log?: (line: string) => void;
}

/** @public */
export interface RunningPrometheus {
  /** Base URL of its HTTP API on 127.0.0.1, for `rollouts.clusters[].prometheus.url`. */
  url: string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its storage. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The `kubernetes-pods` job of Prometheus' example configuration over the pods kube-sim lists in
 * the `file_sd_configs` file (Debian's Prometheus has no `kubernetes_sd_configs`: it is built
 * without client-go, and refuses the key). Pods annotated
 * `prometheus.io/scrape: "true"`, at their `prometheus.io/port` and `prometheus.io/path`, with
 * every pod label as a Prometheus label (`app.kubernetes.io/name` becomes
 * `app_kubernetes_io_name`) plus `namespace` and `pod`. The label names the analysis queries use.
 * @public
 */
export function prometheusConfig(options: {
  targetsFile: string;
  scrapeIntervalSeconds: number;
}): string {
  const s = `${options.scrapeIntervalSeconds}s`;
  return `global:
  scrape_interval: ${s}
  scrape_timeout: ${s}
  evaluation_interval: ${s}
scrape_configs:
  - job_name: kubernetes-pods
    file_sd_configs:
      - files: [${JSON.stringify(options.targetsFile)}]
        refresh_interval: ${s}
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
        action: keep
        regex: "true"
      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\\d+)?;(\\d+)
        replacement: $1:$2
        target_label: __address__
      - action: labelmap
        regex: __meta_kubernetes_pod_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function findBinary(explicit?: string): string {
  const wanted = explicit ?? process.env.PROMETHEUS_BIN;
  if (wanted) return wanted;
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(
      'prometheus is not installed: run scripts/ensure-prometheus.sh (apt-get install -y prometheus)',
    );
  }
}

function exited(child: ChildProcess) {
  return new Promise<void>(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts a real Prometheus on a free 127.0.0.1 port with a temporary configuration and storage,
 * scraping the pods kube-sim lists. It connects to nothing else: kube-sim's pod IPs are 127.x
 * (the targets file holds nothing else), and it listens on 127.0.0.1 only.
 * @public
 */
export async function startPrometheus(
  options: PrometheusOptions,
): Promise<RunningPrometheus> {
  const binary = findBinary(options.binary);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    prometheusConfig({
      targetsFile: options.targetsFile,
      scrapeIntervalSeconds: options.scrapeIntervalSeconds ?? 1,
    }),
  );
  const port = options.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const log = options.log ?? (() => {});
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=2h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', chunk => {
    const text = String(chunk);
    stderr = (stderr + text).slice(-4000);
    for (const line of text.split('\n').filter(Boolean))
      log(`prometheus: ${line}`);
  });
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready in 30 s: ${stderr}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return { url, stop };
}
