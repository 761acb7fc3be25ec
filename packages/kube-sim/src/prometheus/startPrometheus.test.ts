import { startKubeSim, KubeSim } from '../index';
import { RunningPrometheus, startPrometheus } from './startPrometheus';

const deployment = (name: string, image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { 'app.kubernetes.io/name': name } },
    template: {
      metadata: {
        labels: {
          'app.kubernetes.io/name': name,
          'rollouts.backstage.io/role': 'stable',
        },
        annotations: {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': '8080',
          'prometheus.io/path': '/metrics',
        },
      },
      spec: {
        containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }],
      },
    },
  },
});

async function instant(prometheus: RunningPrometheus, query: string) {
  const res = await fetch(
    `${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`,
  );
  const body = await res.json();
  return body.data.result as Array<{
    metric: Record<string, string>;
    value: [number, string];
  }>;
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('a real Prometheus over kube-sim', () => {
  let sim: KubeSim;
  let prometheus: RunningPrometheus;
  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.05, podMetrics: true });
    prometheus = await startPrometheus({
      targetsFile: sim.prometheusTargetsFile!,
    });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await sim?.close();
  });

  it('discovers the pods kube-sim lists, with their labels, and rate() sees their errors', async () => {
    await sim.control.apply([deployment('orders', 'acme/orders:2.0.0-errors')]);
    const [series] = await eventually(
      'a scrape of the orders pod',
      async () => {
        const r = await instant(
          prometheus,
          'http_requests_total{app_kubernetes_io_name="orders"}',
        );
        return r.length ? r : undefined;
      },
    );
    expect(series.metric).toMatchObject({
      namespace: 'default',
      app_kubernetes_io_name: 'orders',
      rollouts_backstage_io_role: 'stable',
      job: 'kubernetes-pods',
    });
    expect(series.metric.instance).toMatch(/^127\.244\.\d+\.\d+:8080$/);
    const ratio = await eventually('an error ratio', async () => {
      const [r] = await instant(
        prometheus,
        'sum(rate(http_requests_total{app_kubernetes_io_name="orders",status=~"5.."}[10s])) / sum(rate(http_requests_total{app_kubernetes_io_name="orders"}[10s]))',
      );
      return r && Number(r.value[1]) > 0 ? Number(r.value[1]) : undefined;
    });
    expect(ratio).toBeGreaterThan(0.05);
    expect(ratio).toBeLessThan(0.07);
  }, 60_000);
});
