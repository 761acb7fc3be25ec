import { ArgoRollout } from './types';

/** Argo Rollouts' own phases (`RolloutPhase`). */
export type ArgoPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';

/**
 * The phase and message a Rollout is in, decided the way Argo Rollouts' clients do
 * (`GetRolloutPhase`): a spec change the controller has not observed yet, or pause conditions a
 * client cleared while the controller still holds its pause, are Progressing; otherwise the
 * controller's own `status.phase`/`message` (Argo 1.0+); for older controllers, computed here.
 */
export function rolloutPhase(ro: ArgoRollout): {
  phase: ArgoPhase;
  message: string;
} {
  const status = ro.status ?? {};
  if (!generationObserved(ro)) {
    return {
      phase: 'Progressing',
      message: 'waiting for rollout spec update to be observed',
    };
  }
  if (status.controllerPause && !(status.pauseConditions ?? []).length) {
    return { phase: 'Progressing', message: 'waiting for rollout to unpause' };
  }
  if (status.phase) {
    return { phase: status.phase as ArgoPhase, message: status.message ?? '' };
  }
  return calculatedPhase(ro);
}

/** `status.observedGeneration` is numeric since v0.10; a hash (older) counts as observed. */
function generationObserved(ro: ArgoRollout): boolean {
  const observed = ro.status?.observedGeneration;
  if (observed === undefined || !/^\d+$/.test(String(observed))) return true;
  const generation = ro.metadata?.generation ?? 0;
  return Number(observed) >= generation;
}

function calculatedPhase(ro: ArgoRollout): {
  phase: ArgoPhase;
  message: string;
} {
  const spec = ro.spec ?? {};
  const status = ro.status ?? {};
  for (const c of status.conditions ?? []) {
    if (c.type === 'InvalidSpec') {
      return { phase: 'Degraded', message: `InvalidSpec: ${c.message}` };
    }
    if (
      c.reason === 'RolloutAborted' ||
      c.reason === 'ProgressDeadlineExceeded'
    ) {
      return { phase: 'Degraded', message: `${c.reason}: ${c.message}` };
    }
  }
  if (spec.paused) return { phase: 'Paused', message: 'manually paused' };
  const pause = (status.pauseConditions ?? [])[0];
  if (pause) return { phase: 'Paused', message: pause.reason };
  if (spec.restartAt && spec.restartAt !== status.restartedAt) {
    return { phase: 'Progressing', message: 'rollout is restarting' };
  }
  const updated = status.updatedReplicas ?? 0;
  if (updated < (spec.replicas ?? 1)) {
    return {
      phase: 'Progressing',
      message: 'more replicas need to be updated',
    };
  }
  if ((status.availableReplicas ?? 0) < updated) {
    return {
      phase: 'Progressing',
      message: 'updated replicas are still becoming available',
    };
  }
  const promoted =
    !!status.stableRS && status.stableRS === status.currentPodHash;
  if (spec.strategy?.blueGreen) {
    const active = status.blueGreen?.activeSelector;
    if (!active || active !== status.currentPodHash) {
      return {
        phase: 'Progressing',
        message: 'active service cutover pending',
      };
    }
    if (!promoted) {
      return spec.strategy.blueGreen.postPromotionAnalysis
        ? { phase: 'Progressing', message: 'waiting for analysis to complete' }
        : {
            phase: 'Progressing',
            message: 'waiting for post-promotion verification to complete',
          };
    }
  } else if (spec.strategy?.canary) {
    if (
      !spec.strategy.canary.trafficRouting &&
      (status.replicas ?? 0) > updated
    ) {
      return {
        phase: 'Progressing',
        message: 'old replicas are pending termination',
      };
    }
    if (!promoted) {
      return {
        phase: 'Progressing',
        message: 'waiting for all steps to complete',
      };
    }
  }
  return { phase: 'Healthy', message: '' };
}
