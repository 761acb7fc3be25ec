import {
  AnalysisPhase,
  AllowedAction,
  CanaryStep,
  RevisionRole,
  RevisionView,
  RolloutPhase,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1ReplicaSet } from '@kubernetes/client-node';
import { RolloutViewBase } from '../strategies/types';
import { rolloutPhase } from './phase';
import {
  ArgoRollout,
  ROLLOUT_POD_TEMPLATE_HASH,
  ROLLOUT_REVISION,
} from './types';

/** What Argo ignores (argo-rollouts#4461): an abort once a full promotion was asked for. */
export const PROMOTE_FULL_ABORT_WARNING =
  'A full promotion is under way: Argo Rollouts ignores an abort until it completes (argo-rollouts#4461); roll back afterwards instead';

export type ArgoRolloutViewBase = RolloutViewBase & {
  controller: 'argo-rollouts';
  warning?: string;
};

const hashOf = (rs: V1ReplicaSet) =>
  rs.metadata?.labels?.[ROLLOUT_POD_TEMPLATE_HASH];
const revisionOf = (o: {
  metadata?: { annotations?: Record<string, string> };
}) => Number(o.metadata?.annotations?.[ROLLOUT_REVISION] ?? 0) || 0;
const imageOf = (rs?: { spec?: { template?: any } }) =>
  rs?.spec?.template?.spec?.containers?.[0]?.image ?? '';

/** The ReplicaSets a Rollout controls, newest revision first (as `kubectl argo rollouts get` lists them). */
export function replicaSetsOf(
  ro: ArgoRollout,
  owned: V1ReplicaSet[],
): V1ReplicaSet[] {
  return owned
    .filter(rs =>
      (rs.metadata?.ownerReferences ?? []).some(
        o => o.controller && o.kind === 'Rollout' && o.uid === ro.metadata?.uid,
      ),
    )
    .sort((a, b) => revisionOf(b) - revisionOf(a));
}

/** The step index Argo is at (`GetCurrentCanaryStep`): 0 when unset, never past the end. */
export function currentStepIndex(ro: ArgoRollout): number | undefined {
  const steps = ro.spec?.strategy?.canary?.steps ?? [];
  if (!steps.length) return undefined;
  return Math.min(ro.status?.currentStepIndex ?? 0, steps.length);
}

function isPromoted(ro: ArgoRollout) {
  return (
    !!ro.status?.stableRS && ro.status.stableRS === ro.status.currentPodHash
  );
}

/** The setWeight in force at the current step; 100 once promoted, 0 when aborted. */
function desiredWeight(ro: ArgoRollout): number {
  const status = ro.status ?? {};
  if (isPromoted(ro)) return 100;
  if (status.abort) return 0;
  if (status.promoteFull) return 100;
  const steps = ro.spec?.strategy?.canary?.steps ?? [];
  const index = currentStepIndex(ro) ?? 0;
  if (index >= steps.length) return 100;
  let weight = 0;
  for (const step of steps.slice(0, index + 1)) {
    if (typeof step.setWeight === 'number') weight = step.setWeight;
  }
  return weight;
}

/** The share of available pods that run the canary: the weight without a traffic router. */
function replicaWeight(ro: ArgoRollout, sets: V1ReplicaSet[]): number {
  const current = ro.status?.currentPodHash;
  const available = (rs: V1ReplicaSet) => rs.status?.availableReplicas ?? 0;
  const total = sets.reduce((n, rs) => n + available(rs), 0);
  if (!total) return 0;
  const canary = sets
    .filter(rs => hashOf(rs) === current)
    .reduce((n, rs) => n + available(rs), 0);
  return Math.round((canary / total) * 100);
}

function roleOf(ro: ArgoRollout, rs: V1ReplicaSet): RevisionRole {
  const status = ro.status ?? {};
  const hash = hashOf(rs);
  if (ro.spec?.strategy?.blueGreen) {
    if (hash === status.blueGreen?.activeSelector) return 'active';
    if (
      hash === status.blueGreen?.previewSelector ||
      hash === status.currentPodHash
    )
      return 'preview';
    return 'old';
  }
  if (hash === status.stableRS) return 'stable';
  if (hash === status.currentPodHash) return 'canary';
  return 'old';
}

function ourPhase(ro: ArgoRollout): { phase: RolloutPhase; message: string } {
  const { phase, message } = rolloutPhase(ro);
  // Argo says Degraded for an aborted update; the card's vocabulary has Aborted (Retry offered).
  if (phase === 'Degraded' && ro.status?.abort)
    return { phase: 'Aborted', message };
  return { phase, message };
}

