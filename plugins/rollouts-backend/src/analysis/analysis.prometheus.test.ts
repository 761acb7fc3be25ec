import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import {
  KubeSim,
  RunningPrometheus,
  startKubeSim,
  startPrometheus,
} from '@rust-delivery-portal/kube-sim';
import {
  ROLLOUT_ANNOTATIONS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeConfig } from '@kubernetes/client-node';
import { RolloutEngine, RolloutEvent } from '../engine/RolloutEngine';

/**
 * The engine's analysis against a real Prometheus (Debian's, installed by
 * scripts/ensure-prometheus.sh; without it these tests fail, they never skip) scraping kube-sim's
 * simulated pods, whose image tag decides their traffic: `-errors` answers 6% with 500, `-slow`
 * has a p99 about four times the healthy one. The queries are the contract's PromQL, run over
 * real scrapes; time is real (a 1 s scrape interval, 2 s between measurements, the first after
 * 8 s: Prometheus must have found the canary's pods and scraped them twice for `rate()`).
 */

jest.setTimeout(120_000);

const ANALYSIS = `
metrics:
  - name: error-ratio
    interval: 2s
    initialDelay: 8s
    successCondition: result < 0.01
    failureCondition: result >= 0.05
    failureLimit: 1
    inconclusiveLimit: 2
    provider:
      prometheus:
        query: |
          sum(rate(http_requests_total{namespace="{{args.namespace}}",app_kubernetes_io_name="{{args.workload}}",rollouts_backstage_io_role="{{args.role}}",status=~"5.."}[10s]))
          /
          sum(rate(http_requests_total{namespace="{{args.namespace}}",app_kubernetes_io_name="{{args.workload}}",rollouts_backstage_io_role="{{args.role}}"}[10s]))
  - name: latency-p99
    interval: 2s
    initialDelay: 8s
    successCondition: result < 0.5
    failureLimit: 1
    inconclusiveLimit: 2
    provider:
      prometheus:
        query: |
          histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{args.namespace}}",app_kubernetes_io_name="{{args.workload}}",rollouts_backstage_io_role="{{args.role}}"}[10s])))
`;

/** A service as the template generates it: labels, scrape annotations, its analysis ConfigMap. */
function service(name: string, steps: object[]) {
  const entityRef = `component:default/${name}`;
  const bound = { [ROLLOUT_ANNOTATIONS.entity]: entityRef };
  const labels = { 'app.kubernetes.io/name': name };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `${name}-analysis`,
        namespace: name,
        annotations: bound,
      },
      data: { 'analysis.yaml': ANALYSIS },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: name,
        labels: { ...labels, 'backstage.io/kubernetes-id': name },
        annotations: {
          ...bound,
          [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
          [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify(steps),
          [ROLLOUT_ANNOTATIONS.analysis]: `${name}-analysis`,
        },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels: { ...labels, 'rollouts.backstage.io/role': 'stable' },
            annotations: {
              'prometheus.io/scrape': 'true',
              'prometheus.io/port': '8080',
              'prometheus.io/path': '/metrics',
            },
          },
          spec: {
            containers: [
              {
                name: 'app',
                image: `acme/${name}:1.0.0`,
                ports: [{ containerPort: 8080 }],
              },
            ],
          },
        },
      },
    },
  ];
}

function entityOf(name: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': name,
      },
    },
    spec: {
      owner: 'group:default/team-a',
      type: 'service',
      lifecycle: 'production',
    },
  };
}

