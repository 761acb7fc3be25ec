import {
  AnalysisMeasurement,
  AnalysisMetricView,
  AnalysisPhase,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** Measurements kept per metric in the rollout's state (and so in the view): the most recent. */
export const MEASUREMENTS_KEPT = 30;

/**
 * One metric's run so far, as the rollout's state keeps it: the view's fields plus when and at
 * which step it was last measured, which is what the scheduler needs after a backend restart.
 */
export interface MetricRecord extends AnalysisMetricView {
  /** Measurements in the current run (`count` stops it); the counters below are of this run too. */
  taken: number;
  lastAt?: string;
  lastStepIndex?: number;
  initialDelaySeconds?: number;
}

/** The analysis of one rollout revision, kept in the rollout's state annotation. */
export interface AnalysisRecord {
  /** The ConfigMap that declares it. */
  name: string;
  /** The rollout revision it judges: a retry or a new start begins a new analysis. */
  revision: number;
  startedAt: string;
  phase: AnalysisPhase;
  message?: string;
  metrics: MetricRecord[];
}

/**
 * Argo's limits: a metric fails when its failed measurements exceed `failureLimit`, is
 * inconclusive when its inconclusive ones (errors included: a Prometheus that cannot answer never
 * passes a canary) exceed `inconclusiveLimit`, and succeeds once it has taken `count` measurements
 * without either.
 */
export function metricPhase(m: MetricRecord): AnalysisPhase {
  if (m.failed > m.failureLimit) return 'Failed';
  if (m.inconclusive > m.inconclusiveLimit) return 'Inconclusive';
  if (m.count && m.taken >= m.count) return 'Successful';
  return m.taken > 0 ? 'Running' : 'Pending';
}

/** Any failed metric fails the analysis; otherwise any inconclusive one makes it inconclusive. */
export function analysisPhase(metrics: MetricRecord[]): AnalysisPhase {
  const phases = metrics.map(m => m.phase);
  if (phases.includes('Failed')) return 'Failed';
  if (phases.includes('Inconclusive')) return 'Inconclusive';
  if (phases.length > 0 && phases.every(p => p === 'Successful'))
    return 'Successful';
  return phases.some(p => p !== 'Pending') ? 'Running' : 'Pending';
}

/** The metric after one more measurement, its counters and phase updated and its list bounded. */
export function recordMeasurement(
  m: MetricRecord,
  measurement: AnalysisMeasurement,
): MetricRecord {
  const next: MetricRecord = {
    ...m,
    taken: m.taken + 1,
    lastAt: measurement.at,
    lastStepIndex: measurement.stepIndex,
    successful: m.successful + (measurement.phase === 'Successful' ? 1 : 0),
    failed: m.failed + (measurement.phase === 'Failed' ? 1 : 0),
    inconclusive:
      m.inconclusive +
      (measurement.phase === 'Inconclusive' || measurement.phase === 'Error'
        ? 1
        : 0),
    measurements: [...m.measurements, measurement].slice(-MEASUREMENTS_KEPT),
  };
  next.phase = metricPhase(next);
  return next;
}

/**
 * A new run of the same analysis, after a person decided to carry on past an inconclusive one:
 * the counters start again, the measurements so far stay for the chart.
 */
export function restartedRun(
  record: AnalysisRecord | undefined,
): AnalysisRecord | undefined {
  if (!record) return undefined;
  const metrics = record.metrics.map(m => ({
    ...m,
    taken: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    lastStepIndex: undefined,
    phase: 'Pending' as const,
  }));
  return {
    ...record,
    metrics,
    phase: analysisPhase(metrics),
    message: undefined,
  };
}
