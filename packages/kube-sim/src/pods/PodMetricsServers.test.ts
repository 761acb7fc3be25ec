import { startKubeSim, KubeSim } from '../index';
import { exposition, trafficBehaviour } from './trafficProfile';

function workload(name: string, image: string, replicas = 2) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '9464',
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          containers: [
            { name: 'app', image, ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('simulated pods serve /metrics', () => {
  let sim: KubeSim;
  beforeAll(async () => {
    sim = await startKubeSim({
      timeScale: 0.05,
      podMetrics: { maxServers: 3, requestsPerSecond: 100 },
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  const runningPods = (app: string) =>
    sim.control
      .list('v1', 'Pod', 'default', `app=${app}`)
      .filter(p => p.status?.phase === 'Running' && p.status?.podIP);

  async function scrape(pod: any) {
    const ip = pod.status.podIP;
    expect(ip).toMatch(/^127\./);
    for (let i = 0; i < 50; i++) {
      try {
        const res = await fetch(`http://${ip}:9464/metrics`);
        return { status: res.status, text: await res.text() };
      } catch {
        await new Promise(r => setTimeout(r, 20));
      }
    }
    throw new Error(`pod ${pod.metadata.name} never served on ${ip}:9464`);
  }

  it('on its loopback pod IP, with counters that grow and a 500 series from the start; within the cap; gone with the pod', async () => {
    await sim.control.apply([workload('shop', 'acme/shop:1.0.0')]);
    await sim.control.waitFor(() => runningPods('shop').length === 2);
    const [pod] = runningPods('shop');
    const first = await scrape(pod);
    expect(first.status).toBe(200);
    await new Promise(r => setTimeout(r, 300));
    const second = await scrape(pod);
    const series = 'http_requests_total{method="GET",route="/",status="200"}';
    expect(sample(second.text, series)).toBeGreaterThan(
      sample(first.text, series),
    );
    expect(
      sample(
        second.text,
        'http_requests_total{method="GET",route="/",status="500"}',
      ),
    ).toBe(0);
    expect(second.text).toContain(
      '# TYPE http_request_duration_seconds histogram',
    );

    // Two more pods than the cap allows: only one of them serves.
    await sim.control.apply([workload('extra', 'acme/extra:1.0.0')]);
    await sim.control.waitFor(() => runningPods('extra').length === 2);
    await new Promise(r => setTimeout(r, 100));
    const served = await Promise.all(
      runningPods('extra').map(p =>
        fetch(`http://${p.status.podIP}:9464/metrics`).then(
          () => true,
          () => false,
        ),
      ),
    );
    expect(served.filter(Boolean)).toHaveLength(1);

    await sim.control.apply([workload('shop', 'acme/shop:1.0.0', 0)]);
    await sim.control.waitFor(() => runningPods('shop').length === 0);
    await new Promise(r => setTimeout(r, 50));
    await expect(
      fetch(`http://${pod.status.podIP}:9464/metrics`),
    ).rejects.toThrow();
  });
});

describe('traffic profiles', () => {
  const total = (text: string, status: string) =>
    text
      .split('\n')
      .filter(
        l =>
          l.startsWith('http_requests_total') &&
          l.includes(`status="${status}"`),
      )
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

  it('lets the image tag decide: -errors answers 6% with 500, -slow moves the latency buckets up', () => {
    expect(trafficBehaviour('acme/x:2.0.0-errors')).toBe('errors');
    expect(trafficBehaviour('acme/x:2.0.0-slow')).toBe('slow');
    expect(trafficBehaviour('registry:5000/acme/x:2.0.0')).toBe('healthy');
    const errors = exposition('errors', 100, 100);
    expect(
      total(errors, '500') / (total(errors, '500') + total(errors, '200')),
    ).toBeCloseTo(0.06, 2);
    const healthy = exposition('healthy', 100, 100);
    const slow = exposition('slow', 100, 100);
    const bucket = (text: string, le: string) =>
      sample(
        text,
        `http_request_duration_seconds_bucket{method="GET",route="/",le="${le}"}`,
      );
    // 99% of healthy requests are under 0.25 s; of slow ones, only under 1 s.
    expect(bucket(healthy, '0.25') / bucket(healthy, '+Inf')).toBeGreaterThan(
      0.99,
    );
    expect(bucket(slow, '0.5') / bucket(slow, '+Inf')).toBeLessThan(0.99);
    expect(bucket(slow, '1') / bucket(slow, '+Inf')).toBeGreaterThan(0.99);
  });
});
