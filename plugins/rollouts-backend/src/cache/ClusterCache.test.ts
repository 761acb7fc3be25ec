import { mockServices } from '@backstage/backend-test-utils';
import { KubeConfig } from '@kubernetes/client-node';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ROLLOUT_LABELS } from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import { ClusterCache } from './ClusterCache';

/**
 * An API server without the Gateway API: empty lists and idle watches for the built-in kinds,
 * 404 for HTTPRoutes (as a cluster without the CRDs answers).
 */
async function clusterWithoutGatewayApi() {
  const routeRequests: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/apis/gateway.networking.k8s.io/')) {
      routeRequests.push(req.url);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'NotFound',
          code: 404,
        }),
      );
      return;
    }
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // an idle watch
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'List',
        items: [],
        metadata: { resourceVersion: '1' },
      }),
    );
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, routeRequests };
}

jest.setTimeout(20_000);

describe('ClusterCache on a cluster that does not serve HTTPRoutes', () => {
  it('syncs at once, says so once, and looks again only every minute', async () => {
    const { server, url, routeRequests } = await clusterWithoutGatewayApi();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const logger = mockServices.logger.mock();
    logger.child.mockReturnValue(logger);
    const cache = new ClusterCache({ name: 'c', url, kubeConfig }, logger);
    const started = Date.now();
    await cache.synced();
    expect(Date.now() - started).toBeLessThan(3000);
    // The next look would be a minute away: in two seconds nothing more is asked.
    await new Promise(r => setTimeout(r, 2000));
    expect(routeRequests).toHaveLength(1);
    expect(logger.info).toHaveBeenCalledWith(
      'The cluster does not serve httproutes; looking again every minute',
    );
    expect(logger.warn).not.toHaveBeenCalled();
    expect(cache.httpRoutes.list()).toEqual([]);
    await cache.stop();
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });
});

function app(name: string, replicas: number, labels: Record<string, string>) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: `acme/${name}:1.0.0` }] },
      },
    },
  };
}

describe('ClusterCache on a cluster full of pods no rollout touches', () => {
  let sim: KubeSim;
  afterEach(async () => sim?.close());

  it("holds every Deployment and ReplicaSet, only the canaries' pods, and pods without spec or managedFields", async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await sim.control.apply([
      app('unrelated', 6, { app: 'unrelated' }),
      app('payments-canary', 2, {
        app: 'payments',
        [ROLLOUT_LABELS.role]: 'canary',
        [ROLLOUT_LABELS.owner]: 'payments',
      }),
    ]);
    // Ready pods, so that their status (conditions among it) is there to be slimmed: a pod the
    // simulated scheduler has not bound yet has no conditions at all, as on a real cluster.
    const readyPodsOf = (label: string) =>
      sim.control
        .list('v1', 'Pod', 'default', `app=${label}`)
        .filter((p: any) =>
          p.status?.conditions?.some(
            (c: any) => c.type === 'Ready' && c.status === 'True',
          ),
        );
    await sim.control.waitFor(
      () =>
        readyPodsOf('unrelated').length === 6 &&
        readyPodsOf('payments').length === 2,
      20_000,
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(sim.kubeconfig());
    const logger = mockServices.logger.mock();
    logger.child.mockReturnValue(logger);
    const changes: string[] = [];
    const cache = new ClusterCache(
      { name: 'sim', url: sim.url, kubeConfig },
      logger,
      (kind, obj) => changes.push(`${kind} ${obj.metadata?.name}`),
    );
    await cache.synced();

    expect(
      cache.deployments
        .list('default')
        .map(d => d.metadata?.name)
        .sort(),
    ).toEqual(['payments-canary', 'unrelated']);
    expect(cache.replicaSets.list('default')).toHaveLength(2);
    const pods = cache.pods.list('default');
    expect(pods.map(p => p.metadata?.labels?.app)).toEqual([
      'payments',
      'payments',
    ]);
    for (const pod of pods) {
      expect(pod.spec).toBeUndefined();
      expect(pod.metadata?.managedFields).toBeUndefined();
      expect(pod.metadata?.ownerReferences?.[0]?.controller).toBe(true);
      expect(
        pod.status?.conditions?.find(c => c.type === 'Ready'),
      ).toBeDefined();
    }
    // The API server filtered: the other pods never crossed the wire.
    expect(sim.control.watchStats().open.pods).toBe(1);

    // A canary pod's change reaches the cache through the watch, slimmed too.
    changes.length = 0;
    sim.control.resetCounts();
    await sim.control.apply([
      {
        ...app('payments-canary', 3, {
          app: 'payments',
          [ROLLOUT_LABELS.role]: 'canary',
          [ROLLOUT_LABELS.owner]: 'payments',
        }),
      },
    ]);
    await sim.control.waitFor(
      () => cache.pods.list('default').length === 3,
      20_000,
    );
    expect(changes.some(c => c.startsWith('pods payments-canary-'))).toBe(true);
    // kube-sim counted what the pod watch carried since the reset: the new canary pod only.
    const { traffic } = sim.control.watchStats();
    expect(traffic.pods.events).toBeGreaterThan(0);
    expect(traffic.pods.bytes).toBeGreaterThan(traffic.pods.events * 100);
    expect(cache.pods.list('default').every(p => p.spec === undefined)).toBe(
      true,
    );
    await cache.stop();
  });
});
