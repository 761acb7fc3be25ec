import {
  AnalysisView,
  ROLLOUT_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { RolloutState } from '../strategies/state';

/**
 * The view's analysis, from the rollout's state only (views never read the cluster beyond the
 * cache): absent when the workload declares none; `Pending` until the first measurement; the
 * last run's record afterwards, a run that ended with the rollout's success shown as Successful.
 */
export function analysisView(
  primary: V1Deployment,
  state: RolloutState | undefined,
  inFlight: boolean,
): AnalysisView | undefined {
  const name = primary.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.analysis];
  const record = state?.analysis;
  if (!name) return undefined;
  if (
    !record ||
    record.name !== name ||
    (inFlight && record.revision !== state?.revision)
  ) {
    return { name, phase: 'Pending', metrics: [] };
  }
  const ended = !inFlight && state?.phase === 'Healthy';
  const finalPhase = (phase: AnalysisView['phase']) =>
    ended && (phase === 'Running' || phase === 'Pending')
      ? 'Successful'
      : phase;
  return {
    name,
    phase: finalPhase(record.phase),
    ...(record.message ? { message: record.message } : {}),
    metrics: record.metrics.map(
      ({ taken, lastAt, lastStepIndex, initialDelaySeconds, ...metric }) => ({
        ...metric,
        phase: finalPhase(metric.phase),
      }),
    ),
  };
}

/** The view's `analysis` field, when the workload declares one (to spread into a view). */
export function analysisOf(
  primary: V1Deployment,
  state: RolloutState | undefined,
  inFlight: boolean,
) {
  const analysis = analysisView(primary, state, inFlight);
  return analysis ? { analysis } : {};
}
