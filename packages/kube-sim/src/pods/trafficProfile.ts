/**
 * The traffic a simulated pod has served, as a pure function of its image and how long it has
 * been up: a steady request rate, split over two routes; an image tag ending `-errors` answers
 * about 5% of them with 500 (6%, so that a `result >= 0.05` failure condition is crossed
 * whatever the rate window's rounding); one ending `-slow` answers about four times slower (its p99 lands two
 * histogram buckets higher). Anything else is healthy. Counts grow with time, so Prometheus'
 * `rate()` over scrapes sees the rate.
 */

/** @public */
export type TrafficBehaviour = 'healthy' | 'errors' | 'slow';

/** @public */
export function trafficBehaviour(image: string): TrafficBehaviour {
  const last = image.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  if (tag.endsWith('-errors')) return 'errors';
  if (tag.endsWith('-slow')) return 'slow';
  return 'healthy';
}

export const ERROR_RATIO = 0.06;

/** Bucket bounds of the service's `http_request_duration_seconds` (the Prometheus client's defaults). */
export const BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Share of a healthy pod's requests at or under each bound (p99 ≈ 0.24 s through
 * histogram_quantile); a slow pod's curve is the same shifted two buckets up (p99 ≈ 0.96 s).
 */
const HEALTHY_CUMULATIVE = [0.05, 0.15, 0.45, 0.75, 0.93, 0.995, 1, 1, 1, 1, 1];
const SLOW_CUMULATIVE = [0, 0, 0.05, 0.15, 0.45, 0.75, 0.93, 0.995, 1, 1, 1];
/** Mean seconds per request of each curve (for `_sum`). */
const MEAN_SECONDS = { healthy: 0.035, slow: 0.14 };

const ROUTES = [
  { method: 'GET', route: '/', share: 0.7 },
  { method: 'GET', route: '/healthz', share: 0.3 },
];

/** Prometheus' text exposition format (version 0.0.4) of a pod's traffic after `upSeconds`. */
export function exposition(
  behaviour: TrafficBehaviour,
  upSeconds: number,
  requestsPerSecond: number,
): string {
  const lines = [
    '# HELP http_requests_total Total HTTP requests served, by method, route and status.',
    '# TYPE http_requests_total counter',
  ];
  const histogram = [
    '# HELP http_request_duration_seconds HTTP request latency in seconds.',
    '# TYPE http_request_duration_seconds histogram',
  ];
  const cumulative =
    behaviour === 'slow' ? SLOW_CUMULATIVE : HEALTHY_CUMULATIVE;
  const mean = behaviour === 'slow' ? MEAN_SECONDS.slow : MEAN_SECONDS.healthy;
  for (const r of ROUTES) {
    const total = Math.floor(requestsPerSecond * r.share * upSeconds);
    const errors = behaviour === 'errors' ? Math.floor(total * ERROR_RATIO) : 0;
    const labels = `method="${r.method}",route="${r.route}"`;
    lines.push(`http_requests_total{${labels},status="200"} ${total - errors}`);
    // The 500 series exists from the start, at 0: an error-ratio query has a series to divide.
    lines.push(`http_requests_total{${labels},status="500"} ${errors}`);
    BUCKETS.forEach((le, i) => {
      histogram.push(
        `http_request_duration_seconds_bucket{${labels},le="${le}"} ${Math.floor(
          total * cumulative[i],
        )}`,
      );
    });
    histogram.push(
      `http_request_duration_seconds_bucket{${labels},le="+Inf"} ${total}`,
      `http_request_duration_seconds_sum{${labels}} ${(total * mean).toFixed(
        3,
      )}`,
      `http_request_duration_seconds_count{${labels}} ${total}`,
    );
  }
  return `${[...lines, ...histogram].join('\n')}\n`;
}
