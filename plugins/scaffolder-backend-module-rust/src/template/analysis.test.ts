import { parse } from 'yaml';
import {
  parseManifests,
  checkManifestRules,
} from './__testUtils__/artifactChecks';
import { startScaffolder } from './__testUtils__/dryRun';
import { promtoolTest } from './__testUtils__/promtool';

jest.setTimeout(120_000);

const canary = {
  name: 'orders-api',
  description: 'Takes orders',
  owner: 'group:default/team-a',
  port: 3000,
  strategy: 'Canary',
  canarySteps: [20, 50],
  cluster: 'local',
  namespace: 'shop',
  target: 'local',
};

/** A canary as the form sends it: every analysis field with its default. */
const formDefaults = {
  ...canary,
  trafficRouting: 'replica-ratio',
  analysis: true,
  analysisMaxErrorPercent: 1,
  analysisFailErrorPercent: 5,
  analysisMaxLatencyMs: 500,
  analysisInterval: '30s',
  analysisFailureLimit: 1,
};

/** The rendered analysis: the ConfigMap, its parsed `analysis.yaml` and the Deployment. */
function analysisOf(files: Map<string, string>) {
  const { objects, problems } = parseManifests(files);
  const configMap = objects.find(
    o => o.kind === 'ConfigMap' && o.metadata.name === 'orders-api-analysis',
  );
  return {
    objects,
    problems,
    configMap,
    spec: configMap && parse(configMap.data['analysis.yaml']),
    deployment: objects.find(o => o.kind === 'Deployment'),
  };
}

/** What the engine does to a query before it sends it: `{{args.*}}` substituted. */
function withArgs(query: string, role: string): string {
  return query
    .replace(/\{\{args\.namespace\}\}/g, 'shop')
    .replace(/\{\{args\.workload\}\}/g, 'orders-api')
    .replace(/\{\{args\.role\}\}/g, role);
}

