import { KubeSim, startKubeSim } from '@internal/kube-sim';
import { ClusterApplier } from './ClusterApplier';

describe('ClusterApplier', () => {
  let sim: KubeSim;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('creates, then replaces, what the cluster serves and skips a kind it does not serve', async () => {
    const clusters = new ClusterApplier([
      { name: 'dev', url: sim.url, serviceAccountToken: 'test-token' },
    ]);
    const objects = [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'orders-config' },
        data: { RUST_LOG: 'info' },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'orders' },
        spec: { endpoints: [{ port: 'http' }] },
      },
    ];
    const first = await clusters.apply('dev', 'shop', objects);
    expect(first.map(o => `${o.operation} ${o.kind}`)).toEqual([
      'created ConfigMap',
      'skipped ServiceMonitor',
    ]);
    const second = await clusters.apply('dev', 'shop', objects);
    expect(second.map(o => o.operation)).toEqual(['replaced', 'skipped']);
    expect(
      sim.control.get('v1', 'ConfigMap', 'shop', 'orders-config')?.data,
    ).toEqual({ RUST_LOG: 'info' });
  });
});
