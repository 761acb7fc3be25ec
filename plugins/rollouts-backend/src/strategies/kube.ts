import {
  V1Deployment,
  V1Pod,
  V1PodTemplateSpec,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import { ConflictError } from '@backstage/errors';
import { ROLLOUT_LABELS } from '@rust-delivery-portal/plugin-rollouts-common';
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
  const uid = deployment.metadata?.uid;
  const owned = uid
    ? cache.replicaSets.ownedBy(uid)
    : cache.replicaSets
        .list(deployment.metadata!.namespace!)
        .filter(rs =>
          (rs.metadata?.ownerReferences ?? []).some(
            o =>
              o.kind === 'Deployment' && o.name === deployment.metadata?.name,
          ),
        );
  return owned.sort((a, b) => revisionOf(b) - revisionOf(a));
}

/**
 * The revision the primary Deployment gets when its next template goes live (Kubernetes gives the
 * ReplicaSet that becomes current the highest revision plus one, even an old one brought back):
 * what a canary or preview stands for in the primary's revision history.
 */
export function nextRevisionOf(cache: ClusterCache, primary: V1Deployment) {
  return (
    Math.max(
      revisionOf(primary),
      ...replicaSetsOf(cache, primary).map(revisionOf),
    ) + 1
  );
}

export function currentReplicaSet(
  cache: ClusterCache,
  deployment: V1Deployment,
) {
  return replicaSetsOf(cache, deployment)[0];
}

/** The live pods of a ReplicaSet: those it controls, or (without a uid) those its selector matches. */
export function podsOf(
  cache: ClusterCache,
  rs: V1ReplicaSet | undefined,
): V1Pod[] {
  if (!rs) return [];
  const uid = rs.metadata?.uid;
  const pods = uid
    ? cache.pods.ownedBy(uid)
    : cache.pods
        .list(rs.metadata!.namespace!)
        .filter(p =>
          matches(p.metadata?.labels, rs.spec?.selector?.matchLabels),
        );
  return pods.filter(p => !p.metadata?.deletionTimestamp);
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

/**
 * An object the engine would create, replace, delete or re-point is not its own: a Deployment of
 * the companion's name that is not labelled as the engine's for this workload, or a Service bound
 * to another entity. Reported (409 to an action, Degraded for a running rollout), never overwritten.
 */
export class SquattedObjectError extends ConflictError {}

export type CompanionRole = 'canary' | 'preview';

/**
 * Whether a Deployment is the engine's canary or preview of `primary`: labelled with that role and
 * the primary's name. (Companions carry no binding annotation of their own: they are found through
 * their primary, and a cluster's admission policy can then keep that annotation for the deployer.)
 */
export function isOwnCompanion(
  d: V1Deployment,
  primary: V1Deployment,
  role: CompanionRole,
): boolean {
  const labels = d.metadata?.labels ?? {};
  return (
    labels[ROLLOUT_LABELS.role] === role &&
    labels[ROLLOUT_LABELS.owner] === primary.metadata?.name
  );
}

export function squattedCompanion(
  d: V1Deployment,
  primary: V1Deployment,
  role: CompanionRole,
) {
  return new SquattedObjectError(
    `Deployment ${d.metadata?.namespace}/${d.metadata?.name} already exists and is not the ${role} the rollouts engine made for ${primary.metadata?.name}: rename or remove it, the engine will not overwrite it`,
  );
}

/**
 * The primary's canary or preview Deployment from the cache, when it is the engine's own; throws
 * SquattedObjectError when another Deployment holds the name (unless `ignoreSquatter`, for paths
 * that only tidy up and must leave it alone).
 */
export function ownCompanionOf(
  cache: ClusterCache,
  primary: V1Deployment,
  role: CompanionRole,
  name: string,
  opts: { ignoreSquatter?: boolean } = {},
): V1Deployment | undefined {
  const d = cache.deployments.get(primary.metadata!.namespace!, name);
  if (!d) return undefined;
  if (isOwnCompanion(d, primary, role)) return d;
  if (opts.ignoreSquatter) return undefined;
  throw squattedCompanion(d, primary, role);
}

/**
 * A Deployment that runs beside the primary one, the canary or the blue-green preview: the primary's
 * pod template with the new image, labelled with its role and owner so the engine finds it and the
 * primary's ReplicaSets never adopt its pods.
 */
export function companionDeployment(
  primary: V1Deployment,
  opts: {
    name: string;
    role: CompanionRole;
    image: string;
    replicas: number;
    /** Copy the primary's update strategy (the canary is replaced the way the primary is). */
    keepStrategy?: boolean;
  },
): V1Deployment {
  const roleLabels = {
    [ROLLOUT_LABELS.role]: opts.role,
    [ROLLOUT_LABELS.owner]: primary.metadata!.name!,
  };
  const template = clone(primary.spec!.template!);
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, ...roleLabels },
  };
  delete template.metadata.labels?.[POD_TEMPLATE_HASH];
  setImage(template, opts.image);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: opts.name,
      namespace: primary.metadata!.namespace,
      labels: { ...primary.metadata?.labels, ...roleLabels },
    },
    spec: {
      replicas: opts.replicas,
      selector: {
        matchLabels: {
          ...primary.spec?.selector?.matchLabels,
          ...roleLabels,
        },
      },
      template,
      ...(opts.keepStrategy ? { strategy: primary.spec?.strategy } : {}),
      progressDeadlineSeconds: primary.spec?.progressDeadlineSeconds,
    },
  };
}
