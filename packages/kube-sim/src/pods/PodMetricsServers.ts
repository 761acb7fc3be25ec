import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { ObjectStore, ChangeEvent } from '../store/ObjectStore';
import { TYPES } from '../controllers/types';
import { storageKey } from '../api/resources';
import { exposition, trafficBehaviour } from './trafficProfile';

const DEFAULT_PORT = 8080;

/** @public */
export interface PodMetricsOptions {
  /** Most pods serving at once (default 64); pods past it serve nothing and it is logged once. */
  maxServers?: number;
  /** Requests per second each pod pretends to serve (default 50). */
  requestsPerSecond?: number;
  /**
   * Where to keep the pod list for Prometheus' `file_sd_configs` (see prometheusTargets below);
   * KubeSim picks a temporary file when this is not given.
   */
  targetsFile?: string;
}

/** Prometheus' label-name rule, as its Kubernetes discovery applies it to label and annotation keys. */
function sanitize(name: string) {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * One pod as Prometheus' Kubernetes discovery (role `pod`) describes it: `__address__` at its IP
 * and first container port, and the `__meta_kubernetes_*` labels the usual `kubernetes-pods`
 * relabelling reads (namespace, name, phase, ready, labels, annotations). Debian's Prometheus is
 * built without `kubernetes_sd_configs`, so kube-sim writes this list for `file_sd_configs`
 * instead, and the same relabel rules give the same series labels.
 */
export function prometheusTarget(pod: any) {
  const labels: Record<string, string> = {
    __address__: `${pod.status.podIP}:${
      pod.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? DEFAULT_PORT
    }`,
    __meta_kubernetes_namespace: pod.metadata.namespace,
    __meta_kubernetes_pod_name: pod.metadata.name,
    __meta_kubernetes_pod_ip: pod.status.podIP,
    __meta_kubernetes_pod_phase: pod.status.phase ?? '',
    __meta_kubernetes_pod_ready: String(
      (pod.status.conditions ?? []).some(
        (c: any) => c.type === 'Ready' && c.status === 'True',
      ),
    ),
    __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
    __meta_kubernetes_pod_uid: pod.metadata.uid,
  };
  for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
    labels[`__meta_kubernetes_pod_label_${sanitize(k)}`] = String(v);
  }
  for (const [k, v] of Object.entries(pod.metadata.annotations ?? {})) {
    labels[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = String(v);
  }
  return { targets: [labels.__address__], labels };
}

/** The loopback address a pod's server binds: its pod IP, which kube-sim allocates in 127.244.0.0/16. */
function loopbackIp(pod: any): string | undefined {
  const ip = pod.status?.podIP;
  return typeof ip === 'string' && /^127\.\d+\.\d+\.\d+$/.test(ip)
    ? ip
    : undefined;
}

function metricsPort(pod: any): number {
  const annotated = Number(pod.metadata?.annotations?.['prometheus.io/port']);
  if (Number.isInteger(annotated) && annotated > 0) return annotated;
  return pod.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? DEFAULT_PORT;
}

function metricsPath(pod: any): string {
  return pod.metadata?.annotations?.['prometheus.io/path'] ?? '/metrics';
}

function running(pod: any): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status?.containerStatuses ?? []).some((c: any) => c.state?.running)
  );
}

interface PodServer {
  server: http.Server;
  ip: string;
  port: number;
}

/**
 * The simulated pods' own HTTP endpoints: every running pod annotated `prometheus.io/scrape:
 * "true"` listens on its pod IP (loopback only, never a private-range address) at its
 * `prometheus.io/port` and answers `prometheus.io/path` (default `/metrics`) with its traffic in
 * the exposition format. A server opens when its pod runs and closes when the pod stops or goes.
 */
