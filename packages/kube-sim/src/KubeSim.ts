import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { ObjectStore } from './store/ObjectStore';
import {
  ApiServer,
  KubeSimFaults,
  NO_FAULTS,
  RecordedWrite,
} from './api/ApiServer';
import { ControllerManager } from './controllers/ControllerManager';
import { podLogs, NODE_NAME, NODE_IP } from './controllers/kubelet';
import { findKind } from './api/resources';
import { buildMatcher } from './api/selectors';
import { TYPES } from './controllers/types';
import { loadSeed } from './seed';
import { PodMetricsOptions, PodMetricsServers } from './pods/PodMetricsServers';

export type { KubeSimFaults, RecordedWrite } from './api/ApiServer';

/** @public */
export interface KubeSimOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** `demo`, a path to a multi-document YAML file, or objects. */
  seed?: 'demo' | string | object[];
  /** 1 = real seconds (default); 0.05 runs the controllers twenty times faster. */
  timeScale?: number;
  faults?: Partial<KubeSimFaults>;
  log?: (line: string) => void;
  /** How many changes watches can resume from before they get 410 Gone. Default 10000. */
  watchCacheSize?: number;
  /**
   * Running pods annotated `prometheus.io/scrape: "true"` serve `/metrics` on their own 127.x pod
   * IP (request counts, errors and latencies their image tag decides: `-errors`, `-slow`), so a
   * real Prometheus can scrape them. Off by default.
   */
  podMetrics?: boolean | PodMetricsOptions;
}

/** @public */
export interface KubeSim {
  url: string;
  port: number;
  /**
   * With `podMetrics`: the pod list (Prometheus' `file_sd_configs` format, the labels of its
   * Kubernetes discovery) that `startPrometheus` scrapes from.
   */
  prometheusTargetsFile?: string;
  /** A kubeconfig (cluster server = url, a token user) for kubectl and client libraries. */
  kubeconfig(): string;
  control: {
    setFaults(f: Partial<KubeSimFaults>): void;
    clearFaults(): void;
    requestCounts(): { total: number; byType: Record<string, number> };
    resetCounts(): void;
    /** Watch streams open now, and the events and bytes they carried since `resetCounts`, by resource. */
    watchStats(): {
      open: Record<string, number>;
      traffic: Record<string, { events: number; bytes: number }>;
    };
    latencies(): Record<string, number[]>;
    /** The last 1000 writes received (oldest first), optionally only those whose path contains `pathPart`. */
    writes(pathPart?: string): RecordedWrite[];
    resetWrites(): void;
    apply(objects: object[]): Promise<void>;
    get(
      apiVersion: string,
      kind: string,
      namespace: string,
      name: string,
    ): any | undefined;
    list(
      apiVersion: string,
      kind: string,
      namespace?: string,
      labelSelector?: string,
    ): any[];
    waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
    /**
     * Makes the readiness probes of a pod's containers fail (`failing: true`: the application
     * answers its probe with 503) or pass again. The kubelet reports it at once, as a real one
     * does once the probe failed `failureThreshold` times (or passed once): containers with a
     * readiness probe `ready: false`, the pod's `Ready` and `ContainersReady` conditions `False`
     * (`ContainersNotReady`), an `Unhealthy` warning; then the ReplicaSet's and Deployment's
     * `readyReplicas` and the Endpoints follow. Throws for an unknown pod.
     */
    setReadinessFailing(
      namespace: string,
      name: string,
      failing: boolean,
    ): void;
  };
  close(): Promise<void>;
}

function mustType(apiVersion: string, kind: string) {
  const type = findKind(apiVersion, kind);
  if (!type) throw new Error(`kube-sim: unknown kind ${apiVersion} ${kind}`);
  return type;
}

