import { ConfigReader } from '@backstage/config';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { KubeSim, startKubeSim } from '@internal/kube-sim';
import { ClusterApplier } from '../clusters/ClusterApplier';
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
        input: { cluster: 'local', namespace },
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
      expect(sim.control.get('v1', 'Namespace', '', namespace)).toBeDefined();
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
        input: { cluster: 'local', namespace },
        workspacePath: workspace.path,
      });
      await action.handler(again);
      const reapplied = (again.output as jest.Mock).mock.calls.find(
        ([key]) => key === 'applied',
      )[1];
      expect(reapplied).toContain(`replaced Deployment ${namespace}/orders`);
    },
  );

  it('changes nothing in a dry run', async () => {
    await renderInto('RollingUpdate', 'dry');
    const ctx = {
      ...createMockActionContext({
        input: { cluster: 'local', namespace: 'dry' },
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
          input: { cluster: 'prod', namespace: 'team-a' },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(
      'Unknown cluster "prod": configured clusters are "local"',
    );
    await expect(
      action.handler(
        createMockActionContext({
          input: { cluster: 'local', namespace: 'team-b' },
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
            directory: '../../etc',
          },
          workspacePath: workspace.path,
        }),
      ),
    ).rejects.toThrow(/outside|not allowed/i);
  });
});
