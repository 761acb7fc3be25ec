import type { KubeSim } from '@rust-delivery-portal/kube-sim';

/** Every kind a refused apply could have touched, and the Secrets a pod would load. */
const WATCHED_KINDS = [
  ['v1', 'Namespace'],
  ['v1', 'ServiceAccount'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['apps/v1', 'Deployment'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
] as const;

/**
 * The objects of the cluster by `Kind namespace/name`, whole (resourceVersion included), so a
 * test can say the cluster is exactly as it was.
 */
export function clusterState(sim: KubeSim): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const [apiVersion, kind] of WATCHED_KINDS) {
    for (const object of sim.control.list(apiVersion, kind)) {
      state[
        `${kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`
      ] = object;
    }
  }
  return state;
}

/**
 * Objects of another service, `search-indexer` (in namespace `search` by default), bound to
 * `owner` (or to nobody), as a team that deployed before would have left them. The Deployment has
 * no replicas, so it settles at once.
 */
export function searchIndexerObjects(
  owner: string | undefined,
  namespace = 'search',
) {
  const metadata = (name: string) => ({
    name,
    namespace,
    labels: { 'app.kubernetes.io/name': 'search-indexer' },
    ...(owner
      ? { annotations: { 'rollouts.backstage.io/entity': owner } }
      : {}),
  });
  const selector = { 'app.kubernetes.io/name': 'search-indexer' };
  return {
    ServiceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: metadata('search-indexer'),
    },
    ConfigMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata('search-indexer-config'),
      data: { INDEX: 'products' },
    },
    Service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata('search-indexer'),
      spec: { selector, ports: [{ name: 'http', port: 80 }] },
    },
    Deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata('search-indexer'),
      spec: {
        replicas: 0,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            containers: [
              { name: 'search-indexer', image: 'ghcr.io/search/indexer:1.4.0' },
            ],
          },
        },
      },
    },
  };
}

/**
 * The cluster's state once its controllers are done with every Deployment (rolled out, all
 * replicas available), so nothing but the code under test changes it afterwards.
 */
export async function settledState(sim: KubeSim) {
  await sim.control.waitFor(
    () =>
      sim.control.list('apps/v1', 'Deployment').every(d => {
        const replicas = d.spec?.replicas ?? 1;
        const status = d.status ?? {};
        return (
          status.observedGeneration === d.metadata.generation &&
          (status.updatedReplicas ?? 0) === replicas &&
          (status.availableReplicas ?? 0) === replicas &&
          (status.readyReplicas ?? 0) === replicas &&
          (status.replicas ?? 0) === replicas
        );
      }),
    30_000,
  );
  return clusterState(sim);
}