/** An Argo Rollout's state as a view, read from the Rollout and the ReplicaSets it controls. */
export function argoRolloutView(
  ro: ArgoRollout,
  owned: V1ReplicaSet[],
): ArgoRolloutViewBase {
  const status = ro.status ?? {};
  const sets = replicaSetsOf(ro, owned);
  const blueGreen = !!ro.spec?.strategy?.blueGreen;
  const steps = ro.spec?.strategy?.canary?.steps ?? [];
  const { phase, message } = ourPhase(ro);
  const promoted = isPromoted(ro);
  const current = sets.find(rs => hashOf(rs) === status.currentPodHash);
  const stable = sets.find(rs => hashOf(rs) === status.stableRS);
  const revisions: RevisionView[] = sets
    .filter(rs => (rs.status?.replicas ?? 0) > 0 || roleOf(ro, rs) !== 'old')
    .map(rs => ({
      revision: revisionOf(rs),
      image: imageOf(rs),
      role: roleOf(ro, rs),
      replicas: rs.status?.replicas ?? 0,
      ready: rs.status?.availableReplicas ?? 0,
    }));
  const templateImage = ro.spec?.template?.spec?.containers?.[0]?.image;
  const pauseCondition = (status.pauseConditions ?? [])[0];
  let weight: RolloutViewBase['weight'];
  if (blueGreen) {
    const switched =
      !!status.currentPodHash &&
      status.blueGreen?.activeSelector === status.currentPodHash;
    weight = {
      desired: promoted || status.promoteFull ? 100 : 0,
      actual: switched ? 100 : 0,
      method: 'service-switch',
    };
  } else {
    const routed = ro.spec?.strategy?.canary?.trafficRouting;
    weight = {
      desired: desiredWeight(ro),
      actual: routed
        ? status.canary?.weights?.canary?.weight ?? (promoted ? 100 : 0)
        : replicaWeight(ro, sets),
      method: routed ? 'traffic-router' : 'replica-ratio',
    };
  }
  let step: RolloutViewBase['step'];
  if (blueGreen) {
    const switched = status.blueGreen?.activeSelector === status.currentPodHash;
    step = { index: promoted ? 2 : Number(switched), total: 2 };
  } else if (steps.length) {
    step = { index: currentStepIndex(ro) ?? 0, total: steps.length };
  } else {
    step = { index: promoted ? 1 : 0, total: 1 };
  }
  const conditionTimes = (status.conditions ?? [])
    .map(c => c.lastUpdateTime ?? '')
    .filter(Boolean)
    .sort();
  const inFlight = !promoted && !!status.currentPodHash;
  const run =
    status.canary?.currentStepAnalysisRunStatus ??
    status.blueGreen?.prePromotionAnalysisRunStatus ??
    status.blueGreen?.postPromotionAnalysisRunStatus;
  let warning: string | undefined;
  if (status.promoteFull && inFlight) warning = PROMOTE_FULL_ABORT_WARNING;
  else if (ro.spec?.workloadRef)
    warning = `The pod template lives in ${ro.spec.workloadRef.kind} ${ro.spec.workloadRef.name}: roll back changes that workload`;
  return {
    namespace: ro.metadata?.namespace ?? '',
    workload: ro.metadata?.name ?? '',
    strategy: blueGreen ? 'BlueGreen' : 'Canary',
    phase,
    message,
    step,
    // Only setWeight and pause steps have a place on the card; others keep their Argo shape.
    steps: steps as CanaryStep[],
    weight,
    revisions,
    stableImage: imageOf(stable) || (promoted ? templateImage ?? '' : ''),
    ...(inFlight ? { targetImage: imageOf(current) || templateImage } : {}),
    ...(pauseCondition
      ? {
          pause: {
            reason: pauseCondition.reason,
            since: pauseCondition.startTime,
          },
        }
      : {}),
    ...(!pauseCondition && ro.spec?.paused
      ? {
          pause: {
            reason: 'manually paused',
            since: ro.metadata?.creationTimestamp?.toString() ?? '',
          },
        }
      : {}),
    revision: revisionOf(ro) || (current ? revisionOf(current) : 0),
    updatedAt:
      conditionTimes[conditionTimes.length - 1] ??
      String(ro.metadata?.creationTimestamp ?? ''),
    controller: 'argo-rollouts',
    ...(run?.status
      ? {
          analysis: {
            // Argo's AnalysisRun phases are the same words as ours.
            phase: run.status as AnalysisPhase,
            ...(run.name ? { name: run.name } : {}),
            ...(run.message ? { message: run.message } : {}),
          },
        }
      : {}),
    ...(warning ? { warning } : {}),
  };
}

/** What an Argo Rollout's state allows, before permissions (the kubectl plugin's commands). */
export function argoPhaseActions(
  ro: ArgoRollout,
  owned: V1ReplicaSet[],
): AllowedAction[] {
  const status = ro.status ?? {};
  const promoted = isPromoted(ro);
  const inFlight = !promoted && !!status.currentPodHash;
  const actions: AllowedAction[] = [];
  if (status.abort && inFlight) actions.push('retry');
  else if (inFlight) {
    actions.push('promote', 'promote-full');
    if (!status.promoteFull) actions.push('abort');
  }
  if (ro.spec?.paused) actions.push('resume');
  else if (!status.abort) actions.push('pause');
  if (replicaSetsOf(ro, owned).length > 1) actions.push('rollback');
  actions.push('restart');
  return actions;
}
