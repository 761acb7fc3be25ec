import { ConfigReader } from '@backstage/config';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { APPLIED_KINDS, ClusterApplier } from './ClusterApplier';
import { clusterState, settledState } from './__testUtils__/clusterState';

const ENTITY = 'component:default/orders';
const bound = { 'rollouts.backstage.io/entity': ENTITY };

describe('ClusterApplier', () => {
  let sim: KubeSim;
  let proxy: http.Server;
  let proxyUrl: string;
  /** The Authorization header of every request that reached the cluster. */
  const credentialsSeen = new Set<string>();

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    // kube-sim accepts any token: a pass-through in front of it shows which one is sent.
    proxy = http.createServer((req, res) => {
      credentialsSeen.add(req.headers.authorization ?? '(none)');
      // A namespace the credential's role does not cover, as a real API server answers.
      if (req.url?.includes('/namespaces/locked')) {
        res.writeHead(403, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Forbidden',
            code: 403,
            message: 'namespaces "locked" is forbidden',
          }),
        );
        return;
      }
      const upstream = http.request(
        `${sim.url}${req.url}`,
        { method: req.method, headers: req.headers },
        response => {
          res.writeHead(response.statusCode!, response.headers);
          response.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>(resolve =>
      proxy.listen(0, '127.0.0.1', () => resolve()),
    );
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise(resolve => proxy?.close(resolve));
    await sim?.close();
  });

  function fromConfig(url: string) {
    return ClusterApplier.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'dev',
                  url,
                  authProvider: 'serviceAccount',
                  serviceAccountToken: 'kubernetes-plugin-reader',
                },
              ],
            },
          ],
        },
        rollouts: {
          clusters: [{ name: 'dev', serviceAccountToken: 'rollouts-engine' }],
        },
      }),
    );
  }

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'orders-config', annotations: bound },
    data: { RUST_LOG: 'info' },
  };

  it("writes with the rollouts engine's credential, never the Kubernetes plugin's", async () => {
    credentialsSeen.clear();
    const applied = await fromConfig(proxyUrl).apply(
      'dev',
      'credentials',
      ENTITY,
      [configMap],
    );
    expect(applied.map(o => `${o.operation} ${o.kind}`)).toEqual([
      'created ConfigMap',
    ]);
    expect([...credentialsSeen]).toEqual(['Bearer rollouts-engine']);
  });

  it('plans from reads alone: a check writes nothing', async () => {
    const before = await settledState(sim);
    const plan = await fromConfig(sim.url).plan('dev', 'planned', ENTITY, [
      configMap,
    ]);
    expect(plan).toMatchObject({
      createNamespace: true,
      entityRef: ENTITY,
      objects: [
        { kind: 'ConfigMap', namespace: 'planned', operation: 'created' },
      ],
    });
    expect(clusterState(sim)).toEqual(before);
  });

  it('creates, then replaces, what the cluster serves and skips a kind it does not serve', async () => {
    const serviceMonitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'orders', annotations: bound },
      spec: { endpoints: [{ port: 'http' }] },
    };
    // An applied kind the cluster may lack (as a cluster without autoscaling/v2 would).
    const clusters = new ClusterApplier(
      [
        {
          name: 'dev',
          url: sim.url,
          skipTLSVerify: true,
          writerToken: 'test-token',
          sharedCredential: false,
        },
      ],
      {
        kinds: [
          ...APPLIED_KINDS,
          { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
        ],
      },
    );
    const objects = [configMap, serviceMonitor];
    const first = await clusters.apply('dev', 'shop', ENTITY, objects);
    expect(first.map(o => `${o.operation} ${o.kind}`)).toEqual([
      'created ConfigMap',
      'skipped ServiceMonitor',
    ]);
    const second = await clusters.apply('dev', 'shop', ENTITY, objects);
    expect(second.map(o => o.operation)).toEqual(['replaced', 'skipped']);
    expect(
      sim.control.get('v1', 'ConfigMap', 'shop', 'orders-config')?.data,
    ).toEqual({ RUST_LOG: 'info' });
  });

  it('refuses a kind outside the allow-list before reading the cluster', async () => {
    credentialsSeen.clear();
    await expect(
      fromConfig(proxyUrl).plan('dev', 'shop', ENTITY, [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'orders-admin', annotations: bound },
        },
      ]),
    ).rejects.toThrow(
      'rbac.authorization.k8s.io/v1 RoleBinding orders-admin is not a kind the template applies',
    );
    expect(credentialsSeen.size).toBe(0);
  });

  it('says which credential needs which role when the cluster refuses it (403)', async () => {
    await expect(
      fromConfig(proxyUrl).plan('dev', 'locked', ENTITY, [configMap]),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message:
        "Cluster dev refused to get namespace locked (403): the rollouts engine's credential (rollouts.clusters[].serviceAccountToken) needs the role of plugins/rollouts-backend/rbac/rollouts-engine.yaml",
    });
  });
});
