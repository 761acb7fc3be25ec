import { stringify } from 'yaml';
import type { AnalysisParams } from '../params/analysisParams';

/** The ConfigMap data key the rollouts engine reads the analysis from. */
export const ANALYSIS_DATA_KEY = 'analysis.yaml';

/**
 * Probes and scrapes hit every pod of both versions alike; counted, they would dilute the canary's
 * error share and latency with answers nobody asked for, and make a canary without traffic pass.
 * Left out, no traffic gives an empty result: inconclusive, a pause for a person.
 */
const UNJUDGED_ROUTES = '/healthz|/readyz|/metrics';

/**
 * The label matchers of one role's pods as Prometheus' `kubernetes-pods` job names them
 * (`labelmap` of the pod labels, plus `namespace`); `{{args.*}}` are substituted by the engine,
 * which runs each query for the canary (judged) and for the stable pods (for the chart).
 */
const PODS =
  'namespace="{{args.namespace}}",app_kubernetes_io_name="{{args.workload}}",rollouts_backstage_io_role="{{args.role}}"';

/**
 * The canary's share of 5xx responses over the last minute. A service that never answered a 5xx
 * has no such series at all: `or vector(0)` makes that a share of 0, not an empty (inconclusive)
 * result; without any traffic the divisor stays empty, and so the result.
 */
export const ERROR_RATIO_QUERY = [
  `(sum(rate(http_requests_total{${PODS},route!~"${UNJUDGED_ROUTES}",status=~"5.."}[1m])) or vector(0))`,
  '/',
  `sum(rate(http_requests_total{${PODS},route!~"${UNJUDGED_ROUTES}"}[1m]))`,
].join('\n');

/** The canary's 99th percentile latency over the last minute, in seconds. */
export const LATENCY_P99_QUERY = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${PODS},route!~"${UNJUDGED_ROUTES}"}[1m])))`;

/**
 * `rate(...[1m])` needs two scrapes of the canary inside its window: measured earlier, a fresh
 * canary gives an empty result and pauses for nothing. So the first measurement waits a window.
 */
const INITIAL_DELAY = '1m';

/**
 * The analysis as an Argo Rollouts AnalysisTemplate `spec` (the vocabulary the engine reads):
 * the 5xx share passes below the maximum, fails at the failing share, and is inconclusive in
 * between; the p99 latency passes below its limit and fails otherwise.
 */
export function analysisSpec(analysis: AnalysisParams) {
  return {
    metrics: [
      {
        name: 'error-ratio',
        initialDelay: INITIAL_DELAY,
        interval: analysis.interval,
        successCondition: `result < ${analysis.maxErrorRatio}`,
        failureCondition: `result >= ${analysis.failErrorRatio}`,
        failureLimit: analysis.failureLimit,
        provider: { prometheus: { query: ERROR_RATIO_QUERY } },
      },
      {
        name: 'latency-p99',
        initialDelay: INITIAL_DELAY,
        interval: analysis.interval,
        successCondition: `result < ${analysis.maxLatencySeconds}`,
        failureLimit: analysis.failureLimit,
        provider: { prometheus: { query: LATENCY_P99_QUERY } },
      },
    ],
  };
}

/** The ConfigMap's `analysis.yaml`. */
export function analysisYaml(analysis: AnalysisParams): string {
  return stringify(analysisSpec(analysis), { lineWidth: 0 });
}