describe('canary analysis of the rust-service template (real scaffolder, dry run)', () => {
  let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
  beforeAll(async () => {
    scaffolder = await startScaffolder();
  });
  afterAll(async () => scaffolder?.stop());

  describe('a canary with the form defaults', () => {
    let result: Awaited<ReturnType<typeof scaffolder.dryRun>>;
    beforeAll(async () => {
      result = await scaffolder.dryRun(canary);
    });

    it('renders an analysis ConfigMap bound to the entity, which the manifests check accepts', () => {
      expect(result.status).toBe(200);
      expect(result.log.join('\n')).toContain(
        'Finished step Check the cluster',
      );
      const { problems, objects, configMap } = analysisOf(result.files);
      expect(problems).toEqual([]);
      expect(checkManifestRules(objects, 'orders-api')).toEqual([]);
      expect(configMap.metadata).toMatchObject({
        namespace: 'shop',
        annotations: {
          'rollouts.backstage.io/entity': 'component:default/orders-api',
        },
      });
      expect(Object.keys(configMap.data)).toEqual(['analysis.yaml']);
      expect(
        parse(result.files.get('deploy/kubernetes/kustomization.yaml')!)
          .resources,
      ).toContain('analysis.yaml');
    });

    it('names it on the Deployment and labels and annotates the pods as Prometheus and the queries need', () => {
      const { deployment } = analysisOf(result.files);
      expect(
        deployment.metadata.annotations['rollouts.backstage.io/analysis'],
      ).toBe('orders-api-analysis');
      const pod = deployment.spec.template.metadata;
      expect(pod.labels).toMatchObject({
        'app.kubernetes.io/name': 'orders-api',
        'rollouts.backstage.io/role': 'stable',
      });
      expect(pod.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '3000',
        'prometheus.io/path': '/metrics',
      });
      // With a replica ratio the Service keeps selecting the canary's pods as well.
      const service = analysisOf(result.files).objects.find(
        o => o.kind === 'Service',
      );
      expect(service.spec.selector).toEqual({
        'app.kubernetes.io/name': 'orders-api',
      });
    });

    it('judges the 5xx share and the p99 latency with the default thresholds', () => {
      const { spec } = analysisOf(result.files);
      expect(spec.metrics).toMatchObject([
        {
          name: 'error-ratio',
          initialDelay: '1m',
          interval: '30s',
          successCondition: 'result < 0.01',
          failureCondition: 'result >= 0.05',
          failureLimit: 1,
        },
        {
          name: 'latency-p99',
          initialDelay: '1m',
          interval: '30s',
          successCondition: 'result < 0.5',
          failureLimit: 1,
        },
      ]);
      expect(spec.metrics[1].failureCondition).toBeUndefined();
      for (const metric of spec.metrics) {
        const query: string = metric.provider.prometheus.query;
        expect(query).toContain('namespace="{{args.namespace}}"');
        expect(query).toContain('app_kubernetes_io_name="{{args.workload}}"');
        expect(query).toContain('rollouts_backstage_io_role="{{args.role}}"');
      }
    });

    it('has queries that Prometheus evaluates to the canary’s and the stable pods’ own values', () => {
      const [errorRatio, latency] = analysisOf(result.files).spec.metrics.map(
        (m: any) => m.provider.prometheus.query as string,
      );
      const pods = (role: string, extra: string) =>
        `{namespace="shop",app_kubernetes_io_name="orders-api",rollouts_backstage_io_role="${role}",method="GET",${extra}}`;
      const buckets = (role: string, route: string, counts: number[]) =>
        ['0.005', '0.1', '0.5', '1', '+Inf'].map((le, i) => ({
          series: `http_request_duration_seconds_bucket${pods(
            role,
            `route="${route}",le="${le}"`,
          )}`,
          values: `0+${counts[i]}x40`,
        }));
      const series = [
        // Canary: 1 request in 20 answers 500, every one between 0.5 s and 1 s ...
        {
          series: `http_requests_total${pods(
            'canary',
            'route="/",status="500"',
          )}`,
          values: '0+1x40',
        },
        {
          series: `http_requests_total${pods(
            'canary',
            'route="/",status="200"',
          )}`,
          values: '0+19x40',
        },
        ...buckets('canary', '/', [0, 0, 0, 20, 20]),
        // ... and its many fast probe answers, which must not dilute either.
        {
          series: `http_requests_total${pods(
            'canary',
            'route="/healthz",status="200"',
          )}`,
          values: '0+80x40',
        },
        ...buckets('canary', '/healthz', [80, 80, 80, 80, 80]),
        // Stable: no errors, every request below 0.1 s.
        {
          series: `http_requests_total${pods(
            'stable',
            'route="/",status="200"',
          )}`,
          values: '0+20x40',
        },
        ...buckets('stable', '/', [0, 20, 20, 20, 20]),
        // Another workload of the namespace that fails everything: not selected.
        {
          series:
            'http_requests_total{namespace="shop",app_kubernetes_io_name="billing",rollouts_backstage_io_role="canary",method="GET",route="/",status="503"}',
          values: '0+50x40',
        },
      ];
      // Inside a bucket Prometheus interpolates linearly, with these float operations.
      const rate = 80 / 60;
      const p99Between = (lower: number, upper: number) =>
        lower + (upper - lower) * ((0.99 * rate) / rate);
      const at = (expr: string, value: number) => ({
        expr,
        evalTime: '5m',
        samples: [{ labels: '{}', value }],
      });
      expect(
        promtoolTest({
          scrapeInterval: '15s',
          series,
          expectations: [
            at(withArgs(errorRatio, 'canary'), 0.05),
            at(withArgs(errorRatio, 'stable'), 0),
            // Pods without traffic: nothing to judge, an empty (inconclusive) result, never 0.
            {
              expr: withArgs(errorRatio, 'preview'),
              evalTime: '5m',
              samples: [],
            },
            at(withArgs(latency, 'canary'), p99Between(0.5, 1)),
            at(withArgs(latency, 'stable'), p99Between(0.005, 0.1)),
          ],
        }),
      ).toBe('');
    });

    it('says in the README what the analysis judges and where to change it', () => {
      const readme = result.files.get('README.md')!;
      expect(readme).toContain('### Canary analysis');
      expect(readme).toContain(
        '5xx share below 1% (fails at 5%), p99 latency below 500 ms, measured every 30s, 1 failed measurement tolerated per metric',
      );
      expect(readme).toContain('`orders-api-analysis`');
    });
  });

  it('follows the thresholds of the form', async () => {
    const result = await scaffolder.dryRun({
      ...canary,
      analysisMaxErrorPercent: 0.5,
      analysisFailErrorPercent: 2,
      analysisMaxLatencyMs: 250,
      analysisInterval: '1m',
      analysisFailureLimit: 0,
    });
    expect(result.status).toBe(200);
    const { spec } = analysisOf(result.files);
    expect(spec.metrics).toMatchObject([
      {
        name: 'error-ratio',
        interval: '1m',
        successCondition: 'result < 0.005',
        failureCondition: 'result >= 0.02',
        failureLimit: 0,
      },
      {
        name: 'latency-p99',
        interval: '1m',
        successCondition: 'result < 0.25',
        failureLimit: 0,
      },
    ]);
  });

  it.each([
    ['a canary with the analysis switched off', { ...canary, analysis: false }],
    ['a rolling update', { ...canary, strategy: 'RollingUpdate' }],
  ])(
    'renders no analysis for %s, and keeps the scrape annotations',
    async (_, values) => {
      const result = await scaffolder.dryRun(values);
      expect(result.status).toBe(200);
      const { configMap, deployment, objects } = analysisOf(result.files);
      expect(configMap).toBeUndefined();
      expect(objects.filter(o => o.kind === 'ConfigMap')).toHaveLength(1);
      expect(deployment.metadata.annotations).not.toHaveProperty(
        'rollouts.backstage.io/analysis',
      );
      expect(deployment.spec.template.metadata.labels).not.toHaveProperty(
        'rollouts.backstage.io/role',
      );
      expect(
        deployment.spec.template.metadata.annotations['prometheus.io/scrape'],
      ).toBe('true');
      expect(result.files.get('README.md')).not.toContain(
        '### Canary analysis',
      );
    },
  );

  describe('refuses wrong analysis values with a clear message', () => {
    // Fields of a dependency branch: the server's schema check reports the strategy's `oneOf`
    // (the browser form resolves the branch and puts its message under the field itself).
    it.each([
      ['a 5xx share of 0', { analysisMaxErrorPercent: 0 }],
      ['a 5xx share above 100', { analysisFailErrorPercent: 120 }],
      ['a latency limit of 0 ms', { analysisMaxLatencyMs: 0 }],
      ['a fractional latency limit', { analysisMaxLatencyMs: 2.5 }],
      ['an interval without unit', { analysisInterval: '30' }],
      ['a negative failure limit', { analysisFailureLimit: -1 }],
    ])('%s (form schema)', async (_, values) => {
      // The form sends every field with its default, and `analysis: true` selects their branch.
      const result = await scaffolder.dryRun({ ...formDefaults, ...values });
      expect(result.status).toBe(400);
      expect(
        result.body.errors.map((e: { message: string }) => e.message),
      ).toContainEqual(expect.stringMatching(/exactly one/));
    });

    it('accepts what the form sends by default', async () => {
      const result = await scaffolder.dryRun(formDefaults);
      expect(result.status).toBe(200);
    });

    it.each([
      [
        'a failing share below the passing one',
        { analysisMaxErrorPercent: 5, analysisFailErrorPercent: 1 },
        'Analysis: the failing 5xx share (1%) must be at least the maximum share that passes (5%)',
      ],
      [
        'a 5xx share of 0 sent without the form',
        { analysisMaxErrorPercent: 0 },
        'Invalid maximum 5xx share 0: use a percentage above 0 and at most 100',
      ],
      [
        'an interval shorter than 10s',
        { analysisInterval: '5s' },
        'Invalid analysis interval "5s": use seconds or minutes from 10s to 60m',
      ],
    ])('%s (server-side action)', async (_, values, message) => {
      const result = await scaffolder.dryRun({ ...canary, ...values });
      expect(result.status).toBe(400);
      expect(result.body.error).toMatchObject({ name: 'InputError' });
      expect(result.body.error.message).toContain(message);
    });
  });
});
