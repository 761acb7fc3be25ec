/** What one instant query gave: a number, nothing (empty vector, NaN), or why it failed. */
export type QueryResult =
  | { value: number }
  | { empty: string }
  | { error: string };

/** Runs instant PromQL queries; the engine's only use of a metrics backend. */
export interface MetricsQuerier {
  query(promql: string): Promise<QueryResult>;
}

const TIMEOUT_MS = 5000;

/**
 * Prometheus' HTTP API (`GET /api/v1/query`) at one cluster's configured address. `result` is the
 * first sample of an instant vector, or a scalar; anything Prometheus refuses, a non-2xx answer,
 * a timeout or a refused connection is an error the analysis counts as inconclusive.
 */
export class PrometheusClient implements MetricsQuerier {
  constructor(private readonly baseUrl: string) {}

  async query(promql: string): Promise<QueryResult> {
    const url = new URL('api/v1/query', this.baseUrl.replace(/\/?$/, '/'));
    url.searchParams.set('query', promql);
    let body: any;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      try {
        body = JSON.parse(text);
      } catch {
        return {
          error: `Prometheus answered ${res.status}: ${text.slice(0, 200)}`,
        };
      }
      if (!res.ok || body?.status !== 'success') {
        return {
          error: `Prometheus answered ${res.status}: ${
            body?.error ?? text.slice(0, 200)
          }`,
        };
      }
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      return {
        error: `Prometheus at ${this.baseUrl} did not answer: ${
          cause ?? (e as Error).message
        }`,
      };
    }
    return resultOf(body.data);
  }
}

export function resultOf(data: any): QueryResult {
  let raw: unknown;
  if (data?.resultType === 'scalar') raw = data.result?.[1];
  else if (data?.resultType === 'vector') {
    if (!Array.isArray(data.result) || data.result.length === 0) {
      return { empty: 'the query returned no series' };
    }
    raw = data.result[0]?.value?.[1];
  } else {
    return {
      error: `Prometheus returned a ${data?.resultType}, not a vector or scalar`,
    };
  }
  const value = Number(raw);
  if (raw === undefined || Number.isNaN(value)) {
    return { empty: 'the query returned NaN' };
  }
  return { value };
}
