import { NotAllowedError } from '@backstage/errors';
import {
  AnalysisMeasurement,
  ROLLOUT_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { bindingOf, boundEntityOf } from '../engine/binding';
import { RolloutState, nextState } from '../strategies/state';
import { StrategyContext, Transition } from '../strategies/types';
import { judge } from './conditions';
import {
  ANALYSIS_DATA_KEY,
  AnalysisDeclaration,
  AnalysisDeclarationError,
  MetricDeclaration,
  parseAnalysis,
  renderQuery,
} from './declaration';
import { QueryResult } from './PrometheusClient';
import {
  AnalysisRecord,
  MetricRecord,
  analysisPhase,
  metricPhase,
  recordMeasurement,
} from './verdict';

/** Which pods a measurement judges and which it compares them with, and where the rollout is. */
export interface AnalysisTarget {
  judged: 'canary' | 'preview';
  baseline: 'stable' | 'active';
  /** The canary step being measured; undefined for a blue-green pre-promotion analysis. */
  stepIndex?: number;
  /**
   * The rollout is about to move on (a weight reached, a timed pause over, a preview ready): it
   * may only once every metric has been measured here.
   */
  gate: boolean;
}

export interface AnalysisOutcome {
  /** The state change the measurements make (recorded, aborted or paused), if any. */
  transition?: Transition;
  /** The rollout must not move on yet (a measurement is still to come, or a person must decide). */
  hold: boolean;
}

const MESSAGE_MAX = 240;

function clip(text: string) {
  return text.length > MESSAGE_MAX
    ? `${text.slice(0, MESSAGE_MAX - 1)}…`
    : text;
}

/** The workload's analysis ConfigMap name, or undefined when it declares none. */
export function analysisNameOf(ctx: StrategyContext): string | undefined {
  return ctx.primary.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.analysis];
}

/** The record of this revision's analysis, if it has begun. */
function currentRecord(state: RolloutState, name: string) {
  const record = state.analysis;
  return record && record.revision === state.revision && record.name === name
    ? record
    : undefined;
}

interface Due {
  metrics: MetricRecord[];
  /** Some metric still has to be measured at this step before the rollout may move on. */
  blocking: boolean;
  /** When the next metric falls due, in ms from now. */
  nextInMs?: number;
}

/**
 * Which metrics to measure now: those whose interval has passed since their last measurement
 * (the background measurement), and at a gate those not yet measured at this step. Metrics that
 * took their `count`, or are still inside their `initialDelay`, wait.
 */
function dueMetrics(
  record: AnalysisRecord,
  target: AnalysisTarget,
  now: number,
): Due {
  const due: Due = { metrics: [], blocking: false };
  const soonest = (ms: number) => {
    due.nextInMs = due.nextInMs === undefined ? ms : Math.min(due.nextInMs, ms);
  };
  const started = Date.parse(record.startedAt);
  for (const m of record.metrics) {
    if (m.count && m.taken >= m.count) continue;
    const measuredHere =
      m.taken > 0 &&
      (target.stepIndex === undefined || m.lastStepIndex === target.stepIndex);
    const delayEnds = started + (m.initialDelaySeconds ?? 0) * 1000;
    if (now < delayEnds) {
      soonest(delayEnds - now);
      if (target.gate) due.blocking = true;
      continue;
    }
    const last = m.lastAt ? Date.parse(m.lastAt) : undefined;
    const intervalMs = m.intervalSeconds * 1000;
    if (
      last === undefined ||
      now - last >= intervalMs ||
      (target.gate && !measuredHere)
    ) {
      due.metrics.push(m);
      if (target.gate) due.blocking = true;
    } else {
      soonest(last + intervalMs - now);
    }
  }
  return due;
}

/** The ConfigMap's declaration, refused unless it is bound to the workload's own entity. */
async function readDeclaration(
  ctx: StrategyContext,
  name: string,
): Promise<AnalysisDeclaration> {
  const ns = ctx.primary.metadata!.namespace!;
  const namespace = ctx.cache.namespaces.get('', ns);
  const entityRef = boundEntityOf(ctx.primary, namespace);
  if (!entityRef) {
    throw new AnalysisDeclarationError(
      `${ns}/${ctx.primary.metadata?.name} is not bound to an entity, so no analysis ConfigMap can be its own`,
    );
  }
  let configMap;
  try {
    configMap = await ctx.client.readConfigMap(ns, name);
  } catch (e) {
    // The engine's role may not read it: a person must see why (an unreachable cluster is
    // retried by the next reconcile instead).
    if (e instanceof NotAllowedError)
      throw new AnalysisDeclarationError(e.message);
    throw e;
  }
  if (!configMap) {
    throw new AnalysisDeclarationError(
      `analysis ConfigMap ${ns}/${name} not found`,
    );
  }
  const binding = bindingOf(configMap, namespace, entityRef);
  if (binding.status !== 'bound') {
    throw new AnalysisDeclarationError(
      `analysis ConfigMap ${ns}/${name} is not bound to ${entityRef}: ${binding.message}`,
    );
  }
  const text = configMap.data?.[ANALYSIS_DATA_KEY];
  if (!text) {
    throw new AnalysisDeclarationError(
      `analysis ConfigMap ${ns}/${name} has no ${ANALYSIS_DATA_KEY} key`,
    );
  }
  return parseAnalysis(text);
}

