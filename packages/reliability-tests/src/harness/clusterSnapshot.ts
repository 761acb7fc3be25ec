import { KubeSim } from '@rust-delivery-portal/kube-sim';

/** Every namespaced kind kube-sim serves that a portal door could write. */
const KINDS: Array<[string, string]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'ReplicaSet'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['v1', 'Endpoints'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'ServiceAccount'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['batch/v1', 'Job'],
];

/**
 * A namespace's objects as `kind/name -> { metadata, spec }` (resourceVersion, labels, annotations
 * included; status left out: controllers report on their own), plus the Namespace object itself.
 */
export function snapshotNamespace(sim: KubeSim, namespace: string) {
  const objects: Record<string, unknown> = {};
  const ns = sim.control.get('v1', 'Namespace', '', namespace);
  if (ns)
    objects[`Namespace/${namespace}`] = {
      metadata: ns.metadata,
      spec: ns.spec,
    };
  for (const [apiVersion, kind] of KINDS) {
    for (const o of sim.control.list(apiVersion, kind, namespace)) {
      objects[`${kind}/${o.metadata.name}`] = JSON.parse(
        JSON.stringify({
          metadata: o.metadata,
          spec: o.spec ?? o.data ?? null,
        }),
      );
    }
  }
  return objects;
}
export type NamespaceSnapshot = ReturnType<typeof snapshotNamespace>;

/**
 * Waits until the namespace stops changing (pods ready, controllers done), so that a later
 * comparison sees only what a request changed; returns that snapshot.
 */
export async function settledSnapshot(
  sim: KubeSim,
  namespace: string,
  timeoutMs = 30_000,
): Promise<NamespaceSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(snapshotNamespace(sim, namespace));
  for (;;) {
    await new Promise(r => setTimeout(r, 400));
    const now = JSON.stringify(snapshotNamespace(sim, namespace));
    if (now === last) return JSON.parse(now);
    if (Date.now() > deadline) {
      throw new Error(
        `namespace ${namespace} did not settle in ${timeoutMs} ms`,
      );
    }
    last = now;
  }
}

/** Keys whose objects differ between two snapshots (added, removed or changed). */
export function changedObjects(
  before: NamespaceSnapshot,
  after: NamespaceSnapshot,
) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter(k => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .sort();
}
