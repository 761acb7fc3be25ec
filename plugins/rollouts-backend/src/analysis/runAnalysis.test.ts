import { mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { Entity } from '@backstage/catalog-model';
import {
  RolloutView,
  ROLLOUT_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1ConfigMap } from '@kubernetes/client-node';
import { FakeCluster, deployment } from '../testing/FakeCluster';
import { RolloutEngine } from '../engine/RolloutEngine';
import { MetricsQuerier, QueryResult } from './PrometheusClient';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'payments',
      'backstage.io/kubernetes-namespace': 'shop',
    },
  },
  spec: {
    owner: 'group:default/team-a',
    type: 'service',
    lifecycle: 'production',
  },
};

const ANALYSIS_YAML = (limits: string) => `
metrics:
  - name: error-ratio
    interval: 10s
    successCondition: result < 0.01
    failureCondition: result >= 0.05
    ${limits}
    provider:
      prometheus:
        query: error_ratio{namespace="{{args.namespace}}",workload="{{args.workload}}",role="{{args.role}}"}
`;

function analysisConfigMap(
  yaml: string,
  entityRef: string | null = 'component:default/payments',
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'payments-analysis',
      namespace: 'shop',
      annotations: entityRef ? { [ROLLOUT_ANNOTATIONS.entity]: entityRef } : {},
    },
    data: { 'analysis.yaml': yaml },
  };
}

/**
 * A Prometheus stand-in: what the canary's (or preview's) query and the stable's answer; every
 * query is recorded so a test sees the engine put its args in.
 */
class FakePrometheus implements MetricsQuerier {
  judged: QueryResult = { value: 0.001 };
  baseline: QueryResult = { value: 0.001 };
  readonly queries: string[] = [];
  async query(promql: string): Promise<QueryResult> {
    this.queries.push(promql);
    return /role="(canary|preview)"/.test(promql) ? this.judged : this.baseline;
  }
}

const steps = [
  { setWeight: 25 },
  { pause: { duration: '20s' } },
  { setWeight: 50 },
  { pause: { duration: '20s' } },
];

