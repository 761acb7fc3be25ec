import {
  RolloutPhase,
  ROLLOUT_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { imageOf, isoTime } from './kube';
import type { AnalysisRecord } from '../analysis/verdict';

/**
 * The rollout's own state, kept as JSON in the primary Deployment's `rollouts.backstage.io/state`
 * annotation. It is written with the Deployment's resourceVersion (an update, never a blind patch),
 * so two backend replicas cannot both move the same rollout, and a restarted backend carries on
 * from here.
 */
export interface RolloutState {
  phase: RolloutPhase;
  /** Counts rollouts started on this workload; actions carry it to detect stale views. */
  revision: number;
  /** Canary: index into the steps; `steps.length` means "finishing". BlueGreen: 0 preview, 1 promoted. */
  stepIndex: number;
  /** The image being rolled out (unset when nothing is in flight). */
  targetImage?: string;
  /** The image serving production before this rollout. */
  stableImage?: string;
  /** Replicas the workload declares; the canary ratio and restores use it. */
  totalReplicas?: number;
  /** `traffic`: the Gateway rejects the canary's HTTPRoute; the rollout resumes once it accepts it. */
  pause?: {
    reason: string;
    since: string;
    kind: 'step' | 'user' | 'approval' | 'traffic' | 'analysis';
  };
  /**
   * The analysis of this revision (see analysis/runAnalysis.ts): its counters, when each metric
   * was last measured and the last measurements, bounded, so a restart keeps the verdict counts.
   */
  analysis?: AnalysisRecord;
  /** When the current step began (timed pauses and delays count from here). */
  stepStartedAt?: string;
  message?: string;
  /** Canary health gate: when the engine first saw an unhealthy canary pod. */
  unhealthySince?: string;
  /** BlueGreen: pod-template-hash the active Service selected before promotion (instant rollback). */
  previousActiveHash?: string;
  /** BlueGreen: when the active Service was switched. */
  promotedAt?: string;
  /** The catalog entity that started the rollout: history, signals and notifications go to it. */
  entityRef?: string;
  updatedAt: string;
}

export function readState(deployment: V1Deployment): RolloutState | undefined {
  const raw = deployment.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.state];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw);
    return typeof parsed === 'object' && parsed
      ? (parsed as RolloutState)
      : undefined;
  } catch {
    return undefined;
  }
}

export function writeState(deployment: V1Deployment, state: RolloutState) {
  deployment.metadata = deployment.metadata ?? {};
  deployment.metadata.annotations = {
    ...deployment.metadata.annotations,
    [ROLLOUT_ANNOTATIONS.state]: JSON.stringify(state),
  };
}

/** Parses `30s`, `5m`, `1h`, `250ms` or a bare number of seconds into milliseconds. */
export function parseDuration(
  value: string | number | undefined,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value * 1000;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms':
      return n;
    case 'm':
      return n * 60_000;
    case 'h':
      return n * 3_600_000;
    default:
      return n * 1000;
  }
}

/**
 * The view fields that come from the rollout's own state, shared by the canary and blue-green
 * strategies: which image is stable and which is on its way, the pause, and the revision counter.
 */
export function stateViewFields(
  primary: V1Deployment,
  state: RolloutState | undefined,
  opts: { inFlight: boolean; phase: RolloutPhase; now: Date },
) {
  const { inFlight, phase, now } = opts;
  const declaredImage = imageOf(primary.spec?.template);
  return {
    stableImage: inFlight ? state?.stableImage ?? declaredImage : declaredImage,
    targetImage:
      inFlight || phase === 'Aborted' ? state?.targetImage : undefined,
    pause:
      state?.pause && phase === 'Paused'
        ? { reason: state.pause.reason, since: state.pause.since }
        : undefined,
    revision: state?.revision ?? 0,
    updatedAt:
      state?.updatedAt ??
      isoTime(primary.metadata?.creationTimestamp) ??
      now.toISOString(),
  };
}

/**
 * The state after a transition of a canary or blue-green rollout: the current state (or a fresh,
 * healthy one) with the patch applied, stamped with the time of this pass.
 */
export function nextState(
  ctx: { state?: RolloutState; now: Date },
  patch: Partial<RolloutState>,
): RolloutState {
  return {
    phase: 'Healthy',
    revision: 0,
    stepIndex: 0,
    ...ctx.state,
    ...patch,
    updatedAt: ctx.now.toISOString(),
  };
}
