import { ConflictError, NotFoundError } from '@backstage/errors';
import { RolloutAction } from '@rust-delivery-portal/plugin-rollouts-common';
import { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import {
  currentStepIndex,
  PROMOTE_FULL_ABORT_WARNING,
  replicaSetsOf,
} from './view';
import {
  ArgoRollout,
  ROLLOUT_POD_TEMPLATE_HASH,
  ROLLOUT_REVISION,
} from './types';

/**
 * One request of an action, as the kubectl-argo-rollouts plugin sends it: a JSON merge patch to
 * the Rollout's `status` subresource (with the patch to send to the main resource instead when the
 * cluster's CRD has no status subresource, Argo Rollouts before v0.10), a merge patch to the main
 * resource, or a JSON patch of a pod template (undo), to the Rollout or to its `workloadRef`.
 */
export type ArgoPatch =
  | { target: 'status'; body: object; fallback: object }
  | {
      target: 'rollout';
      body: object;
      /** Left out when the status patch fell back to the main resource (which then carried it). */
      unlessFallback?: boolean;
    }
  | { target: 'rollout-template'; body: TemplatePatch }
  | {
      target: 'workload-template';
      body: TemplatePatch;
      workload: { kind: string; name: string };
    };

export type TemplatePatch = Array<{
  op: 'replace';
  path: '/spec/template';
  value: V1PodTemplateSpec;
}>;

function withoutHash(
  template: V1PodTemplateSpec | undefined,
): V1PodTemplateSpec {
  const t = structuredClone(template ?? {}) as V1PodTemplateSpec;
  if (t.metadata?.labels) delete t.metadata.labels[ROLLOUT_POD_TEMPLATE_HASH];
  return t;
}

/** Canonical JSON, so that key order does not make two equal templates differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter(k => o[k] !== undefined)
      .sort()
      .map(k => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function sameTemplate(a: V1PodTemplateSpec, b: V1PodTemplateSpec): boolean {
  return canonical(a) === canonical(b);
}

/** `kubectl argo rollouts promote`: unpause, then clear the pause conditions or skip the step. */
function promote(ro: ArgoRollout): ArgoPatch[] {
  const patches: ArgoPatch[] = [];
  const paused = !!ro.spec?.paused;
  const pausedByController =
    (ro.status?.pauseConditions ?? []).length > 0 &&
    !!ro.status?.controllerPause;
  const inconclusiveIndex = ro.spec?.strategy?.canary
    ? currentStepIndex(ro)
    : undefined;
  if (
    pausedByController &&
    inconclusiveIndex !== undefined &&
    ro.status?.canary?.currentStepAnalysisRunStatus?.status === 'Inconclusive'
  ) {
    // An inconclusive step analysis paused the controller: clearing the pause conditions alone
    // would leave `controllerPause` set, and a pause step next would hold the rollout for good.
    // The plugin unsets it and moves past the analysis step (its fallback stays the plain one).
    const steps = ro.spec?.strategy?.canary?.steps ?? [];
    const next =
      inconclusiveIndex < steps.length
        ? inconclusiveIndex + 1
        : inconclusiveIndex;
    patches.push({
      target: 'status',
      body: {
        status: {
          pauseConditions: null,
          controllerPause: false,
          currentStepIndex: next,
        },
      },
      fallback: { spec: { paused: false }, status: { pauseConditions: null } },
    });
  } else if ((ro.status?.pauseConditions ?? []).length > 0) {
    patches.push({
      target: 'status',
      body: { status: { pauseConditions: null } },
      fallback: { spec: { paused: false }, status: { pauseConditions: null } },
    });
  } else if (ro.spec?.strategy?.canary) {
    // Promoting in the middle of a step (a setWeight not reached yet, an analysis) skips it.
    const index = currentStepIndex(ro);
    if (index !== undefined) {
      const steps = ro.spec.strategy.canary.steps ?? [];
      const next = index < steps.length ? index + 1 : index;
      patches.push({
        target: 'status',
        body: { status: { pauseConditions: null, currentStepIndex: next } },
        fallback: {
          spec: { paused: false },
          status: { pauseConditions: null, currentStepIndex: next },
        },
      });
    }
  }
  if (paused) {
    patches.push({
      target: 'rollout',
      body: { spec: { paused: false } },
      unlessFallback: patches.length > 0,
    });
  }
  return patches;
}

/** The ReplicaSet `kubectl argo rollouts undo [--to-revision]` goes back to. */
export function undoTarget(
  ro: ArgoRollout,
  owned: V1ReplicaSet[],
  toRevision?: number,
): V1ReplicaSet {
  const revisionOf = (rs: V1ReplicaSet) =>
    Number(rs.metadata?.annotations?.[ROLLOUT_REVISION] ?? 0);
  const sets = replicaSetsOf(ro, owned); // newest first
  if (toRevision) {
    const found = sets.find(rs => revisionOf(rs) === toRevision);
    if (!found)
      throw new NotFoundError(
        `Unable to find revision ${toRevision} of ${ro.metadata?.name} in its history`,
      );
    return found;
  }
  if (sets.length < 2)
    throw new ConflictError(
      `No earlier revision of ${ro.metadata?.name} to roll back to`,
    );
  return sets[1];
}

/** The patches an action sends to an Argo Rollout, in order. */
export function patchesFor(
  ro: ArgoRollout,
  action: RolloutAction,
  owned: V1ReplicaSet[],
  options: { toRevision?: number; now: Date },
): ArgoPatch[] {
  const status = ro.status ?? {};
  switch (action) {
    case 'promote':
      return promote(ro);
    case 'promote-full':
      // Already stable: nothing to promote (the plugin sends nothing either).
      return status.currentPodHash !== status.stableRS
        ? [
            {
              target: 'status',
              body: { status: { promoteFull: true } },
              fallback: { status: { promoteFull: true } },
            },
          ]
        : [];
    case 'abort':
      if (status.promoteFull && status.currentPodHash !== status.stableRS) {
        throw new ConflictError(
          `Cannot abort ${ro.metadata?.name}: ${PROMOTE_FULL_ABORT_WARNING}`,
        );
      }
      return [
        {
          target: 'status',
          body: { status: { abort: true } },
          fallback: { status: { abort: true } },
        },
      ];
    case 'retry':
      return [
        {
          target: 'status',
          body: { status: { abort: false } },
          fallback: { status: { abort: false } },
        },
      ];
    case 'pause':
      return [{ target: 'rollout', body: { spec: { paused: true } } }];
    case 'resume':
      return [{ target: 'rollout', body: { spec: { paused: false } } }];
    case 'restart':
      return [
        {
          target: 'rollout',
          body: {
            spec: {
              restartAt: options.now.toISOString().replace(/\.\d+Z$/, 'Z'),
            },
          },
        },
      ];
    case 'rollback': {
      const rs = undoTarget(ro, owned, options.toRevision);
      const template = withoutHash(rs.spec?.template);
      if (
        !ro.spec?.workloadRef &&
        sameTemplate(template, withoutHash(ro.spec?.template))
      ) {
        // As the plugin: "skipped rollback (current template already matches revision N)".
        return [];
      }
      const body = [
        {
          op: 'replace' as const,
          path: '/spec/template' as const,
          value: template,
        },
      ];
      const ref = ro.spec?.workloadRef;
      if (ref?.name) {
        return [
          {
            target: 'workload-template',
            body,
            workload: { kind: ref.kind ?? 'Deployment', name: ref.name },
          },
        ];
      }
      return [{ target: 'rollout-template', body }];
    }
    default:
      throw new ConflictError(`Argo Rollouts has no ${action}`);
  }
}
