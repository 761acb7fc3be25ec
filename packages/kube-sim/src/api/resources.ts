/**
 * The resource types the simulator serves, as discovery describes them. One table drives discovery,
 * routing, OpenAPI and storage, so a kind is either fully served or not at all.
 */

/** @public */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Writes to the main resource leave `status` alone; `/status` writes only `status`. */
  statusSubresource?: boolean;
  /** Serves `/scale` as autoscaling/v1 Scale backed by `spec.replicas`. */
  scaleSubresource?: boolean;
  /** `metadata.generation` counts spec changes. */
  generation?: boolean;
  /** Names must be DNS-1123 labels (no dots), as for Namespaces and Services. */
  dnsLabelName?: boolean;
  /** Read-only, computed on request (metrics.k8s.io) instead of stored. */
  computed?: boolean;
}

const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

function rt(
  group: string,
  version: string,
  plural: string,
  kind: string,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    plural,
    singular: kind.toLocaleLowerCase('en-US'),
    kind,
    listKind: `${kind}List`,
    namespaced: true,
    verbs: ALL_VERBS,
    ...extra,
  };
}

export const RESOURCE_TYPES: ResourceType[] = [
  rt('', 'v1', 'namespaces', 'Namespace', {
    namespaced: false,
    shortNames: ['ns'],
    statusSubresource: true,
    dnsLabelName: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  }),
  rt('', 'v1', 'nodes', 'Node', {
    namespaced: false,
    shortNames: ['no'],
    statusSubresource: true,
  }),
  rt('', 'v1', 'pods', 'Pod', {
    shortNames: ['po'],
    categories: ['all'],
    statusSubresource: true,
  }),
  rt('', 'v1', 'services', 'Service', {
    shortNames: ['svc'],
    categories: ['all'],
    statusSubresource: true,
    dnsLabelName: true,
  }),
  rt('', 'v1', 'endpoints', 'Endpoints', {
    singular: 'endpoints',
    listKind: 'EndpointsList',
    shortNames: ['ep'],
  }),
  rt('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  rt('', 'v1', 'secrets', 'Secret'),
  rt('', 'v1', 'events', 'Event', { shortNames: ['ev'] }),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  rt('', 'v1', 'limitranges', 'LimitRange', { shortNames: ['limits'] }),
  rt('', 'v1', 'resourcequotas', 'ResourceQuota', {
    shortNames: ['quota'],
    statusSubresource: true,
  }),
  rt('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', {
    shortNames: ['pvc'],
    statusSubresource: true,
  }),
  rt('apps', 'v1', 'deployments', 'Deployment', {
    shortNames: ['deploy'],
    categories: ['all'],
    statusSubresource: true,
    scaleSubresource: true,
    generation: true,
  }),
  rt('apps', 'v1', 'replicasets', 'ReplicaSet', {
    shortNames: ['rs'],
    categories: ['all'],
    statusSubresource: true,
    scaleSubresource: true,
    generation: true,
  }),
  rt('apps', 'v1', 'statefulsets', 'StatefulSet', {
    shortNames: ['sts'],
    categories: ['all'],
    statusSubresource: true,
    scaleSubresource: true,
    generation: true,
  }),
  rt('apps', 'v1', 'daemonsets', 'DaemonSet', {
    shortNames: ['ds'],
    categories: ['all'],
    statusSubresource: true,
    generation: true,
  }),
  rt('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  rt('batch', 'v1', 'jobs', 'Job', {
    categories: ['all'],
    statusSubresource: true,
    generation: true,
  }),
  rt('batch', 'v1', 'cronjobs', 'CronJob', {
    shortNames: ['cj'],
    categories: ['all'],
    statusSubresource: true,
    generation: true,
  }),
  rt('networking.k8s.io', 'v1', 'ingresses', 'Ingress', {
    shortNames: ['ing'],
    statusSubresource: true,
    generation: true,
  }),
  rt(
    'autoscaling',
    'v2',
    'horizontalpodautoscalers',
    'HorizontalPodAutoscaler',
    {
      shortNames: ['hpa'],
      categories: ['all'],
      statusSubresource: true,
    },
  ),
  rt(
    'autoscaling',
    'v1',
    'horizontalpodautoscalers',
    'HorizontalPodAutoscaler',
    {
      shortNames: ['hpa'],
      categories: ['all'],
      statusSubresource: true,
    },
  ),
  rt('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  // Stored and served; no disruption controller fills in its status (nothing here evicts pods).
  rt('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', {
    shortNames: ['pdb'],
    statusSubresource: true,
    generation: true,
  }),
  // The Gateway API's standard channel, as its CRDs serve it; controllers/gateways.ts reports on
  // routes the way a gateway implementation would (a simulation: nothing carries traffic).
  rt('gateway.networking.k8s.io', 'v1', 'gateways', 'Gateway', {
    shortNames: ['gtw'],
    categories: ['gateway-api'],
    statusSubresource: true,
    generation: true,
  }),
  rt('gateway.networking.k8s.io', 'v1', 'httproutes', 'HTTPRoute', {
    categories: ['gateway-api'],
    statusSubresource: true,
    generation: true,
  }),
  rt('', 'v1', 'persistentvolumes', 'PersistentVolume', {
    namespaced: false,
    shortNames: ['pv'],
    statusSubresource: true,
  }),
  // Argo Rollouts' CRD, served as its manifest installs it (status and scale subresources); the
  // controller behind it is controllers/argoRollouts.ts, a simulation of Argo Rollouts.
  rt('argoproj.io', 'v1alpha1', 'rollouts', 'Rollout', {
    shortNames: ['ro'],
    categories: ['all'],
    statusSubresource: true,
    scaleSubresource: true,
    generation: true,
  }),
  rt('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', {
    verbs: ['get', 'list'],
    computed: true,
  }),
  rt('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', {
    namespaced: false,
    verbs: ['get', 'list'],
    computed: true,
  }),
];

export function groupVersion(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Storage key: one store per group and plural, whatever the version it is served at. */
export function storageKey(t: { group: string; plural: string }): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

const byPath = new Map<string, ResourceType>();
const byKind = new Map<string, ResourceType>();
for (const t of RESOURCE_TYPES) {
  byPath.set(`${groupVersion(t)}/${t.plural}`, t);
  byKind.set(`${groupVersion(t)}/${t.kind}`, t);
}

export function findResource(
  gv: string,
  plural: string,
): ResourceType | undefined {
  return byPath.get(`${gv}/${plural}`);
}

export function findKind(
  apiVersion: string,
  kind: string,
): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function groupVersions(): Array<{ group: string; versions: string[] }> {
  const groups = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return [...groups.entries()].map(([group, versions]) => ({
    group,
    versions,
  }));
}
