import { ControllerContext, TYPES, controllerOf } from './types';
import { randomSuffix } from '../store/ObjectStore';

/** ReplicaSet -> Pods: keeps `spec.replicas` pods alive and reports how many are ready and available. */

function podRank(pod: any): number {
  // Deletion order of the real controller, roughly: unscheduled, pending, not ready, ready.
  if (!pod.spec.nodeName) return 0;
  if (pod.status?.phase !== 'Running') return 1;
  const ready = (pod.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
  return ready ? 3 : 2;
}

export function isPodReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
}

/**
 * Reconciles one ReplicaSet with its pods (`controlled`: the pods that name it as an owner; those
 * it does not control or that are being deleted are skipped). Returns when one of its ready pods
 * becomes available (after `minReadySeconds`), or undefined.
 */
export function reconcileReplicaSet(
  ctx: ControllerContext,
  rs: any,
  controlled: any[],
  now = Date.now(),
): number | undefined {
  if (rs.metadata.deletionTimestamp) return undefined;
  const pods = controlled.filter(
    p =>
      !p.metadata.deletionTimestamp && controllerOf(p)?.uid === rs.metadata.uid,
  );
  const want = rs.spec.replicas ?? 1;
  if (pods.length < want) {
    for (let i = pods.length; i < want; i++) {
      const template = structuredClone(rs.spec.template ?? {});
      const pod = ctx.store.create(TYPES.pods, {
        metadata: {
          name: `${rs.metadata.name}-${randomSuffix(5)}`,
          namespace: rs.metadata.namespace,
          labels: template.metadata?.labels ?? {},
          ...(template.metadata?.annotations
            ? { annotations: template.metadata.annotations }
            : {}),
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: rs.metadata.name,
              uid: rs.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: template.spec,
      });
      pods.push(pod.obj);
      ctx.events.record(
        rs,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${pod.obj.metadata.name}`,
        'replicaset-controller',
      );
    }
  } else if (pods.length > want) {
    const victims = [...pods]
      .sort(
        (a, b) =>
          podRank(a) - podRank(b) ||
          b.metadata.creationTimestamp.localeCompare(
            a.metadata.creationTimestamp,
          ),
      )
      .slice(0, pods.length - want);
    for (const v of victims) {
      ctx.store.delete(TYPES.pods, v.metadata.namespace, v.metadata.name);
      ctx.pods.forget(v.metadata.uid);
      pods.splice(pods.indexOf(v), 1);
      ctx.events.record(
        rs,
        'Normal',
        'SuccessfulDelete',
        `Deleted pod: ${v.metadata.name}`,
        'replicaset-controller',
      );
    }
  }
  const minReady = ctx.duration(rs.spec.minReadySeconds ?? 0);
  const ready = pods.filter(isPodReady);
  let nextAt: number | undefined;
  const available = ready.filter(p => {
    const readyAt = ctx.pods.timeline(p.metadata.uid).readyAt;
    if (readyAt === undefined) return false;
    if (now - readyAt >= minReady) return true;
    if (nextAt === undefined || readyAt + minReady < nextAt)
      nextAt = readyAt + minReady;
    return false;
  });
  const status: any = {
    replicas: pods.length,
    fullyLabeledReplicas: pods.length,
    readyReplicas: ready.length,
    availableReplicas: available.length,
    observedGeneration: rs.metadata.generation,
  };
  for (const k of [
    'readyReplicas',
    'availableReplicas',
    'fullyLabeledReplicas',
  ]) {
    if (status[k] === 0) delete status[k];
  }
  if (JSON.stringify(status) !== JSON.stringify(rs.status ?? {})) {
    const next = structuredClone(rs);
    next.status = status;
    ctx.store.update(TYPES.replicasets, next, { subresource: 'status' });
  }
  return nextAt;
}
