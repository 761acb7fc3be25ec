// Figure 6 of `make bench`: one canary whose release answers 6% errors, on kube-sim with its pods'
// /metrics, a real Prometheus (Debian's, scraping every second) and the rollouts engine with
// analysis (interval 5 s, failureLimit 0). Prints one JSON line: the time from Prometheus' first
// scrape of a canary pod (the first bad sample) to the engine writing Aborted, beside the interval.
// Runs in its own process (Backstage's node transform loads the TypeScript sources), after the
// other figures, so nothing else shares its clocks.
require(require.resolve('@backstage/cli-node/config/nodeTransform.cjs', {
  paths: [require('node:path').resolve(__dirname, '../../../packages/backend')],
}));
const { KubeConfig } = require('@kubernetes/client-node');
const { startKubeSim, startPrometheus } = require('../../../packages/kube-sim/src');
const { RolloutEngine } = require('../../../plugins/rollouts-backend/src/engine/RolloutEngine');

const INTERVAL = '5s';
const SCRAPE_SECONDS = 1;
const NAME = 'bench-analysis';
const logger = { info() {}, warn() {}, error() {}, debug() {}, child() { return logger; } };

const selector = `namespace="${NAME}",app_kubernetes_io_name="${NAME}",rollouts_backstage_io_role="{{args.role}}"`;
const analysis = `metrics:
  - name: error-ratio
    interval: ${INTERVAL}
    successCondition: result < 0.01
    failureCondition: result >= 0.05
    failureLimit: 0
    # Before Prometheus has two scrapes of the canary the ratio is empty: tolerated, not judged.
    inconclusiveLimit: 20
    provider:
      prometheus:
        query: sum(rate(http_requests_total{${selector},status=~"5.."}[10s])) / sum(rate(http_requests_total{${selector}}[10s]))
`;

function objects() {
  const bound = { 'rollouts.backstage.io/entity': `component:default/${NAME}` };
  const labels = { 'app.kubernetes.io/name': NAME };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAME } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${NAME}-analysis`, namespace: NAME, annotations: bound },
      data: { 'analysis.yaml': analysis },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: NAME,
        namespace: NAME,
        labels: { ...labels, 'backstage.io/kubernetes-id': NAME },
        annotations: {
          ...bound,
          'rollouts.backstage.io/strategy': 'Canary',
          'rollouts.backstage.io/canary-steps': '[{"setWeight":50},{"pause":{}}]',
          'rollouts.backstage.io/analysis': `${NAME}-analysis`,
        },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels: { ...labels, 'rollouts.backstage.io/role': 'stable' },
            annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
          },
          spec: { containers: [{ name: 'app', image: `acme/${NAME}:1.0.0`, ports: [{ containerPort: 8080 }] }] },
        },
      },
    },
  ];
}

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: NAME,
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': NAME, 'backstage.io/kubernetes-namespace': NAME },
  },
  spec: { owner: 'group:default/bench', type: 'service', lifecycle: 'production' },
};

async function until(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs / 1000} s`);
    await new Promise(r => setTimeout(r, 100));
  }
}

async function main() {
  const sim = await startKubeSim({ timeScale: 0.05, podMetrics: true });
  const prometheus = await startPrometheus({ targetsFile: sim.prometheusTargetsFile, scrapeIntervalSeconds: SCRAPE_SECONDS });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig());
  const engine = RolloutEngine.fromClusters(
    [{ name: 'bench', url: sim.url, kubeConfig, prometheusUrl: prometheus.url }],
    logger,
    { unreadyThresholdMs: 60_000 },
  );
  try {
    await sim.control.apply(objects());
    const view = async () => (await engine.views(entity))[0]?.view;
    await until('the stable pods ready', async () => (await view())?.revisions[0]?.ready === 2, 60_000);
    const startedAt = Date.now();
    await engine.act({
      entity,
      located: await engine.locate(entity, 'bench'),
      action: 'start',
      image: `acme/${NAME}:2.0.0-errors`,
      input: {},
      expected: {},
      actor: 'user:default/bench',
    });
    // Only the engine's own change-driven reconciles and timers move it (no scheduled pass).
    const aborted = await until('Aborted', async () => {
      const v = await view();
      return v?.phase === 'Aborted' ? v : undefined;
    }, 120_000);
    const abortedAt = Date.parse(aborted.updatedAt);
    const q = `http_requests_total{namespace="${NAME}",rollouts_backstage_io_role="canary",route="/",status="500"}[10m]`;
    const res = await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json();
    const firstScrapeAt = Math.min(...res.data.result.flatMap(s => s.values.map(([t]) => t * 1000)));
    const metric = aborted.analysis.metrics[0];
    process.stdout.write(
      `${JSON.stringify({
        intervalSeconds: metric.intervalSeconds,
        scrapeIntervalSeconds: SCRAPE_SECONDS,
        failureLimit: metric.failureLimit,
        firstBadScrapeToAbortedSeconds: (abortedAt - firstScrapeAt) / 1000,
        startToAbortedSeconds: (abortedAt - startedAt) / 1000,
        measurements: metric.measurements.map(m => m.phase),
        message: aborted.message,
      })}\n`,
    );
  } finally {
    await engine.stop();
    await prometheus.stop();
    await sim.close();
  }
}

main().then(
  () => process.exit(0),
  e => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  },
);