/** The record with the declaration's current fields (a ConfigMap edit applies from the next measurement). */
function withDeclaration(
  record: AnalysisRecord | undefined,
  declaration: AnalysisDeclaration,
  meta: { name: string; revision: number; now: string },
): AnalysisRecord {
  const metrics = declaration.metrics.map((d): MetricRecord => {
    const before = record?.metrics.find(m => m.name === d.name);
    const m: MetricRecord = {
      measurements: [],
      taken: 0,
      successful: 0,
      failed: 0,
      inconclusive: 0,
      ...before,
      name: d.name,
      successCondition: d.success?.text,
      failureCondition: d.failure?.text,
      threshold: d.threshold,
      intervalSeconds: d.intervalMs / 1000,
      count: d.count,
      failureLimit: d.failureLimit,
      inconclusiveLimit: d.inconclusiveLimit,
      initialDelaySeconds: d.initialDelayMs
        ? d.initialDelayMs / 1000
        : undefined,
      phase: 'Pending',
    };
    m.phase = metricPhase(m);
    return m;
  });
  return {
    name: meta.name,
    revision: meta.revision,
    startedAt: record?.startedAt ?? meta.now,
    metrics,
    phase: analysisPhase(metrics),
  };
}

function formatValue(v: number | undefined) {
  return v === undefined ? 'none' : String(Number(v.toPrecision(4)));
}

/** One measurement of one metric: the judged pods' query and the baseline's, at the same time. */
async function measure(
  ctx: StrategyContext,
  declaration: MetricDeclaration,
  target: AnalysisTarget,
): Promise<AnalysisMeasurement> {
  const prometheus = ctx.analysis!.prometheus!;
  const args = (role: string) => ({
    namespace: ctx.primary.metadata!.namespace!,
    workload: ctx.primary.metadata!.name!,
    role,
  });
  const [judged, baseline] = await Promise.all([
    prometheus.query(renderQuery(declaration.query, args(target.judged))),
    prometheus
      .query(renderQuery(declaration.query, args(target.baseline)))
      .catch((): QueryResult => ({ error: 'baseline query failed' })),
  ]);
  const base = {
    at: ctx.now.toISOString(),
    ...(target.stepIndex !== undefined ? { stepIndex: target.stepIndex } : {}),
    ...('value' in baseline ? { stable: baseline.value } : {}),
  };
  if ('error' in judged) {
    return { ...base, phase: 'Error', message: clip(judged.error) };
  }
  if ('empty' in judged) {
    return { ...base, phase: 'Inconclusive', message: clip(judged.empty) };
  }
  const verdict = judge(judged.value, declaration);
  return {
    ...base,
    canary: judged.value,
    phase: verdict.phase,
    message: verdict.message,
  };
}

function measurementMessage(
  metric: string,
  m: AnalysisMeasurement,
  target: AnalysisTarget,
) {
  return clip(
    `${metric}: ${target.judged} ${formatValue(m.canary)}, ${
      target.baseline
    } ${formatValue(m.stable)}: ${m.phase}${
      m.message ? ` (${m.message})` : ''
    }`,
  );
}

/** A pause for a person, with the reason: what an analysis that cannot conclude comes to. */
function inconclusivePause(
  ctx: StrategyContext,
  record: AnalysisRecord,
  reason: string,
  events: Transition['events'],
): Transition {
  const message = clip(`Analysis inconclusive: ${reason}`);
  return {
    state: nextState(ctx, {
      phase: 'Paused',
      pause: {
        reason: message,
        since: ctx.now.toISOString(),
        kind: 'analysis',
      },
      message,
      analysis: { ...record, phase: 'Inconclusive', message: clip(reason) },
    }),
    events,
    event: 'analysis-pause',
    message,
    notify: 'paused',
  };
}

