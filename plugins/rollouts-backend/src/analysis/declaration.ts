import { parse as parseYaml } from 'yaml';
import { Condition, parseCondition, thresholdOf } from './conditions';

/** The data key of the analysis ConfigMap that holds the AnalysisTemplate `spec`. */
export const ANALYSIS_DATA_KEY = 'analysis.yaml';

/** One metric of an analysis, as a workload declares it in Argo Rollouts' AnalysisTemplate words. */
export interface MetricDeclaration {
  name: string;
  intervalMs: number;
  /** Measurements per analysis; undefined = until the canary ends. */
  count?: number;
  /** Argo's `initialDelay`: no measurement before this long after the analysis began. */
  initialDelayMs: number;
  success?: Condition;
  failure?: Condition;
  threshold?: number;
  failureLimit: number;
  inconclusiveLimit: number;
  query: string;
}

export interface AnalysisDeclaration {
  metrics: MetricDeclaration[];
}

/** A declaration the engine cannot use: the rollout pauses with this message, never passes. */
export class AnalysisDeclarationError extends Error {}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go/Argo durations (`10s`, `1m`, `1m30s`, `250ms`), or a bare number of seconds. */
export function parseGoDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART))
    ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}

function nonNegativeInt(value: unknown, field: string, metric: string) {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new AnalysisDeclarationError(
      `metric ${metric}: ${field} must be a whole number >= 0, got ${JSON.stringify(
        value,
      )}`,
    );
  }
  return n;
}

/**
 * Reads the `analysis.yaml` of an analysis ConfigMap: `metrics` with a Prometheus `query`, an
 * `interval`, at least one of `successCondition` / `failureCondition`, and optional `count`,
 * `initialDelay`, `failureLimit`, `inconclusiveLimit` (defaults 0, as in Argo).
 */
export function parseAnalysis(text: string): AnalysisDeclaration {
  let doc: any;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new AnalysisDeclarationError(
      `${ANALYSIS_DATA_KEY} is not YAML: ${(e as Error).message}`,
    );
  }
  const spec = doc?.spec && !doc.metrics ? doc.spec : doc;
  if (!spec || !Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    throw new AnalysisDeclarationError(
      `${ANALYSIS_DATA_KEY} declares no metrics`,
    );
  }
  const seen = new Set<string>();
  const metrics = spec.metrics.map((m: any, i: number): MetricDeclaration => {
    const name = typeof m?.name === 'string' && m.name ? m.name : undefined;
    if (!name)
      throw new AnalysisDeclarationError(`metric ${i + 1} has no name`);
    if (seen.has(name))
      throw new AnalysisDeclarationError(`metric ${name} is declared twice`);
    seen.add(name);
    const query = m.provider?.prometheus?.query;
    if (typeof query !== 'string' || !query.trim()) {
      throw new AnalysisDeclarationError(
        `metric ${name}: provider.prometheus.query is missing (the only provider the engine runs)`,
      );
    }
    const intervalMs = parseGoDuration(m.interval ?? '30s');
    if (!intervalMs || intervalMs < 1000) {
      throw new AnalysisDeclarationError(
        `metric ${name}: interval ${JSON.stringify(
          m.interval,
        )} is not a duration of at least 1s`,
      );
    }
    const initialDelayMs =
      m.initialDelay === undefined ? 0 : parseGoDuration(m.initialDelay);
    if (initialDelayMs === undefined) {
      throw new AnalysisDeclarationError(
        `metric ${name}: initialDelay ${JSON.stringify(
          m.initialDelay,
        )} is not a duration`,
      );
    }
    const conditions: { success?: Condition; failure?: Condition } = {};
    try {
      if (m.successCondition !== undefined)
        conditions.success = parseCondition(String(m.successCondition));
      if (m.failureCondition !== undefined)
        conditions.failure = parseCondition(String(m.failureCondition));
    } catch (e) {
      throw new AnalysisDeclarationError(
        `metric ${name}: ${(e as Error).message}`,
      );
    }
    if (!conditions.success && !conditions.failure) {
      throw new AnalysisDeclarationError(
        `metric ${name} has neither successCondition nor failureCondition`,
      );
    }
    const count = nonNegativeInt(m.count, 'count', name);
    return {
      name,
      intervalMs,
      count: count ? count : undefined,
      initialDelayMs,
      ...conditions,
      threshold:
        thresholdOf(conditions.success) ?? thresholdOf(conditions.failure),
      failureLimit: nonNegativeInt(m.failureLimit, 'failureLimit', name) ?? 0,
      inconclusiveLimit:
        nonNegativeInt(m.inconclusiveLimit, 'inconclusiveLimit', name) ?? 0,
      query,
    };
  });
  return { metrics };
}

/** The query with the engine's args put in (`{{args.namespace}}`, `{{args.workload}}`, `{{args.role}}`). */
export function renderQuery(
  query: string,
  args: Record<string, string>,
): string {
  return query.replace(/\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}/g, (whole, name) =>
    name in args ? args[name] : whole,
  );
}
