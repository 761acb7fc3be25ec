import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { KubeSim, startKubeSim } from './index';

/** Fault injection for the reliability tests of other packages: errors, conflicts, latency, dropped watches. */

describe('kube-sim fault injection', () => {
  let sim: KubeSim;
  let core: CoreV1Api;
  let kc: KubeConfig;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
  });

  afterEach(() => sim.control.clearFaults());

  afterAll(async () => {
    await sim.close();
  });

  it('answers 5xx Status bodies at errorRate 1, and never to the control handle', async () => {
    sim.control.setFaults({ errorRate: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(
        `${sim.url}/api/v1/namespaces/default/configmaps`,
      );
      expect([500, 503]).toContain(res.status);
      expect(await res.json()).toMatchObject({
        kind: 'Status',
        status: 'Failure',
      });
    }
    await sim.control.apply([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ok', namespace: 'default' },
      },
    ]);
    expect(sim.control.get('v1', 'ConfigMap', 'default', 'ok')).toBeDefined();
    sim.control.clearFaults();
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    expect(list.items.map(i => i.metadata?.name)).toContain('ok');
  });

  it('answers writes 409 at conflictRate 1 while reads still work', async () => {
    sim.control.setFaults({ conflictRate: 1 });
    const err = await core
      .createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'never' } },
      })
      .catch(e => e);
    expect(err.code).toBe(409);
    expect(JSON.parse(err.body)).toMatchObject({ reason: 'Conflict' });
    await expect(
      core.listNamespacedConfigMap({ namespace: 'default' }),
    ).resolves.toBeDefined();
    expect(
      sim.control.get('v1', 'ConfigMap', 'default', 'never'),
    ).toBeUndefined();
  });

  it('adds latency', async () => {
    sim.control.setFaults({ latencyMs: 150 });
    const started = Date.now();
    await fetch(`${sim.url}/version`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('cuts watch streams after dropWatchAfterMs', async () => {
    sim.control.setFaults({ dropWatchAfterMs: 200 });
    const started = Date.now();
    const ended = await new Promise<any>(resolve => {
      new Watch(kc).watch(
        '/api/v1/namespaces/default/configmaps',
        {},
        () => {},
        resolve,
      );
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ended).toBeTruthy();
  });

  it('counts requests by type and records latencies', async () => {
    sim.control.resetCounts();
    await core.listNamespacedPod({ namespace: 'default' });
    await core.listNamespacedPod({ namespace: 'default' });
    await core.readNamespace({ name: 'default' });
    const counts = sim.control.requestCounts();
    expect(counts.total).toBe(3);
    expect(counts.byType['GET v1 pods list']).toBe(2);
    expect(counts.byType['GET v1 namespaces object']).toBe(1);
    expect(sim.control.latencies()['GET v1 pods list']).toHaveLength(2);
  });
});
