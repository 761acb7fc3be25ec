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

export function reconcileEndpoints(ctx: ControllerContext) {
  let mine = managed.get(ctx.store);
  if (!mine) {
    mine = new Set();
    managed.set(ctx.store, mine);
  }
  for (const e of ctx.store.all(TYPES.endpoints)) {
    if (
      mine.has(e.obj.metadata.uid) &&
      !ctx.store.get(
        TYPES.services,
        e.obj.metadata.namespace,
        e.obj.metadata.name,
      )
    ) {
      ctx.store.delete(
        TYPES.endpoints,
        e.obj.metadata.namespace,
        e.obj.metadata.name,
      );
      mine.delete(e.obj.metadata.uid);
    }
  }
  for (const s of ctx.store.all(TYPES.services)) {
    const svc = s.obj;
    const selector = svc.spec?.selector;
    if (!selector || !Object.keys(selector).length) continue;
    const reqs = requirementsFromSelector({ matchLabels: selector });
    const pods = ctx.store
      .all(TYPES.pods, svc.metadata.namespace)
      .map(p => p.obj)
      .filter(
        p =>
          !p.metadata.deletionTimestamp &&
          p.status?.podIP &&
          p.spec?.nodeName &&
          labelsMatch(p.metadata.labels, reqs),
      );
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
}
