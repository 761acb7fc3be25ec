import { ConflictError, NotFoundError } from '@backstage/errors';
import { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import {
  POD_TEMPLATE_HASH,
  RESTARTED_AT_ANNOTATION,
  clone,
  imageOf,
  replicaSetsOf,
  revisionOf,
} from './kube';

/**
 * Finds the template `kubectl rollout undo [--to-revision]` would restore: the ReplicaSet of the
 * chosen revision, or the newest one older than the current revision.
 */
export function undoTarget(
  cache: ClusterCache,
  primary: V1Deployment,
  toRevision?: number,
) {
  const sets = replicaSetsOf(cache, primary);
  const current = revisionOf(primary);
  const rs =
    toRevision !== undefined
      ? sets.find(s => revisionOf(s) === toRevision)
      : sets.find(
          s =>
            revisionOf(s) !== current && revisionOf(s) < (current || Infinity),
        );
  if (!rs) {
    if (toRevision !== undefined) {
      throw new NotFoundError(
        `Revision ${toRevision} of ${primary.metadata?.name} not found`,
      );
    }
    throw new ConflictError(
      `${primary.metadata?.name} has no previous revision to roll back to`,
    );
  }
  if (toRevision !== undefined && toRevision === current) {
    throw new ConflictError(
      `Revision ${toRevision} is already the current revision`,
    );
  }
  const template = clone(rs.spec!.template!);
  delete template.metadata?.labels?.[POD_TEMPLATE_HASH];
  return { revision: revisionOf(rs), image: imageOf(template), template };
}

/** Copies the chosen ReplicaSet's pod template back into the Deployment, as `kubectl rollout undo` does. */
export function applyUndo(primary: V1Deployment, template: V1PodTemplateSpec) {
  primary.spec!.template = clone(template);
}

/** Restarts the pods the way `kubectl rollout restart` does. */
export function applyRestart(primary: V1Deployment, now: Date) {
  const tpl = primary.spec!.template!;
  tpl.metadata = tpl.metadata ?? {};
  tpl.metadata.annotations = {
    ...tpl.metadata.annotations,
    [RESTARTED_AT_ANNOTATION]: now.toISOString(),
  };
}
