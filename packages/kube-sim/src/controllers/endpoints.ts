import { ControllerContext, TYPES, canonical } from './types';
import { isPodReady } from './replicasets';
import { labelsMatch, requirementsFromSelector } from '../api/selectors';

/** Service -> Endpoints: ready pods that match the selector are addresses, the others not-ready addresses. */

function resolvePort(targetPort: unknown, pods: any[]): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(String(targetPort))) return Number(targetPort);
  for (const pod of pods) {
    for (const c of pod.spec?.containers ?? []) {
      const p = (c.ports ?? []).find((x: any) => x.name === targetPort);
      if (p) return p.containerPort;
    }
  }
  return undefined;
}

/** Endpoints this controller created; they go when their Service goes. */
const managed = new WeakMap<object, Set<string>>();

/** Pod IP order of the real controller (addresses sorted by IP, then uid), whatever order pods come in. */
function byIp(a: any, b: any): number {
  const x = String(a.status.podIP);
  const y = String(b.status.podIP);
  if (x !== y) return x < y ? -1 : 1;
  const u = String(a.metadata.uid);
  const v = String(b.metadata.uid);
  if (u === v) return 0;
  return u < v ? -1 : 1;
}

/**
 * Keeps the Endpoints of one Service (`namespace/name`) in step: creates or updates them from the
 * pods `candidates` gives for the selector (a superset: they are checked here), and removes the
 * Endpoints this controller created once the Service is gone.
 */
export function reconcileEndpoints(
  ctx: ControllerContext,
  namespace: string,
  name: string,
  candidates: (selector: Record<string, string>) => any[],
) {
  let mine = managed.get(ctx.store);
  if (!mine) {
    mine = new Set();
    managed.set(ctx.store, mine);
  }
  const s = ctx.store.get(TYPES.services, namespace, name);
  if (!s) {
    const e = ctx.store.get(TYPES.endpoints, namespace, name);
    if (e && mine.has(e.obj.metadata.uid)) {
      ctx.store.delete(TYPES.endpoints, namespace, name);
      mine.delete(e.obj.metadata.uid);
    }
    return;
  }
  const svc = s.obj;
  const selector = svc.spec?.selector;
  if (!selector || !Object.keys(selector).length) return;
  const reqs = requirementsFromSelector({ matchLabels: selector });
  const pods = candidates(selector)
    .filter(
      p =>
        p.metadata.namespace === svc.metadata.namespace &&
        !p.metadata.deletionTimestamp &&
        p.status?.podIP &&
        p.spec?.nodeName &&
        labelsMatch(p.metadata.labels, reqs),
    )
    .sort(byIp);
  const address = (p: any) => ({
    ip: p.status.podIP,
    nodeName: p.spec.nodeName,
    targetRef: {
      kind: 'Pod',
      namespace: p.metadata.namespace,
      name: p.metadata.name,
      uid: p.metadata.uid,
    },
  });
  const ready = pods.filter(isPodReady).map(address);
  const notReady = pods.filter(p => !isPodReady(p)).map(address);
  const ports = (svc.spec.ports ?? [])
    .map((p: any) => ({
      ...(p.name ? { name: p.name } : {}),
      port: resolvePort(p.targetPort ?? p.port, pods),
      protocol: p.protocol ?? 'TCP',
    }))
    .filter((p: any) => p.port !== undefined);
  const subsets =
    ready.length || notReady.length
      ? [
          {
            ...(ready.length ? { addresses: ready } : {}),
            ...(notReady.length ? { notReadyAddresses: notReady } : {}),
            ports,
          },
        ]
      : [];
  const current = ctx.store.get(
    TYPES.endpoints,
    svc.metadata.namespace,
    svc.metadata.name,
  );
  const labels = { ...(svc.metadata.labels ?? {}) };
  if (!current) {
    const created = ctx.store.create(TYPES.endpoints, {
      metadata: {
        name: svc.metadata.name,
        namespace: svc.metadata.namespace,
        labels,
      },
      subsets,
    });
    mine.add(created.obj.metadata.uid);
  } else if (
    canonical(current.obj.subsets ?? []) !== canonical(subsets) ||
    canonical(current.obj.metadata.labels ?? {}) !== canonical(labels)
  ) {
    const next = structuredClone(current.obj);
    next.subsets = subsets;
    next.metadata.labels = labels;
    ctx.store.update(TYPES.endpoints, next);
  }
}