async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; last: ${JSON.stringify(value)}`,
      );
    }
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('canary analysis with a real Prometheus', () => {
  let sim: KubeSim;
  let prometheus: RunningPrometheus;
  let engine: RolloutEngine;
  let passes: NodeJS.Timeout;
  const history: RolloutEvent[] = [];

  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.05, podMetrics: true });
    prometheus = await startPrometheus({
      targetsFile: sim.prometheusTargetsFile!,
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(sim.kubeconfig());
    engine = RolloutEngine.fromClusters(
      [
        {
          name: 'sim',
          url: sim.url,
          kubeConfig,
          prometheusUrl: prometheus.url,
        },
      ],
      mockServices.logger.mock(),
      { unreadyThresholdMs: 60_000 },
    );
    engine.setListener({
      onSystemEvent: async e => {
        history.push(e);
      },
      onStateChange: async () => {},
    });
    // The scheduler's safety-net pass, as the plugin runs it.
    passes = setInterval(() => engine.reconcileAll().catch(() => {}), 500);
  });

  afterAll(async () => {
    clearInterval(passes);
    await engine?.stop();
    await prometheus?.stop();
    await sim?.close();
  });

  async function start(name: string, image: string, steps: object[]) {
    await sim.control.apply(service(name, steps));
    const entity = entityOf(name);
    await eventually(
      `${name} ready`,
      async () => (await engine.views(entity))[0]?.view.revisions[0]?.ready,
      ready => ready === 2,
    );
    await engine.act({
      entity,
      located: await engine.locate(entity, 'sim'),
      action: 'start',
      image,
      input: {},
      expected: {},
      actor: 'user:default/ada',
    });
    return async (): Promise<Omit<RolloutView, 'allowedActions'>> =>
      (await engine.views(entity))[0].view;
  }

  const rows = (workload: string, action: string) =>
    history.filter(e => e.workload === workload && e.action === action);

  it('aborts a canary answering 6% errors at its first measurement past the failure limit', async () => {
    const view = await start('orders', 'acme/orders:2.0.0-errors', [
      { setWeight: 50 },
      { pause: { duration: '60s' } },
    ]);
    const aborted = await eventually(
      'the abort',
      view,
      v => v.phase === 'Aborted',
    );
    const metric = aborted.analysis!.metrics!.find(
      m => m.name === 'error-ratio',
    )!;
    expect(aborted.analysis!.phase).toBe('Failed');
    expect(metric.phase).toBe('Failed');
    // failureLimit 1: the second failed measurement aborts, and it is the last one taken.
    expect(metric.failed).toBe(2);
    expect(metric.measurements.filter(m => m.phase === 'Failed')).toHaveLength(
      2,
    );
    expect(metric.measurements[metric.measurements.length - 1].phase).toBe(
      'Failed',
    );
    const failed = metric.measurements.filter(m => m.phase === 'Failed');
    for (const m of failed) {
      expect(m.canary).toBeGreaterThanOrEqual(0.05);
      expect(m.stable).toBe(0);
    }
    expect(rows('orders', 'analysis-abort')).toHaveLength(1);
    expect(rows('orders', 'analysis-abort')[0].message).toMatch(
      /^Analysis failed: error-ratio failed 2 time\(s\), limit 1/,
    );
  });

  it('aborts a canary twice as slow on its p99 latency', async () => {
    const view = await start('search', 'acme/search:2.0.0-slow', [
      { setWeight: 50 },
      { pause: { duration: '60s' } },
    ]);
    const aborted = await eventually(
      'the abort',
      view,
      v => v.phase === 'Aborted',
    );
    const latency = aborted.analysis!.metrics!.find(
      m => m.name === 'latency-p99',
    )!;
    expect(latency).toMatchObject({
      phase: 'Failed',
      failed: 2,
      threshold: 0.5,
    });
    const last = latency.measurements[latency.measurements.length - 1];
    expect(last.canary!).toBeGreaterThan(2 * last.stable!);
    expect(
      aborted.analysis!.metrics!.find(m => m.name === 'error-ratio')!.failed,
    ).toBe(0);
    expect(aborted.message).toMatch(
      /^Analysis failed: latency-p99 failed 2 time\(s\)/,
    );
  });

  it('passes a healthy canary through every step, each measurement in the history', async () => {
    const view = await start('billing', 'acme/billing:2.0.0', [
      { setWeight: 50 },
      { pause: { duration: '5s' } },
    ]);
    const done = await eventually(
      'completion',
      view,
      v => v.phase === 'Healthy' && !v.targetImage,
    );
    expect(done.revisions[0].image).toBe('acme/billing:2.0.0');
    expect(done.analysis!.phase).toBe('Successful');
    for (const metric of done.analysis!.metrics!) {
      expect(metric.failed).toBe(0);
      const passed = metric.measurements.filter(m => m.phase === 'Successful');
      // Every step judged by a passing measurement of its own.
      expect(new Set(passed.map(m => m.stepIndex))).toEqual(new Set([0, 1]));
      // Anything else is only Prometheus not having scraped the canary twice yet (a loaded machine).
      for (const m of metric.measurements.filter(
        x => x.phase !== 'Successful',
      )) {
        expect(m).toMatchObject({
          phase: 'Inconclusive',
          message: 'the query returned no series',
        });
      }
    }
    const measured = rows('billing', 'analysis');
    const taken = done.analysis!.metrics!.reduce(
      (n, m) => n + m.measurements.length,
      0,
    );
    expect(measured).toHaveLength(taken);
    for (const row of measured)
      expect(row.message).toMatch(/: (Successful|Inconclusive) \(/);
    expect(
      measured.filter(r => /: Successful \(/.test(r.message!)).length,
    ).toBeGreaterThanOrEqual(4);
    expect(rows('billing', 'completed')).toHaveLength(1);
  });

  it('pauses with the reason, never aborts, when Prometheus stops in the middle', async () => {
    const view = await start('ledger', 'acme/ledger:2.0.0', [
      { setWeight: 50 },
      { pause: {} },
    ]);
    await eventually(
      'a successful measurement',
      view,
      v => (v.analysis?.metrics?.[0]?.successful ?? 0) > 0,
    );
    await prometheus.stop();
    const paused = await eventually(
      'the inconclusive pause',
      view,
      v => v.phase === 'Paused' && v.analysis?.phase === 'Inconclusive',
    );
    expect(paused.pause!.reason).toMatch(
      /^Analysis inconclusive: .* was inconclusive 3 time\(s\), limit 2/,
    );
    expect(paused.pause!.reason).toContain('did not answer');
    const errored = paused
      .analysis!.metrics!.flatMap(m => m.measurements)
      .filter(m => m.phase === 'Error');
    expect(errored.length).toBeGreaterThan(0);
    expect(rows('ledger', 'analysis-abort')).toHaveLength(0);
    expect(rows('ledger', 'analysis-pause')).toHaveLength(1);
    // It stays paused for a person.
    await new Promise(r => setTimeout(r, 3000));
    expect((await view()).phase).toBe('Paused');
  });
});