/** Creates the objects every cluster starts with: namespaces, the node, the `kubernetes` Service. */
function bootstrap(store: ObjectStore) {
  for (const name of [
    'default',
    'kube-system',
    'kube-public',
    'kube-node-lease',
  ]) {
    store.create(TYPES.namespaces, { metadata: { name } });
  }
  store.create(TYPES.nodes, {
    metadata: {
      name: NODE_NAME,
      labels: {
        'kubernetes.io/hostname': NODE_NAME,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: {},
  });
  const node = store.get(TYPES.nodes, '', NODE_NAME)!;
  const n = structuredClone(node.obj);
  n.status = {
    capacity: { cpu: '8', memory: '16Gi', pods: '110' },
    allocatable: { cpu: '8', memory: '16Gi', pods: '110' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status (simulated by kube-sim)',
        lastHeartbeatTime: n.metadata.creationTimestamp,
        lastTransitionTime: n.metadata.creationTimestamp,
      },
    ],
    addresses: [
      { type: 'InternalIP', address: NODE_IP },
      { type: 'Hostname', address: NODE_NAME },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.32.0-kube-sim',
      containerRuntimeVersion: 'containerd://simulated',
      operatingSystem: 'linux',
      architecture: 'amd64',
      osImage: 'kube-sim',
      kernelVersion: 'n/a',
      kubeProxyVersion: 'v1.32.0-kube-sim',
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
  };
  store.update(TYPES.nodes, n, { subresource: 'status' });
  store.create(TYPES.services, {
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      clusterIP: '127.96.0.1',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
  });
}

/** Creates or replaces objects as `kubectl apply` would leave them (namespaces first). */
function applyObjects(store: ObjectStore, objects: object[]) {
  const sorted = [...objects].sort(
    (a: any, b: any) =>
      (a?.kind === 'Namespace' ? 0 : 1) - (b?.kind === 'Namespace' ? 0 : 1),
  );
  for (const o of sorted as any[]) {
    const type = mustType(String(o?.apiVersion), String(o?.kind));
    const ns = type.namespaced ? o.metadata?.namespace || 'default' : '';
    const current = store.get(type, ns, o.metadata?.name);
    if (!current) store.create(type, o);
    else {
      const next = structuredClone(o);
      next.metadata = {
        ...next.metadata,
        namespace: type.namespaced ? ns : undefined,
        resourceVersion: undefined,
      };
      store.update(type, next);
    }
  }
}

/** @public */
export async function startKubeSim(
  options: KubeSimOptions = {},
): Promise<KubeSim> {
  const log = options.log ?? (() => {});
  const timeScale = options.timeScale ?? 1;
  const store = new ObjectStore(options.watchCacheSize ?? 10000);
  bootstrap(store);
  const controllers = new ControllerManager(store, timeScale, log);
  const api = new ApiServer({
    store,
    timeScale,
    log,
    onWrite: () => controllers.kick(),
    podLogs,
  });
  api.faults = { ...NO_FAULTS, ...(options.faults ?? {}) };
  if (options.seed) applyObjects(store, loadSeed(options.seed));
  controllers.start();
  const metricsOptions =
    options.podMetrics === true ? {} : options.podMetrics || undefined;
  const targetsDir =
    metricsOptions && !metricsOptions.targetsFile
      ? mkdtempSync(path.join(os.tmpdir(), 'kube-sim-targets-'))
      : undefined;
  const targetsFile =
    metricsOptions &&
    (metricsOptions.targetsFile ?? path.join(targetsDir!, 'pods.json'));
  const podMetrics = metricsOptions
    ? new PodMetricsServers(store, log, { ...metricsOptions, targetsFile })
    : undefined;

  const server = http.createServer(api.handler);
  server.keepAliveTimeout = 65000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  api.serverAddress = `${urlHost}:${port}`;
  log(`kube-sim listening on ${url}`);

  const control: KubeSim['control'] = {
    setFaults(f) {
      api.faults = { ...api.faults, ...f };
      api.applyWatchFaults();
    },
    clearFaults() {
      api.faults = { ...NO_FAULTS };
      api.applyWatchFaults();
    },
    requestCounts() {
      return {
        total: api.totalRequests,
        byType: Object.fromEntries(api.counts),
      };
    },
    watchStats() {
      return {
        open: api.openWatches(),
        traffic: Object.fromEntries(
          [...api.watchTraffic].map(([k, v]) => [k, { ...v }]),
        ),
      };
    },
    resetCounts() {
      api.watchTraffic.clear();
      api.counts.clear();
      api.totalRequests = 0;
      api.latencyByType.clear();
    },
    latencies() {
      return Object.fromEntries(
        [...api.latencyByType].map(([k, v]) => [k, [...v]]),
      );
    },
    writes(pathPart) {
      return api.writes
        .filter(w => !pathPart || w.path.includes(pathPart))
        .map(w => structuredClone(w));
    },
    resetWrites() {
      api.writes.length = 0;
    },
    async apply(objects) {
      applyObjects(store, objects);
      controllers.kick();
    },
    setReadinessFailing(namespace, name, failing) {
      const pod = store.get(TYPES.pods, namespace, name);
      if (!pod) {
        throw new Error(`kube-sim: no pod ${namespace}/${name}`);
      }
      controllers.ctx.pods.timeline(pod.obj.metadata.uid).readinessFailing =
        failing;
      controllers.touchPod(namespace, name);
    },
    get(apiVersion, kind, namespace, name) {
      const type = mustType(apiVersion, kind);
      const s = store.get(type, namespace, name);
      return s ? JSON.parse(s.json) : undefined;
    },
    list(apiVersion, kind, namespace, labelSelector) {
      const type = mustType(apiVersion, kind);
      const matcher = buildMatcher(labelSelector ?? null, null);
      return store
        .list(type, namespace)
        .filter(s => !matcher || matcher(s.obj))
        .map(s => JSON.parse(s.json));
    },
    waitFor(predicate, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          let ok = false;
          try {
            ok = predicate();
          } catch {
            ok = false;
          }
          if (ok) {
            resolve();
            return;
          }
          if (Date.now() - started > timeoutMs) {
            reject(
              new Error(`kube-sim: condition not met within ${timeoutMs} ms`),
            );
            return;
          }
          setTimeout(check, 10);
        };
        check();
      });
    },
  };

  return {
    url,
    port,
    prometheusTargetsFile: targetsFile,
    kubeconfig: () => kubeconfigYaml(url),
    control,
    async close() {
      controllers.stop();
      await podMetrics?.close();
      if (targetsDir) rmSync(targetsDir, { recursive: true, force: true });
      api.closeWatches();
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}

/** @public */
export function kubeconfigYaml(url: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: kube-sim',
    '    cluster:',
    `      server: ${url}`,
    '      insecure-skip-tls-verify: true',
    'contexts:',
    '  - name: kube-sim',
    '    context:',
    '      cluster: kube-sim',
    '      user: kube-sim',
    '      namespace: default',
    'current-context: kube-sim',
    'users:',
    '  - name: kube-sim',
    '    user:',
    '      token: kube-sim-development-token',
    'preferences: {}',
    '',
  ].join('\n');
}
