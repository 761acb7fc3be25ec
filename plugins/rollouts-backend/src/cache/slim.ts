import {
  KubernetesObject,
  V1ObjectMeta,
  V1Pod,
  V1PodCondition,
  V1ContainerStatus,
} from '@kubernetes/client-node';

/**
 * What the cache keeps of an object as it arrives, one function per kind.
 *
 * Every kind loses `managedFields` (often half of an object's bytes; the engine never reads them,
 * and a replace without them keeps the server's). Deployments, ReplicaSets, Services and the rest
 * stay whole otherwise: the engine copies a primary's pod template into its canary, compares
 * Argo's templates, and replaces Deployments and Services it read, so a field dropped there would
 * be a field it erased in the cluster.
 */
export function withoutManagedFields<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * Pods keep only what the health gate and the change tracing read: identity, labels, controlling
 * owner, deletion, readiness and container states; never their spec (pods are read, never written).
 */
export function podEssentials(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const metadata: V1ObjectMeta = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    labels: m.labels,
    ownerReferences: m.ownerReferences?.map(o => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      uid: o.uid,
      controller: o.controller,
    })),
  };
  if (m.creationTimestamp) metadata.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp) metadata.deletionTimestamp = m.deletionTimestamp;
  const s = pod.status;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    status: s && {
      phase: s.phase,
      conditions: s.conditions?.map(
        (c): V1PodCondition => ({ type: c.type, status: c.status }),
      ),
      containerStatuses: s.containerStatuses?.map(
        (c): V1ContainerStatus =>
          ({
            name: c.name,
            ready: c.ready,
            restartCount: c.restartCount,
            state: c.state && {
              waiting: c.state.waiting && { reason: c.state.waiting.reason },
              terminated: c.state.terminated && {
                reason: c.state.terminated.reason,
              },
            },
          } as V1ContainerStatus),
      ),
    },
  };
}
