import { ConfigReader } from '@backstage/config';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { TestCluster, clusterTargets, kubectl } from '@internal/kube-real';
import {
  ClusterApplier,
  buildManifests,
  createManifestsApplyAction,
  validateServiceParams,
  writeManifests,
} from '@rust-delivery-portal/plugin-scaffolder-backend-module-rust';

/**
 * The template's `rust:manifests:apply` step and the `kubectl rollout status` a newcomer (and the
 * generated README) runs next, on both targets: what the template renders is accepted by a real
 * 1.20 API server as by kube-sim, comes up Ready, and `rollout status` says so. Kinds a cluster
 * does not serve are skipped with a warning (1.20 has no autoscaling/v2 or policy/v1).
 */

jest.setTimeout(240_000);

describe.each(clusterTargets())(
  "the template's apply and rollout status on $name",
  target => {
    let cluster: TestCluster;
    let clusters: ClusterApplier;
    const workspace = createMockDirectory();

    beforeAll(async () => {
      cluster = await target.start({ timeScale: 0.05, crds: ['gateway-api'] });
      await cluster.control.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gateways' } },
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          metadata: { name: 'public', namespace: 'gateways' },
          spec: {
            gatewayClassName: 'simulated',
            listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
          },
        },
      ]);
      clusters = ClusterApplier.fromConfig(
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [
                  {
                    name: 'local',
                    url: cluster.url,
                    authProvider: 'serviceAccount',
                    serviceAccountToken: cluster.token,
                  },
                ],
              },
            ],
          },
        }),
      );
    });
    afterAll(async () => cluster?.close());
    beforeEach(() => workspace.clear());

    it.each([
      ['RollingUpdate', {}],
      ['Canary', {}],
      ['BlueGreen', {}],
      [
        'Canary',
        {
          trafficRouting: 'gateway-api',
          gatewayName: 'public',
          gatewayNamespace: 'gateways',
        },
      ],
    ])(
      'applies the %s manifests %j, and kubectl rollout status reports them rolled out',
      async (strategy, routing) => {
        const namespace = `shop-${strategy.toLocaleLowerCase('en-US')}${
          'trafficRouting' in routing ? '-routed' : ''
        }`;
        const params = validateServiceParams({
          name: 'orders',
          port: 8080,
          strategy,
          canarySteps: [20, 50],
          ...routing,
          cluster: 'local',
          namespace,
          imageRepository: 'ghcr.io/acme/orders',
        });
        await writeManifests(
          workspace.path,
          'deploy/kubernetes',
          buildManifests(params),
        );
        const ctx = createMockActionContext({
          input: {
            cluster: 'local',
            namespace,
            entityRef: 'component:default/orders',
          },
          workspacePath: workspace.path,
        });
        await createManifestsApplyAction({ clusters }).handler(ctx);
        const applied: string[] = (ctx.output as jest.Mock).mock.calls.find(
          ([key]) => key === 'applied',
        )[1];
        const routed = 'trafficRouting' in routing;
        // kube-sim serves today's autoscaling/v2 and policy/v1; a 1.20 server serves neither, and
        // the step skips them with a warning instead of failing the template.
        const servesCurrentVersions = target.name === 'kube-sim';
        const expected = [
          `created Deployment ${namespace}/orders`,
          `created Service ${namespace}/orders`,
          `created ConfigMap ${namespace}/orders-config`,
          ...(routed
            ? [
                `created Service ${namespace}/orders-canary`,
                `created HTTPRoute ${namespace}/orders`,
              ]
            : []),
          ...(servesCurrentVersions
            ? [
                `created HorizontalPodAutoscaler ${namespace}/orders`,
                `created PodDisruptionBudget ${namespace}/orders`,
              ]
            : []),
        ];
        expect(applied).toEqual(expect.arrayContaining(expected));
        expect(
          applied.filter(line =>
            /^created (HorizontalPodAutoscaler|PodDisruptionBudget) /.test(
              line,
            ),
          ).length,
        ).toBe(servesCurrentVersions ? 2 : 0);

        const out = await kubectl(cluster.kubeconfig(), [
          'rollout',
          'status',
          `deployment/orders`,
          '-n',
          namespace,
          '--timeout=120s',
        ]);
        expect(out).toMatch(/deployment "orders" successfully rolled out/);
        const pods = JSON.parse(
          await kubectl(cluster.kubeconfig(), [
            'get',
            'pods',
            '-n',
            namespace,
            '-l',
            'app.kubernetes.io/name=orders',
            '-o',
            'json',
          ]),
        ).items;
        expect(pods).toHaveLength(2);
        // Pods get loopback addresses on both targets (the network rule).
        for (const p of pods) expect(p.status.podIP).toMatch(/^127\./);
      },
    );
  },
);
