import { ObjectStore } from '../store/ObjectStore';
import { findResource } from './resources';

/**
 * metrics.k8s.io as metrics-server serves it, with simulated usage: steady per-container numbers
 * derived from the pod's uid, scaled to its requests, so `kubectl top` and the Backstage Kubernetes
 * plugin's resource bars have something plausible to show.
 */

const PODS = findResource('v1', 'pods')!;
const NODES = findResource('v1', 'nodes')!;

function seeded(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h % 1000) / 1000;
}

function parseCpu(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  return s.endsWith('m') ? Number(s.slice(0, -1)) : Number(s) * 1000;
}

function parseMemMi(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(String(v));
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] === 'Gi') return n * 1024;
  if (m[2] === 'Ki') return n / 1024;
  if (m[2] === 'Mi') return n;
  return n / 1024 / 1024;
}

function podMetrics(pod: any) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: now,
      labels: pod.metadata.labels ?? {},
    },
    timestamp: now,
    window: '15s',
    containers: (pod.spec?.containers ?? []).map((c: any) => {
      const r = seeded(`${pod.metadata.uid}/${c.name}`);
      const cpuBase = parseCpu(c.resources?.requests?.cpu) ?? 100;
      const memBase = parseMemMi(c.resources?.requests?.memory) ?? 64;
      return {
        name: c.name,
        usage: {
          cpu: `${Math.max(1, Math.round(cpuBase * (0.05 + 0.5 * r) * 1e6))}n`,
          memory: `${Math.max(
            1024,
            Math.round(memBase * (0.3 + 0.5 * r) * 1024),
          )}Ki`,
        },
      };
    }),
  };
}

function running(pod: any) {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

export function metricsList(
  store: ObjectStore,
  plural: string,
  namespace: string | undefined,
  matcher?: (o: any) => boolean,
) {
  if (plural === 'pods') {
    return {
      kind: 'PodMetricsList',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {},
      items: store
        .list(PODS, namespace)
        .map(s => s.obj)
        .filter(p => running(p) && (!matcher || matcher(p)))
        .map(podMetrics),
    };
  }
  const pods = store
    .list(PODS)
    .map(s => s.obj)
    .filter(running);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    kind: 'NodeMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {},
    items: store.list(NODES).map(s => ({
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {
        name: s.obj.metadata.name,
        labels: s.obj.metadata.labels ?? {},
        creationTimestamp: now,
      },
      timestamp: now,
      window: '20s',
      usage: {
        cpu: `${150 + pods.length * 12}m`,
        memory: `${(900 + pods.length * 48) * 1024}Ki`,
      },
    })),
  };
}

export function metricsItem(
  store: ObjectStore,
  plural: string,
  namespace: string,
  name: string,
) {
  const list = metricsList(
    store,
    plural,
    plural === 'pods' ? namespace : undefined,
  );
  return list.items.find((i: any) => i.metadata.name === name);
}
