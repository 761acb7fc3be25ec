import {
  V1Deployment,
  V1Pod,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

export function revisionOf(obj: {
  metadata?: { annotations?: Record<string, string> };
}) {
  return Number(obj.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
}

export function imageOf(template?: V1PodTemplateSpec): string {
  return template?.spec?.containers?.[0]?.image ?? '';
}

/** Sets the first container's image, as `kubectl set image` does for a one-container workload. */
export function setImage(template: V1PodTemplateSpec, image: string) {
  const container = template.spec?.containers?.[0];
  if (container) container.image = image;
}

export function matches(
  labels: Record<string, string> | undefined,
  selector: Record<string, string> | undefined,
) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The ReplicaSets a Deployment owns, newest revision first. */
export function replicaSetsOf(
  cache: ClusterCache,
  deployment: V1Deployment,
): V1ReplicaSet[] {
  const ns = deployment.metadata!.namespace!;
  const uid = deployment.metadata?.uid;
  return cache.replicaSets
    .list(ns)
    .filter(rs =>
      (rs.metadata?.ownerReferences ?? []).some(
        o =>
          o.kind === 'Deployment' &&
          (uid ? o.uid === uid : o.name === deployment.metadata?.name),
      ),
    )
    .sort((a, b) => revisionOf(b) - revisionOf(a));
}

export function currentReplicaSet(
  cache: ClusterCache,
  deployment: V1Deployment,
) {
  return replicaSetsOf(cache, deployment)[0];
}

export function podsOf(
  cache: ClusterCache,
  rs: V1ReplicaSet | undefined,
): V1Pod[] {
  if (!rs) return [];
  const ns = rs.metadata!.namespace!;
  return cache.pods
    .list(ns)
    .filter(
      p =>
        !p.metadata?.deletionTimestamp &&
        ((p.metadata?.ownerReferences ?? []).some(
          o => o.uid && o.uid === rs.metadata?.uid,
        ) ||
          matches(p.metadata?.labels, rs.spec?.selector?.matchLabels)),
    );
}

export function podReady(pod: V1Pod) {
  return (pod.status?.conditions ?? []).some(
    c => c.type === 'Ready' && c.status === 'True',
  );
}

/** A pod whose containers crash and restart: CrashLoopBackOff, or restarted and down again. */
export function podCrashLooping(pod: V1Pod) {
  return (pod.status?.containerStatuses ?? []).some(
    s =>
      s.state?.waiting?.reason === 'CrashLoopBackOff' ||
      s.state?.terminated?.reason === 'Error' ||
      ((s.restartCount ?? 0) > 0 && !s.ready),
  );
}

/** The Deployment finished rolling out its current template (what `kubectl rollout status` waits for). */
export function deploymentComplete(d: V1Deployment) {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) >= want
  );
}

export function deploymentDeadlineExceeded(d: V1Deployment) {
  return (d.status?.conditions ?? []).some(
    c =>
      c.type === 'Progressing' &&
      c.status === 'False' &&
      c.reason === 'ProgressDeadlineExceeded',
  );
}

export function clone<T>(obj: T): T {
  return JSON.parse(JSON.stringify(obj));
}

/** Kubernetes timestamps arrive as Date objects from client-node; views carry ISO strings. */
export function isoTime(value: Date | string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