/**
 * The analysis of a rollout in flight, one reconcile at a time: measures what is due, keeps every
 * measurement (bounded) in the rollout's state and one history row per measurement, and says
 * whether the rollout may move on. A failed analysis aborts as the health gate does; an
 * inconclusive one (an empty answer, a Prometheus that is down or errs, a declaration the engine
 * cannot use, no Prometheus at all) pauses for a person: never a silent pass, never an abort.
 *
 * The counters and the last measurement times live in the rollout's state annotation on the
 * Deployment, written with its resourceVersion like every other transition: a restarted backend
 * (or another replica) carries on with the same counts and intervals, and two replicas cannot
 * both record the same due measurement (the second write loses the race and finds it not due).
 */
export async function runAnalysis(
  ctx: StrategyContext,
  state: RolloutState,
  target: AnalysisTarget,
): Promise<AnalysisOutcome> {
  const name = analysisNameOf(ctx);
  if (!name) return { hold: false };
  // A person decides on an inconclusive analysis: nothing is measured or moved meanwhile.
  if (state.pause?.kind === 'analysis') return { hold: true };
  const now = ctx.now.getTime();
  let record = currentRecord(state, name);
  if (record) {
    const due = dueMetrics(record, target, now);
    if (due.nextInMs !== undefined) ctx.requeueAfter?.(due.nextInMs);
    if (due.metrics.length === 0) return { hold: due.blocking };
  }

  // Something is due (or the analysis begins): only then is the ConfigMap read from the cluster.
  const meta = { name, revision: state.revision, now: ctx.now.toISOString() };
  const empty: AnalysisRecord = record ?? {
    ...meta,
    startedAt: meta.now,
    phase: 'Pending',
    metrics: [],
  };
  if (!ctx.analysis?.prometheus) {
    return {
      transition: inconclusivePause(
        ctx,
        empty,
        `no Prometheus configured for cluster ${
          ctx.analysis?.clusterName ?? 'of this workload'
        }`,
        undefined,
      ),
      hold: true,
    };
  }
  let declaration: AnalysisDeclaration;
  try {
    declaration = await readDeclaration(ctx, name);
  } catch (e) {
    if (!(e instanceof AnalysisDeclarationError)) throw e;
    return {
      transition: inconclusivePause(ctx, empty, e.message, undefined),
      hold: true,
    };
  }
  const begun = !record;
  record = withDeclaration(record, declaration, meta);
  const due = dueMetrics(record, target, now);
  if (due.nextInMs !== undefined) ctx.requeueAfter?.(due.nextInMs);
  if (due.metrics.length === 0) {
    return {
      transition: begun
        ? { state: nextState(ctx, { analysis: record }) }
        : undefined,
      hold: due.blocking,
    };
  }

  const measured = await Promise.all(
    due.metrics.map(async m => ({
      name: m.name,
      measurement: await measure(
        ctx,
        declaration.metrics.find(d => d.name === m.name)!,
        target,
      ),
    })),
  );
  const metrics = record.metrics.map(m => {
    const taken = measured.find(x => x.name === m.name);
    return taken ? recordMeasurement(m, taken.measurement) : m;
  });
  const events = measured.map(x => ({
    event: 'analysis',
    message: measurementMessage(x.name, x.measurement, target),
  }));
  const phase = analysisPhase(metrics);
  const judged: AnalysisRecord = { ...record, metrics, phase };

  const culprit = (p: 'Failed' | 'Inconclusive') => {
    const m = metrics.find(x => x.phase === p)!;
    const last = m.measurements[m.measurements.length - 1];
    const [count, limit] =
      p === 'Failed'
        ? [m.failed, m.failureLimit]
        : [m.inconclusive, m.inconclusiveLimit];
    return clip(
      `${m.name} ${
        p === 'Failed' ? 'failed' : 'was inconclusive'
      } ${count} time(s), limit ${limit}; last: ${target.judged} ${formatValue(
        last?.canary,
      )}${last?.message ? ` (${last.message})` : ''}`,
    );
  };

  if (phase === 'Failed') {
    const reason = culprit('Failed');
    const message = `Analysis failed: ${reason}`;
    return {
      transition: {
        state: nextState(ctx, {
          phase: 'Aborted',
          pause: undefined,
          unhealthySince: undefined,
          message,
          analysis: { ...judged, message: reason },
        }),
        events,
        event: 'analysis-abort',
        message,
        notify: 'aborted',
      },
      hold: true,
    };
  }
  if (phase === 'Inconclusive') {
    return {
      transition: inconclusivePause(
        ctx,
        judged,
        culprit('Inconclusive'),
        events,
      ),
      hold: true,
    };
  }
  return {
    transition: { state: nextState(ctx, { analysis: judged }), events },
    // Measured here just now; the next pass moves on.
    hold: true,
  };
}
