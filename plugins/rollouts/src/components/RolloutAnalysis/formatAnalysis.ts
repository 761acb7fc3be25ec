import type {
  AnalysisMeasurement,
  AnalysisMetricView,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** A measured value in at most three significant digits: `0.062`, `0.5`, `1.23e-4`. */
export function formatMetricValue(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'no data';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 0.001 || abs >= 1e6) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

/**
 * The number the chart draws as the reference line: the engine's `threshold`, or the number of a
 * plain `result < 0.01` success condition when the engine did not say.
 */
export function thresholdOf(metric: AnalysisMetricView): number | undefined {
  if (metric.threshold !== undefined) return metric.threshold;
  const match =
    /^\s*result\s*(?:<|<=|>|>=)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$/.exec(
      metric.successCondition ?? '',
    );
  return match ? Number(match[1]) : undefined;
}

/** "every 30s", "every 2m", "every 1m30s". */
export function formatInterval(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `every ${rest}s`;
  return `every ${minutes}m${rest ? `${rest}s` : ''}`;
}

/** The counts against the limits: "1 passed · 2 failed (limit 1) · 0 inconclusive (limit 0)". */
export function formatCounts(metric: AnalysisMetricView): string {
  const of = metric.count ? ` of ${metric.count}` : '';
  return [
    `${metric.successful}${of} passed`,
    `${metric.failed} failed (limit ${metric.failureLimit})`,
    `${metric.inconclusive} inconclusive (limit ${metric.inconclusiveLimit})`,
  ].join(' · ');
}

/** The last measurement in words: "canary 0.062 vs stable 0.002: Failed". */
export function describeMeasurement(measurement: AnalysisMeasurement): string {
  return `canary ${formatMetricValue(
    measurement.canary,
  )} vs stable ${formatMetricValue(measurement.stable)}: ${measurement.phase}${
    measurement.message ? ` (${measurement.message})` : ''
  }`;
}
