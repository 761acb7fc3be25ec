/** `kubectl get`'s human-readable output asks for `meta.k8s.io/v1` Tables; these are the usual columns. */

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

type Column = {
  name: string;
  type: string;
  format?: string;
  value: (o: any) => unknown;
};

const NAME: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  value: o => o.metadata.name,
};
const AGE: Column = {
  name: 'Age',
  type: 'string',
  value: o => age(o.metadata.creationTimestamp),
};

function podStatus(o: any): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const c of o.status?.containerStatuses ?? []) {
    if (c.state?.waiting?.reason) return c.state.waiting.reason;
    if (c.state?.terminated?.reason) return c.state.terminated.reason;
  }
  return o.status?.phase ?? 'Pending';
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      value: o => {
        const cs = o.status?.containerStatuses ?? [];
        return `${cs.filter((c: any) => c.ready).length}/${
          o.spec?.containers?.length ?? 0
        }`;
      },
    },
    { name: 'Status', type: 'string', value: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      value: o =>
        String(
          (o.status?.containerStatuses ?? []).reduce(
            (n: number, c: any) => n + (c.restartCount ?? 0),
            0,
          ),
        ),
    },
    AGE,
  ],
  Deployment: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      value: o => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
    },
    {
      name: 'Up-to-date',
      type: 'integer',
      value: o => o.status?.updatedReplicas ?? 0,
    },
    {
      name: 'Available',
      type: 'integer',
      value: o => o.status?.availableReplicas ?? 0,
    },
    AGE,
  ],
  ReplicaSet: [
    NAME,
    { name: 'Desired', type: 'integer', value: o => o.spec?.replicas ?? 1 },
    { name: 'Current', type: 'integer', value: o => o.status?.replicas ?? 0 },
    {
      name: 'Ready',
      type: 'integer',
      value: o => o.status?.readyReplicas ?? 0,
    },
    AGE,
  ],
  Service: [
    NAME,
    { name: 'Type', type: 'string', value: o => o.spec?.type ?? 'ClusterIP' },
    {
      name: 'Cluster-IP',
      type: 'string',
      value: o => o.spec?.clusterIP ?? '<none>',
    },
    { name: 'External-IP', type: 'string', value: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      value: o =>
        (o.spec?.ports ?? [])
          .map((p: any) => `${p.port}/${p.protocol ?? 'TCP'}`)
          .join(','),
    },
    AGE,
  ],
  Namespace: [
    NAME,
    { name: 'Status', type: 'string', value: o => o.status?.phase ?? 'Active' },
    AGE,
  ],
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      value: o => age(o.lastTimestamp ?? o.metadata.creationTimestamp),
    },
    { name: 'Type', type: 'string', value: o => o.type },
    { name: 'Reason', type: 'string', value: o => o.reason },
    {
      name: 'Object',
      type: 'string',
      value: o =>
        `${String(o.involvedObject?.kind ?? '').toLocaleLowerCase('en-US')}/${
          o.involvedObject?.name
        }`,
    },
    { name: 'Message', type: 'string', value: o => o.message },
  ],
};

function rowObject(o: any, includeObject: string) {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: o.metadata,
  };
}

export function toTable(
  kind: string,
  objects: any[],
  listMeta: any,
  includeObject: string,
) {
  const columns = COLUMNS[kind] ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: columns.map(c => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.name,
      priority: 0,
    })),
    rows: objects.map(o => ({
      cells: columns.map(c => c.value(o)),
      object: rowObject(o, includeObject),
    })),
  };
}