export class PodMetricsServers {
  private readonly servers = new Map<string, PodServer>();
  private readonly starting = new Set<string>();
  private readonly unsubscribe: () => void;
  private warnedFull = false;
  private readonly maxServers: number;
  private readonly requestsPerSecond: number;
  private readonly targetsFile?: string;
  private targetsDue = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly log: (line: string) => void,
    options: PodMetricsOptions = {},
  ) {
    this.maxServers = options.maxServers ?? 64;
    this.requestsPerSecond = options.requestsPerSecond ?? 50;
    this.targetsFile = options.targetsFile;
    this.unsubscribe = store.subscribe(storageKey(TYPES.pods), e =>
      this.changed(e),
    );
    for (const s of store.list(TYPES.pods)) this.sync(s.obj);
    this.writeTargets();
  }

  /** The pods with an address, rewritten (atomically) once per burst of pod changes. */
  private targetsChanged() {
    if (!this.targetsFile || this.targetsDue) return;
    this.targetsDue = true;
    setImmediate(() => {
      this.targetsDue = false;
      this.writeTargets();
    });
  }

  private writeTargets() {
    if (!this.targetsFile) return;
    const targets = this.store
      .list(TYPES.pods)
      .map(s => s.obj)
      .filter(
        (p: any) =>
          !p.metadata?.deletionTimestamp &&
          loopbackIp(p) &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      )
      .map(prometheusTarget);
    const temp = `${this.targetsFile}.tmp`;
    writeFileSync(temp, JSON.stringify(targets, null, 1));
    renameSync(temp, this.targetsFile);
  }

  /** How many pods serve now (for tests of the bound). */
  get size() {
    return this.servers.size;
  }

  private changed(event: ChangeEvent) {
    this.targetsChanged();
    if (event.type === 'DELETED') this.stop(event.object.obj.metadata.uid);
    else this.sync(event.object.obj);
  }

  private sync(pod: any) {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const ip = loopbackIp(pod);
    const wanted =
      pod.metadata?.annotations?.['prometheus.io/scrape'] === 'true' &&
      running(pod) &&
      ip;
    if (!wanted) {
      this.stop(uid);
      return;
    }
    if (this.servers.has(uid) || this.starting.has(uid)) return;
    if (this.servers.size + this.starting.size >= this.maxServers) {
      if (!this.warnedFull) {
        this.log(
          `kube-sim: ${this.maxServers} pods already serve metrics; ${pod.metadata.namespace}/${pod.metadata.name} and later ones serve none`,
        );
        this.warnedFull = true;
      }
      return;
    }
    this.start(uid, pod, ip);
  }

  private start(uid: string, pod: any, ip: string) {
    const port = metricsPort(pod);
    const path = metricsPath(pod);
    const behaviour = trafficBehaviour(
      String(pod.spec?.containers?.[0]?.image ?? ''),
    );
    const since = Date.now();
    const server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === path) {
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        });
        res.end(
          exposition(
            behaviour,
            (Date.now() - since) / 1000,
            this.requestsPerSecond,
          ),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
    this.starting.add(uid);
    server.once('error', err => {
      this.starting.delete(uid);
      this.log(
        `kube-sim: pod ${pod.metadata.namespace}/${pod.metadata.name} cannot listen on ${ip}:${port}: ${err.message}`,
      );
    });
    server.listen(port, ip, () => {
      this.starting.delete(uid);
      this.servers.set(uid, { server, ip, port });
    });
  }

  private stop(uid: string) {
    const s = this.servers.get(uid);
    if (!s) return;
    this.servers.delete(uid);
    s.server.close();
    s.server.closeAllConnections?.();
  }

  /** Where a pod serves, if it does (tests scrape it directly). */
  addressOf(uid: string): string | undefined {
    const s = this.servers.get(uid);
    return s ? `${s.ip}:${s.port}` : undefined;
  }

  async close() {
    this.unsubscribe();
    await Promise.all(
      [...this.servers.values()].map(
        s =>
          new Promise<void>(resolve => {
            s.server.close(() => resolve());
            s.server.closeAllConnections?.();
          }),
      ),
    );
    this.servers.clear();
  }
}