function setup(options: {
  yaml?: string;
  configMap?: V1ConfigMap | null;
  prometheus?: FakePrometheus | null;
  strategy?: 'Canary' | 'BlueGreen';
}) {
  const cluster = new FakeCluster();
  const strategy = options.strategy ?? 'Canary';
  const annotations: Record<string, string> = {
    [ROLLOUT_ANNOTATIONS.strategy]: strategy,
    [ROLLOUT_ANNOTATIONS.analysis]: 'payments-analysis',
    ...(strategy === 'Canary'
      ? { [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify(steps) }
      : {
          [ROLLOUT_ANNOTATIONS.activeService]: 'payments',
          [ROLLOUT_ANNOTATIONS.previewService]: 'payments-preview',
          [ROLLOUT_ANNOTATIONS.autoPromotion]: 'true',
        }),
  };
  cluster.addDeployment(
    deployment({ name: 'payments', image: 'acme/payments:1.0.0', annotations }),
  );
  if (strategy === 'BlueGreen') {
    for (const name of ['payments', 'payments-preview']) {
      cluster.services.put({
        metadata: {
          name,
          namespace: 'shop',
          annotations: {
            [ROLLOUT_ANNOTATIONS.entity]: 'component:default/payments',
          },
        },
        spec: { selector: { app: 'payments' } },
      });
    }
  }
  const configMap =
    options.configMap === undefined
      ? analysisConfigMap(options.yaml ?? ANALYSIS_YAML('failureLimit: 1'))
      : options.configMap;
  if (configMap) cluster.configMaps.put(configMap);
  const prometheus =
    options.prometheus === undefined
      ? new FakePrometheus()
      : options.prometheus;
  const engine = new RolloutEngine(
    [
      {
        cluster: { name: 'local' },
        cache: cluster.cache,
        client: cluster.client,
        prometheus: prometheus ?? undefined,
      },
    ],
    mockServices.logger.mock(),
    { unreadyThresholdMs: 60_000 },
  );
  const listener = { onSystemEvent: jest.fn(), onStateChange: jest.fn() };
  engine.setListener(listener);
  const act = async (action: 'start' | 'promote' | 'abort', image?: string) =>
    engine.act({
      entity,
      located: await engine.locate(entity, 'local'),
      action,
      image,
      input: {},
      expected: {},
      actor: 'user:default/ada',
    });
  const tick = async () => {
    cluster.settle();
    await engine.reconcileAll();
    cluster.settle();
    await engine.reconcileAll();
  };
  /** Time passes (the clock only: the engine's own timers stay put) and the engine looks again. */
  const advance = async (ms: number) => {
    jest.setSystemTime(Date.now() + ms);
    await tick();
  };
  const view = async (): Promise<Omit<RolloutView, 'allowedActions'>> =>
    (await engine.views(entity))[0].view;
  const events = () =>
    listener.onSystemEvent.mock.calls.map(([e]) => ({
      action: e.action as string,
      message: e.message as string,
      stepIndex: e.stepIndex as number,
    }));
  return {
    cluster,
    engine,
    prometheus: prometheus!,
    act,
    tick,
    advance,
    view,
    events,
  };
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-02T00:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('canary analysis', () => {
  it('measures at every step and in the background, passes a healthy canary, and records each measurement', async () => {
    const { act, tick, advance, view, events, prometheus } = setup({});
    await act('start', 'acme/payments:2.0.0');
    await tick();
    // Weight 25% reached: measured there before moving to the pause.
    expect((await view()).step.index).toBe(1);
    expect(prometheus.queries).toContain(
      'error_ratio{namespace="shop",workload="payments",role="canary"}',
    );
    expect(prometheus.queries).toContain(
      'error_ratio{namespace="shop",workload="payments",role="stable"}',
    );
    for (let i = 0; i < 8; i++) await advance(10_000);
    const done = await view();
    expect(done.phase).toBe('Healthy');
    expect(done.analysis?.phase).toBe('Successful');
    const metric = done.analysis!.metrics![0];
    expect(metric).toMatchObject({
      name: 'error-ratio',
      threshold: 0.01,
      intervalSeconds: 10,
      failureLimit: 1,
      failed: 0,
    });
    // Each step with canary traffic had its own measurement.
    expect(new Set(metric.measurements.map(m => m.stepIndex))).toEqual(
      new Set([0, 1, 2, 3]),
    );
    expect(metric.measurements[0]).toMatchObject({
      canary: 0.001,
      stable: 0.001,
      phase: 'Successful',
    });
    const analysed = events().filter(e => e.action === 'analysis');
    expect(analysed.length).toBe(metric.measurements.length);
    expect(analysed[0].message).toBe(
      'error-ratio: canary 0.001, stable 0.001: Successful (result < 0.01 holds)',
    );
    expect(events().map(e => e.action)).toContain('completed');
  });

  it('aborts at the first measurement past the failure limit, not before', async () => {
    const { act, tick, advance, view, events, prometheus } = setup({});
    prometheus.judged = { value: 0.05 };
    await act('start', 'acme/payments:2.0.0');
    await tick();
    // failureLimit 1: one failed measurement is tolerated.
    let v = await view();
    expect(v.phase).not.toBe('Aborted');
    expect(v.analysis?.metrics?.[0]).toMatchObject({
      failed: 1,
      phase: 'Running',
    });
    await advance(9_999);
    expect((await view()).analysis?.metrics?.[0].failed).toBe(1);
    await advance(1);
    v = await view();
    expect(v.phase).toBe('Aborted');
    expect(v.analysis).toMatchObject({ phase: 'Failed' });
    expect(v.analysis?.metrics?.[0]).toMatchObject({
      failed: 2,
      phase: 'Failed',
    });
    expect(v.message).toBe(
      'Analysis failed: error-ratio failed 2 time(s), limit 1; last: canary 0.05 (result >= 0.05 holds)',
    );
    expect(events().filter(e => e.action === 'analysis-abort')).toHaveLength(1);
    // Aborted: no more measurements.
    const taken = prometheus.queries.length;
    await advance(30_000);
    expect(prometheus.queries.length).toBe(taken);
  });

  it('with failureLimit 0 the first failure aborts; a value just under the failure condition is inconclusive', async () => {
    const failing = setup({ yaml: ANALYSIS_YAML('failureLimit: 0') });
    failing.prometheus.judged = { value: 0.2 };
    await failing.act('start', 'acme/payments:2.0.0');
    await failing.tick();
    expect((await failing.view()).phase).toBe('Aborted');

    const between = setup({ yaml: ANALYSIS_YAML('failureLimit: 0') });
    between.prometheus.judged = { value: 0.049 };
    await between.act('start', 'acme/payments:2.0.0');
    await between.tick();
    const v = await between.view();
    expect(v.phase).toBe('Paused');
    expect(v.pause?.reason).toContain(
      'error-ratio was inconclusive 1 time(s), limit 0',
    );
    expect(v.pause?.reason).toContain(
      'neither result < 0.01 nor result >= 0.05 holds',
    );
  });

  it('pauses, never aborts, when Prometheus errs; a person promotes and a new run begins', async () => {
    const { act, tick, advance, view, events, prometheus } = setup({});
    prometheus.judged = {
      error: 'Prometheus at http://127.0.0.1:9 did not answer: ECONNREFUSED',
    };
    await act('start', 'acme/payments:2.0.0');
    await tick();
    let v = await view();
    expect(v.phase).toBe('Paused');
    expect(v.step.index).toBe(0);
    expect(v.pause?.reason).toContain('ECONNREFUSED');
    expect(v.analysis?.phase).toBe('Inconclusive');
    expect(v.analysis?.metrics?.[0].measurements[0].phase).toBe('Error');
    expect(events().map(e => e.action)).toEqual(['analysis', 'analysis-pause']);
    // Nothing is measured while a person decides.
    const taken = prometheus.queries.length;
    await advance(60_000);
    expect(prometheus.queries.length).toBe(taken);
    expect((await view()).phase).toBe('Paused');

    prometheus.judged = { value: 0.001 };
    await act('promote');
    await tick();
    v = await view();
    expect(v.phase).not.toBe('Aborted');
    expect(v.step.index).toBeGreaterThanOrEqual(1);
    expect(v.analysis?.metrics?.[0]).toMatchObject({ inconclusive: 0 });
  });

  it('tolerates empty answers up to the inconclusive limit', async () => {
    const { act, tick, advance, view, prometheus } = setup({
      yaml: ANALYSIS_YAML('inconclusiveLimit: 1'),
    });
    prometheus.judged = { empty: 'the query returned no series' };
    await act('start', 'acme/payments:2.0.0');
    await tick();
    expect((await view()).analysis?.metrics?.[0]).toMatchObject({
      inconclusive: 1,
      phase: 'Running',
    });
    expect((await view()).pause?.reason).not.toContain('Analysis');
    await advance(10_000);
    const v = await view();
    expect(v.phase).toBe('Paused');
    expect(v.pause?.reason).toContain('the query returned no series');
  });

  it('pauses at the first measurement on a cluster without Prometheus', async () => {
    const { act, tick, view } = setup({ prometheus: null });
    await act('start', 'acme/payments:2.0.0');
    await tick();
    const v = await view();
    expect(v.phase).toBe('Paused');
    expect(v.analysis).toMatchObject({
      phase: 'Inconclusive',
      message: 'no Prometheus configured for cluster local',
    });
  });

  it('refuses an analysis ConfigMap of another entity, or a missing one, with a pause that says so', async () => {
    const foreign = setup({
      configMap: analysisConfigMap(
        ANALYSIS_YAML(''),
        'component:default/other',
      ),
    });
    await foreign.act('start', 'acme/payments:2.0.0');
    await foreign.tick();
    expect((await foreign.view()).pause?.reason).toContain(
      'analysis ConfigMap shop/payments-analysis is not bound to component:default/payments',
    );
    expect(foreign.prometheus.queries).toEqual([]);

    const missing = setup({ configMap: null });
    await missing.act('start', 'acme/payments:2.0.0');
    await missing.tick();
    expect((await missing.view()).pause?.reason).toBe(
      'Analysis inconclusive: analysis ConfigMap shop/payments-analysis not found',
    );
  });

  it("pauses with the cluster's reason when the engine's role may not read the ConfigMap", async () => {
    const { cluster, act, tick, view } = setup({});
    (cluster.client as any).readConfigMap = async () => {
      throw new NotAllowedError(
        "The cluster refuses the rollouts engine's credential for ConfigMap shop/payments-analysis (see its RBAC role): configmaps is forbidden",
      );
    };
    await act('start', 'acme/payments:2.0.0');
    await tick();
    const v = await view();
    expect(v.phase).toBe('Paused');
    expect(v.pause?.reason).toContain('configmaps is forbidden');
  });

  it('keeps its counts in the Deployment: a new engine aborts at the next failure', async () => {
    const first = setup({});
    first.prometheus.judged = { value: 0.3 };
    await first.act('start', 'acme/payments:2.0.0');
    await first.tick();
    expect((await first.view()).analysis?.metrics?.[0].failed).toBe(1);
    await first.engine.stop();

    const prometheus = new FakePrometheus();
    prometheus.judged = { value: 0.3 };
    const again = new RolloutEngine(
      [
        {
          cluster: { name: 'local' },
          cache: first.cluster.cache,
          client: first.cluster.client,
          prometheus,
        },
      ],
      mockServices.logger.mock(),
      { unreadyThresholdMs: 60_000 },
    );
    // Not due yet after the restart: the interval counts from the recorded measurement.
    jest.setSystemTime(Date.now() + 5_000);
    await again.reconcileAll();
    expect(prometheus.queries).toEqual([]);
    jest.setSystemTime(Date.now() + 5_000);
    first.cluster.settle();
    await again.reconcileAll();
    const [v] = await again.views(entity);
    expect(v.view.phase).toBe('Aborted');
    expect(v.view.analysis?.metrics?.[0].failed).toBe(2);
  });

  it('shows no analysis for a workload that declares none', async () => {
    const cluster = new FakeCluster();
    cluster.addDeployment(
      deployment({
        name: 'payments',
        image: 'acme/payments:1.0.0',
        annotations: { [ROLLOUT_ANNOTATIONS.strategy]: 'Canary' },
      }),
    );
    const engine = new RolloutEngine(
      [
        {
          cluster: { name: 'local' },
          cache: cluster.cache,
          client: cluster.client,
        },
      ],
      mockServices.logger.mock(),
      { unreadyThresholdMs: 60_000 },
    );
    const [v] = await engine.views(entity);
    expect(v.view.analysis).toBeUndefined();
  });
});

describe('blue-green pre-promotion analysis', () => {
  it('measures the preview against the active before promoting on its own', async () => {
    const { act, tick, view, prometheus, events } = setup({
      strategy: 'BlueGreen',
    });
    await act('start', 'acme/payments:2.0.0');
    for (let i = 0; i < 3; i++) await tick();
    const v = await view();
    expect(
      events()
        .map(e => e.action)
        .slice(0, 2),
    ).toEqual(['analysis', 'promote']);
    expect(prometheus.queries).toContain(
      'error_ratio{namespace="shop",workload="payments",role="preview"}',
    );
    expect(prometheus.queries).toContain(
      'error_ratio{namespace="shop",workload="payments",role="active"}',
    );
    expect(v.analysis?.metrics?.[0].measurements[0].stepIndex).toBeUndefined();
  });

  it('aborts a failing preview instead of promoting it', async () => {
    const { act, tick, view, prometheus } = setup({
      strategy: 'BlueGreen',
      yaml: ANALYSIS_YAML('failureLimit: 0'),
    });
    prometheus.judged = { value: 0.5 };
    await act('start', 'acme/payments:2.0.0');
    for (let i = 0; i < 3; i++) await tick();
    const v = await view();
    expect(v.phase).toBe('Aborted');
    expect(v.message).toContain(
      'Analysis failed: error-ratio failed 1 time(s), limit 0',
    );
  });
});
