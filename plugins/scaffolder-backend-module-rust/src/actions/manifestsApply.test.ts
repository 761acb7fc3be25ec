import { ConfigReader } from '@backstage/config';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import { stringify } from 'yaml';
import { ClusterApplier } from '../clusters/ClusterApplier';
import {
  clusterState,
  searchIndexerObjects,
  settledState,
} from '../clusters/__testUtils__/clusterState';
import { buildManifests } from '../manifests/buildManifests';
import { writeManifests } from '../manifests/writeManifests';
import { validateServiceParams } from '../params/serviceParams';
import { createManifestsApplyAction } from './manifestsApply';

jest.setTimeout(60_000);

describe('rust:manifests:apply against kube-sim', () => {
  let sim: KubeSim;
  let clusters: ClusterApplier;
  const workspace = createMockDirectory();

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    clusters = ClusterApplier.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'local',
                  url: sim.url,
                  authProvider: 'serviceAccount',
                  serviceAccountToken: 'kube-sim-development-token',
                },
              ],
            },
          ],
        },
      }),
    );
  });
  afterAll(async () => sim?.close());
  beforeEach(() => workspace.clear());

  async function renderInto(strategy: string, namespace: string) {
    const params = validateServiceParams({
      name: 'orders',
      port: 8080,
      strategy,
      canarySteps: [20, 50],
      cluster: 'local',
      namespace,
      imageRepository: 'ghcr.io/acme/orders',
    });
    await writeManifests(
      workspace.path,
      'deploy/kubernetes',
      buildManifests(params),
    );
  }

  it.each(['RollingUpdate', 'Canary', 'BlueGreen'])(
    'applies the %s manifests, which come up Ready',
    async strategy => {
      const namespace = `shop-${strategy.toLocaleLowerCase('en-US')}`;
      await renderInto(strategy, namespace);
      const action = createManifestsApplyAction({ clusters });
      const ctx = createMockActionContext({
        input: {
          cluster: 'local',
          namespace,
          entityRef: 'component:default/orders',
        },
        workspacePath: workspace.path,
      });
      await action.handler(ctx);

      const applied = (ctx.output as jest.Mock).mock.calls.find(
        ([key]) => key === 'applied',
      )[1];
      // (A kind the cluster does not serve is skipped with a warning: ClusterApplier.test.ts.)
      expect(applied).toEqual(
        expect.arrayContaining([
          `created Deployment ${namespace}/orders`,
          `created Service ${namespace}/orders`,
          `created ConfigMap ${namespace}/orders-config`,
          `created HorizontalPodAutoscaler ${namespace}/orders`,
          `created PodDisruptionBudget ${namespace}/orders`,
        ]),
      );
      // Created without a binding: only the cluster's administrators say a team owns a namespace.
      const created = sim.control.get('v1', 'Namespace', '', namespace);
      expect(created).toBeDefined();
      expect(
        created.metadata.annotations?.['rollouts.backstage.io/entity'],
      ).toBeUndefined();
      await sim.control.waitFor(() => {
        const deployment = sim.control.get(
          'apps/v1',
          'Deployment',
          namespace,
          'orders',
        );
        return (
          deployment?.status?.readyReplicas === 2 &&
          deployment?.status?.availableReplicas === 2
        );
      }, 30_000);
      const deployment = sim.control.get(
        'apps/v1',
        'Deployment',
        namespace,
        'orders',
      );
      expect(
        deployment.metadata.annotations['rollouts.backstage.io/strategy'],
      ).toBe(strategy);
      const pods = sim.control.list(
        'v1',
        'Pod',
        namespace,
        'app.kubernetes.io/name=orders',
      );
      expect(pods.length).toBe(2);
      const services = sim.control
        .list('v1', 'Service', namespace)
        .map(service => service.metadata.name)
        .sort();
      expect(services).toEqual(
        strategy === 'BlueGreen' ? ['orders', 'orders-preview'] : ['orders'],
      );

      // Applying again replaces instead of failing with a conflict.
      const again = createMockActionContext({
        input: {
          cluster: 'local',
          namespace,
          entityRef: 'component:default/orders',
        },
        workspacePath: workspace.path,
      });
      await action.handler(again);
      const reapplied = (again.output as jest.Mock).mock.calls.find(
        ([key]) => key === 'applied',
      )[1];
      expect(reapplied).toContain(`replaced Deployment ${namespace}/orders`);
    },
  );

  it('applies a canary through the Gateway API: its HTTPRoute and canary Service, which the Gateway accepts', async () => {
    const namespace = 'shop-routed';
    await sim.control.apply([
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
    const params = validateServiceParams({
      name: 'orders',
      port: 8080,
      strategy: 'Canary',
      canarySteps: [20, 50],
      trafficRouting: 'gateway-api',
      gatewayName: 'public',
      gatewayNamespace: 'gateways',
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
    const applied = (ctx.output as jest.Mock).mock.calls.find(
      ([key]) => key === 'applied',
    )[1];
    expect(applied).toEqual(
      expect.arrayContaining([
        `created Service ${namespace}/orders`,
        `created Service ${namespace}/orders-canary`,
        `created HTTPRoute ${namespace}/orders`,
      ]),
    );
    const route = () =>
      sim.control.get(
        'gateway.networking.k8s.io/v1',
        'HTTPRoute',
        namespace,
        'orders',
      );
    await sim.control.waitFor(() =>
      (route()?.status?.parents?.[0]?.conditions ?? []).some(
        (c: any) => c.type === 'Accepted' && c.status === 'True',
      ),
    );
    expect(route().metadata.annotations['rollouts.backstage.io/entity']).toBe(
      'component:default/orders',
    );
    // The stable Service reaches the Deployment's pods, and only those.
    await sim.control.waitFor(
      () =>
        sim.control.get('v1', 'Endpoints', namespace, 'orders')?.subsets?.[0]
          ?.addresses?.length === 2,
      30_000,
    );
  });

  it('changes nothing in a dry run', async () => {
    await renderInto('RollingUpdate', 'dry');
    const ctx = {
      ...createMockActionContext({
        input: {
          cluster: 'local',
          namespace: 'dry',
          entityRef: 'component:default/orders',
        },
        workspacePath: workspace.path,
      }),
      isDryRun: true,
    };
    await createManifestsApplyAction({ clusters }).handler(ctx);
    expect(sim.control.get('v1', 'Namespace', '', 'dry')).toBeUndefined();
  });

  it('refuses an unknown cluster and manifests of another namespace', async () => {
    await renderInto('RollingUpdate', 'team-a');
    const action = createManifestsApplyAction({ clusters });
    await expect(
      action.handler(
        createMockActionContext({
          input: {
            cluster: 'prod',
            namespace: 'team-a',
            entityRef: 'component:default/orders',
          },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(
      'Unknown cluster "prod": configured clusters are "local"',
    );
    await expect(
      action.handler(
        createMockActionContext({
          input: {
            cluster: 'local',
            namespace: 'team-b',
            entityRef: 'component:default/orders',
          },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(
      'ServiceAccount orders is in namespace "team-a", expected "team-b"',
    );
  });

  it('refuses a manifests folder outside the workspace', async () => {
    const action = createManifestsApplyAction({ clusters });
    await expect(
      action.handler(
        createMockActionContext({
          input: {
            cluster: 'local',
            namespace: 'default',
            entityRef: 'component:default/orders',
            directory: '../../etc',
          },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(/outside|not allowed/i);
  });
});

describe('rust:manifests:apply takes nothing over', () => {
  let sim: KubeSim;
  let action: ReturnType<typeof createManifestsApplyAction>;
  const workspace = createMockDirectory();
  const INDEXER = 'component:default/search-indexer';

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    action = createManifestsApplyAction({
      clusters: ClusterApplier.fromConfig(
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [{ name: 'local', url: sim.url }],
              },
            ],
          },
        }),
      ),
    });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => workspace.clear());

  /** The manifests of a new service `search-indexer` (entity component:default/search-indexer). */
  async function render(namespace: string, name = 'search-indexer') {
    await writeManifests(
      workspace.path,
      'deploy/kubernetes',
      buildManifests(
        validateServiceParams({
          name,
          port: 8080,
          strategy: 'RollingUpdate',
          cluster: 'local',
          namespace,
          imageRepository: 'ghcr.io/acme/search-indexer',
        }),
      ),
    );
  }

  function apply(namespace: string, entityRef = INDEXER) {
    const ctx = createMockActionContext({
      input: { cluster: 'local', namespace, entityRef },
      workspacePath: workspace.path,
    });
    return {
      ctx,
      run: () => action.handler(ctx),
      applied: () =>
        (ctx.output as jest.Mock).mock.calls.find(
          ([key]) => key === 'applied',
        )?.[1],
    };
  }

  async function seed(namespace: object, ...objects: object[]) {
    await sim.control.apply([namespace, ...objects]);
  }

  it.each(['Deployment', 'Service', 'ConfigMap', 'ServiceAccount'] as const)(
    'refuses a name whose %s belongs to another entity, and leaves the cluster exactly as it was',
    async kind => {
      const namespace = `taken-${kind.toLocaleLowerCase('en-US')}`;
      const theirs = searchIndexerObjects(
        'component:default/indexer',
        namespace,
      );
      await seed(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        theirs[kind],
      );
      await render(namespace);
      const before = await settledState(sim);

      const { run, applied } = apply(namespace);
      const refusal = run();
      await expect(refusal).rejects.toMatchObject({ name: 'InputError' });
      await expect(refusal).rejects.toThrow(
        `${kind} ${namespace}/${theirs[kind].metadata.name} already exists and belongs to component:default/indexer: choose another name or namespace`,
      );
      // Nothing else was written either: the objects that were free are not created.
      expect(clusterState(sim)).toEqual(before);
      expect(applied()).toBeUndefined();
    },
  );

  it('refuses objects that belong to no entity, naming each of them', async () => {
    const theirs = searchIndexerObjects(undefined, 'legacy');
    await seed(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy' } },
      ...Object.values(theirs),
    );
    await render('legacy');
    const before = await settledState(sim);

    const refusal = apply('legacy').run();
    for (const object of Object.values(theirs)) {
      await expect(refusal).rejects.toThrow(
        `${object.kind} legacy/${object.metadata.name} already exists and belongs to no entity (it has no rollouts.backstage.io/entity annotation): choose another name or namespace`,
      );
    }
    expect(clusterState(sim)).toEqual(before);
  });

  it('replaces the objects of the same entity when the template runs again (refs compare case-insensitively)', async () => {
    const ours = searchIndexerObjects(
      'Component:Default/Search-Indexer',
      'mine',
    );
    await seed(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mine' } },
      ...Object.values(ours),
    );
    await render('mine');

    const { run, applied } = apply('mine');
    await run();
    expect(applied()).toEqual([
      'replaced ServiceAccount mine/search-indexer',
      'replaced ConfigMap mine/search-indexer-config',
      'replaced Service mine/search-indexer',
      'replaced Deployment mine/search-indexer',
      'created HorizontalPodAutoscaler mine/search-indexer',
      'created PodDisruptionBudget mine/search-indexer',
    ]);
    const deployment = sim.control.get(
      'apps/v1',
      'Deployment',
      'mine',
      'search-indexer',
    );
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      'ghcr.io/acme/search-indexer:main',
    );
    expect(
      deployment.metadata.annotations['rollouts.backstage.io/entity'],
    ).toBe(INDEXER);
  });

  it('refuses a namespace that holds the workloads of other entities, and accepts one that lists this entity', async () => {
    await seed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'team-search',
        annotations: {
          'rollouts.backstage.io/entity':
            'component:default/indexer, component:default/crawler',
        },
      },
    });
    await render('team-search');
    const before = await settledState(sim);
    await expect(apply('team-search').run()).rejects.toThrow(
      'namespace team-search holds the workloads of component:default/indexer, component:default/crawler: choose another namespace',
    );
    expect(clusterState(sim)).toEqual(before);

    await seed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'team-search',
        annotations: {
          'rollouts.backstage.io/entity': `component:default/indexer, ${INDEXER}`,
        },
      },
    });
    const { run, applied } = apply('team-search');
    await run();
    expect(applied()).toContain(
      'created Deployment team-search/search-indexer',
    );
  });

  it.each(['kube-system', 'kube-public', 'kube-node-lease', 'kube-dns'])(
    'refuses the system namespace %s',
    async namespace => {
      // (rust:params:validate refuses it first in the template; apply does not rely on that.)
      await render('elsewhere');
      const before = await settledState(sim);
      await expect(apply(namespace).run()).rejects.toThrow(
        `Namespace "${namespace}" belongs to the cluster itself: services are not deployed to kube-* namespaces`,
      );
      expect(clusterState(sim)).toEqual(before);
    },
  );

  it('refuses kinds the template does not render, and objects of another namespace, before writing anything', async () => {
    await render('extra');
    workspace.addContent({
      'deploy/kubernetes/secret.yaml': stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'search-indexer-secrets',
          annotations: { 'rollouts.backstage.io/entity': INDEXER },
        },
        stringData: { TOKEN: 'x' },
      }),
      'deploy/kubernetes/rbac.yaml': [
        stringify({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'search-indexer' },
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        }),
        stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'extra' },
        }),
        stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: 'elsewhere',
            namespace: 'search',
            annotations: { 'rollouts.backstage.io/entity': INDEXER },
          },
        }),
      ].join('---\n'),
    });
    const before = await settledState(sim);
    const refusal = apply('extra').run();
    await expect(refusal).rejects.toMatchObject({ name: 'InputError' });
    for (const message of [
      'v1 Secret search-indexer-secrets is not a kind the template applies (only v1 ServiceAccount, v1 ConfigMap, v1 Service, apps/v1 Deployment, policy/v1 PodDisruptionBudget, autoscaling/v2 HorizontalPodAutoscaler, gateway.networking.k8s.io/v1 HTTPRoute)',
      'rbac.authorization.k8s.io/v1 ClusterRole search-indexer is not a kind the template applies',
      'v1 Namespace extra is not a kind the template applies',
      'ConfigMap elsewhere is in namespace "search", expected "extra"',
    ]) {
      await expect(refusal).rejects.toThrow(message);
    }
    expect(sim.control.get('v1', 'Namespace', '', 'extra')).toBeUndefined();
    expect(clusterState(sim)).toEqual(before);
  });

  it('refuses manifests that do not name the entity, and an entityRef that is not one entity ref', async () => {
    await render('other');
    await expect(
      apply('other', 'component:default/orders').run(),
    ).rejects.toThrow(
      `Deployment search-indexer in the manifests names ${INDEXER} in its rollouts.backstage.io/entity annotation, not component:default/orders`,
    );
    for (const entityRef of [
      'search-indexer',
      'default/search-indexer',
      `${INDEXER},component:default/orders`,
    ]) {
      await expect(apply('other', entityRef).run()).rejects.toThrow(
        `Invalid entityRef ${JSON.stringify(
          entityRef,
        )}: expected one entity ref of the form kind:namespace/name, e.g. component:default/orders`,
      );
    }
    expect(sim.control.get('v1', 'Namespace', '', 'other')).toBeUndefined();
  });
});
