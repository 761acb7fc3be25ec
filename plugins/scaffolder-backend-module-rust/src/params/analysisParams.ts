import { InputError } from '@backstage/errors';

/**
 * The canary analysis the template renders: the canary's 5xx ratio and its p99 latency, judged by
 * the rollouts engine against Prometheus at every interval while the canary runs.
 * @public
 */
export interface AnalysisParams {
  /** Below this share of 5xx responses (0..1) a measurement passes. */
  maxErrorRatio: number;
  /** At or above this share (0..1) a measurement fails; in between it is neither. */
  failErrorRatio: number;
  /** Below this p99 latency, in seconds, a measurement passes; at or above it fails. */
  maxLatencySeconds: number;
  /** Between two measurements, as Argo writes durations (`30s`, `2m`). */
  interval: string;
  /** Failed measurements a metric tolerates; one more fails the canary (Argo's `failureLimit`). */
  failureLimit: number;
}

/**
 * What the form sends for the analysis (all optional: the defaults below apply).
 * @public
 */
export interface AnalysisParamsInput {
  analysis?: boolean;
  analysisMaxErrorPercent?: number;
  analysisFailErrorPercent?: number;
  analysisMaxLatencyMs?: number;
  analysisInterval?: string;
  analysisFailureLimit?: number;
}

/** The form's defaults, as Flagger's and Argo's examples choose them. */
export const ANALYSIS_DEFAULTS = {
  maxErrorPercent: 1,
  failErrorPercent: 5,
  maxLatencyMs: 500,
  interval: '30s',
  failureLimit: 1,
} as const;

/**
 * Seconds or minutes, 10s to 1h: shorter than Prometheus' usual 15s scrape interval measures the
 * same samples twice; longer than an hour leaves a canary unjudged for too long.
 */
export const ANALYSIS_INTERVAL_PATTERN = /^[1-9][0-9]{0,3}(s|m)$/;

function intervalSeconds(interval: string): number {
  const amount = Number(interval.slice(0, -1));
  return interval.endsWith('m') ? amount * 60 : amount;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function requirePercent(label: string, value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > 100
  ) {
    throw new InputError(
      `Invalid ${label} ${describe(
        value,
      )}: use a percentage above 0 and at most 100, e.g. 1 or 0.5`,
    );
  }
  return value;
}

/**
 * Checks the analysis fields on the server (the form's checks can be bypassed) and completes them
 * with defaults. Only a canary renders an analysis: a blue-green preview's pods share their
 * template with the active ones, so the template cannot label them apart; it returns undefined
 * for the other strategies and when the analysis is switched off.
 */
export function validateAnalysisParams(
  input: AnalysisParamsInput,
  strategy: string,
): AnalysisParams | undefined {
  if (strategy !== 'Canary' || input.analysis === false) return undefined;
  const maxErrorPercent = requirePercent(
    'maximum 5xx share',
    input.analysisMaxErrorPercent ?? ANALYSIS_DEFAULTS.maxErrorPercent,
  );
  const failErrorPercent = requirePercent(
    'failing 5xx share',
    input.analysisFailErrorPercent ?? ANALYSIS_DEFAULTS.failErrorPercent,
  );
  if (failErrorPercent < maxErrorPercent) {
    throw new InputError(
      `Analysis: the failing 5xx share (${failErrorPercent}%) must be at least the maximum share that passes (${maxErrorPercent}%)`,
    );
  }
  const maxLatencyMs =
    input.analysisMaxLatencyMs ?? ANALYSIS_DEFAULTS.maxLatencyMs;
  if (
    !Number.isInteger(maxLatencyMs) ||
    maxLatencyMs < 1 ||
    maxLatencyMs > 60_000
  ) {
    throw new InputError(
      `Invalid p99 latency limit ${describe(
        maxLatencyMs,
      )}: use whole milliseconds from 1 to 60000`,
    );
  }
  const interval = input.analysisInterval ?? ANALYSIS_DEFAULTS.interval;
  if (
    typeof interval !== 'string' ||
    !ANALYSIS_INTERVAL_PATTERN.test(interval) ||
    intervalSeconds(interval) < 10 ||
    intervalSeconds(interval) > 3600
  ) {
    throw new InputError(
      `Invalid analysis interval ${describe(
        interval,
      )}: use seconds or minutes from 10s to 60m, e.g. 30s or 2m`,
    );
  }
  const failureLimit =
    input.analysisFailureLimit ?? ANALYSIS_DEFAULTS.failureLimit;
  if (
    !Number.isInteger(failureLimit) ||
    failureLimit < 0 ||
    failureLimit > 10
  ) {
    throw new InputError(
      `Invalid failure limit ${describe(
        failureLimit,
      )}: use a whole number from 0 to 10 (0: the first failed measurement fails the canary)`,
    );
  }
  return {
    // Percent to ratio without float noise (1% -> 0.01, not 0.010000000000000002).
    maxErrorRatio: Number((maxErrorPercent / 100).toPrecision(12)),
    failErrorRatio: Number((failErrorPercent / 100).toPrecision(12)),
    maxLatencySeconds: maxLatencyMs / 1000,
    interval,
    failureLimit,
  };
}
