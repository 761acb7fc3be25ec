import { TestCluster, clusterTargets } from '../targets';

/**
 * The Gateway API and Argo Rollouts kinds on both targets: on the real API server our CRDs (the
 * server's validation, defaults and status subresource) with kube-sim's simulated controllers
 * run against it; on kube-sim its built-in kinds. Where the two differ, the row says so.
 */

jest.setTimeout(240_000);

const NS = 'crds';
const GW = '/apis/gateway.networking.k8s.io/v1/namespaces/crds';
const RO = '/apis/argoproj.io/v1alpha1/namespaces/crds/rollouts';

const route = (name: string, backendRefs: object[]) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: NS },
  spec: {
    parentRefs: [{ name: 'edge' }],
    rules: [{ backendRefs }],
  },
});

const service = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
});

describe.each(clusterTargets())(
  'Gateway API and Argo Rollouts kinds on $name',
  target => {
    let cluster: TestCluster;

    beforeAll(async () => {
      cluster = await target.start({
        timeScale: 0.05,
        crds: ['gateway-api', 'argo-rollouts'],
        seed: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
          service('web-stable'),
          service('web-canary'),
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'Gateway',
            metadata: { name: 'edge', namespace: NS },
            spec: {
              gatewayClassName: 'example',
              listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
            },
          },
        ],
      });
    });

    afterAll(async () => {
      await cluster?.close();
    });

    it('stores an HTTPRoute with the defaults a Gateway API server gives, and the gateway accepts it', async () => {
      const created = await cluster.rest.request(
        'POST',
        `${GW}/httproutes`,
        route('web', [
          { name: 'web-stable', port: 80, weight: 80 },
          { name: 'web-canary', port: 80 },
        ]),
      );
      expect(created.status).toBe(201);
      const refs = created.body.spec.rules[0].backendRefs;
      expect(created.body.spec.parentRefs[0]).toMatchObject({ name: 'edge' });
      // The real server: the CRD's defaults, as the Gateway API's own CRDs give them. kube-sim
      // keeps what was sent (the engine never relies on those defaults).
      const stored = {
        real: {
          refs: [
            { kind: 'Service', name: 'web-stable', port: 80, weight: 80 },
            { kind: 'Service', name: 'web-canary', port: 80, weight: 1 },
          ],
          parent: {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: 'edge',
          },
        },
        'kube-sim': {
          refs: [
            { name: 'web-stable', port: 80, weight: 80 },
            { name: 'web-canary', port: 80 },
          ],
          parent: { name: 'edge' },
        },
      }[target.name];
      expect(refs).toEqual(stored.refs);
      expect(created.body.spec.parentRefs[0]).toEqual(stored.parent);
      await cluster.control.waitFor(() => {
        const r = cluster.control.get(
          'gateway.networking.k8s.io/v1',
          'HTTPRoute',
          NS,
          'web',
        );
        return r?.status?.parents?.[0]?.conditions?.some(
          (c: any) => c.type === 'Accepted' && c.status === 'True',
        );
      }, 30_000);
      const gw = cluster.control.get(
        'gateway.networking.k8s.io/v1',
        'Gateway',
        NS,
        'edge',
      );
      expect(gw.status.conditions.map((c: any) => [c.type, c.status])).toEqual([
        ['Accepted', 'True'],
        ['Programmed', 'True'],
      ]);
    });

    it('refuses a weight out of range and a backendRef without a name on the real server', async () => {
      const negative = await cluster.rest.request(
        'POST',
        `${GW}/httproutes`,
        route('bad-weight', [{ name: 'web-stable', port: 80, weight: -1 }]),
      );
      const nameless = await cluster.rest.request(
        'POST',
        `${GW}/httproutes`,
        route('bad-ref', [{ port: 80, weight: 10 }]),
      );
      // kube-sim validates no custom schema (README's fidelity table).
      const answers = {
        real: [
          [
            422,
            expect.stringMatching(
              /spec\.rules\.backendRefs\.weight in body should be greater than or equal to 0/,
            ),
          ],
          [
            422,
            expect.stringMatching(
              /spec\.rules\.backendRefs\.name: Required value/,
            ),
          ],
        ],
        'kube-sim': [
          [201, undefined],
          [201, undefined],
        ],
      }[target.name];
      expect(
        [negative, nameless].map(r => [
          r.status,
          r.status === 201 ? undefined : r.body.message,
        ]),
      ).toEqual(answers);
    });

    it('runs a Rollout through the simulated Argo controller, and takes the kubectl plugin patches on /status', async () => {
      const created = await cluster.rest.request('POST', RO, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'web', namespace: NS },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'ro-web' } },
          template: {
            metadata: { labels: { app: 'ro-web' } },
            spec: { containers: [{ name: 'app', image: 'acme/web:1.0.0' }] },
          },
          strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
        },
      });
      expect(created.status).toBe(201);
      const rollout = () =>
        cluster.control.get('argoproj.io/v1alpha1', 'Rollout', NS, 'web');
      await cluster.control.waitFor(
        () => rollout()?.status?.phase === 'Healthy',
        60_000,
      );
      expect(rollout().status).toMatchObject({
        availableReplicas: 2,
        currentStepIndex: 2,
        observedGeneration: '1',
      });

      const image = await cluster.rest.request(
        'PATCH',
        `${RO}/web`,
        {
          spec: {
            template: {
              spec: { containers: [{ name: 'app', image: 'acme/web:2.0.0' }] },
            },
          },
        },
        'application/merge-patch+json',
      );
      expect(image.status).toBe(200);
      await cluster.control.waitFor(
        () =>
          rollout()?.status?.pauseConditions?.[0]?.reason === 'CanaryPauseStep',
        60_000,
      );
      expect(rollout().metadata.generation).toBe(2);

      // The status subresource: a spec change sent there is ignored, the status change kept.
      const promote = await cluster.rest.request(
        'PATCH',
        `${RO}/web/status`,
        { spec: { replicas: 9 }, status: { pauseConditions: null } },
        'application/merge-patch+json',
      );
      expect(promote.status).toBe(200);
      expect(promote.body.spec.replicas).toBe(2);
      expect(promote.body.status.pauseConditions).toBeUndefined();
      expect(promote.body.metadata.generation).toBe(2);
      await cluster.control.waitFor(
        () =>
          rollout()?.status?.phase === 'Healthy' &&
          rollout()?.status?.stableRS === rollout()?.status?.currentPodHash,
        60_000,
      );

      // The scale subresource, as an HPA or `kubectl scale` uses it.
      const scale = await cluster.rest.request('GET', `${RO}/web/scale`);
      expect(scale.status).toBe(200);
      expect(scale.body).toMatchObject({
        kind: 'Scale',
        spec: { replicas: 2 },
      });
      // On the real server, nothing the simulated controllers wrote was refused.
      expect(cluster.controllers?.failures ?? []).toEqual([]);
    });
  },
);
