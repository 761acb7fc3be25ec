import {
  createMockDirectory,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import scaffolderModuleRust from '../index';
import { ClusterApplier } from '../clusters/ClusterApplier';
import {
  clusterState,
  searchIndexerObjects,
  settledState,
} from '../clusters/__testUtils__/clusterState';
import { buildManifests } from '../manifests/buildManifests';
import { writeManifests } from '../manifests/writeManifests';
import { validateServiceParams } from '../params/serviceParams';
import { TEMPLATE_DIR } from '../template/__testUtils__/dryRun';
import { createManifestsCheckAction } from './manifestsCheck';

jest.setTimeout(120_000);

/** A catalog Component as the catalog returns it, with its ownedBy relation. */
function component(name: string, owner: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', owner, lifecycle: 'production' },
    relations: [{ type: 'ownedBy', targetRef: owner }],
  };
}

/** What the cluster holds before each test: team-search's indexer, bound to its entity. */
async function seedTeamSearch(sim: KubeSim) {
  await sim.control.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'search' } },
    ...Object.values(searchIndexerObjects('component:default/indexer')),
  ]);
}

describe('rust:manifests:check', () => {
  let sim: KubeSim;
  let action: ReturnType<typeof createManifestsCheckAction>;
  const workspace = createMockDirectory();

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await seedTeamSearch(sim);
    action = createManifestsCheckAction({
      clusters: ClusterApplier.fromConfig(
        new ConfigReader({
          kubernetes: {
            clusterLocatorMethods: [
              { type: 'config', clusters: [{ name: 'local', url: sim.url }] },
            ],
          },
        }),
      ),
      catalog: catalogServiceMock({
        entities: [
          component('payments-api', 'group:default/team-payments'),
          // createMockActionContext's initiator is user:default/mock.
          component('orders', 'user:default/mock'),
        ],
      }),
      auth: mockServices.auth(),
      userInfo: mockServices.userInfo(),
    });
  });
  afterAll(async () => sim?.close());
  beforeEach(() => workspace.clear());

  async function check(name: string, namespace: string, isDryRun = false) {
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
          imageRepository: `ghcr.io/acme/${name}`,
        }),
      ),
    );
    const ctx = {
      ...createMockActionContext({
        input: {
          cluster: 'local',
          namespace,
          entityRef: `component:default/${name}`,
        },
        workspacePath: workspace.path,
      }),
      isDryRun,
    };
    await action.handler(ctx);
    return (ctx.output as jest.Mock).mock.calls.find(
      ([key]) => key === 'planned',
    )?.[1];
  }

  it('refuses an entity ref that another owner has in the catalog', async () => {
    const before = await settledState(sim);
    await expect(check('payments-api', 'payments')).rejects.toThrow(
      'component:default/payments-api is already in the catalog and belongs to group:default/team-payments: choose another name',
    );
    expect(clusterState(sim)).toEqual(before);
  });

  it('refuses, as apply would, a name whose objects belong to another entity', async () => {
    const before = await settledState(sim);
    const refusal = check('search-indexer', 'search');
    await expect(refusal).rejects.toMatchObject({ name: 'InputError' });
    await expect(refusal).rejects.toThrow(
      'Deployment search/search-indexer already exists and belongs to component:default/indexer: choose another name or namespace',
    );
    expect(clusterState(sim)).toEqual(before);
  });

  it('lets the owners of an entity run the template for it again, and writes nothing', async () => {
    const before = await settledState(sim);
    expect(await check('orders', 'orders')).toEqual([
      'create Namespace orders',
      'create ServiceAccount orders/orders',
      'create ConfigMap orders/orders-config',
      'create Service orders/orders',
      'create Deployment orders/orders',
      'create HorizontalPodAutoscaler orders/orders',
      'create PodDisruptionBudget orders/orders',
    ]);
    expect(clusterState(sim)).toEqual(before);
  });

  it('in a dry run, checks the manifests without consulting the catalog or the cluster', async () => {
    expect(await check('payments-api', 'payments', true)).toEqual([]);
    await expect(check('orders', 'kube-system', true)).rejects.toThrow(
      'Namespace "kube-system" belongs to the cluster itself',
    );
  });
});

/**
 * The refusal through the real template, as a user meets it: the task fails at its check step,
 * before the repository is written, the entity registered or the cluster touched.
 */
describe('rust-service template as a task: a takeover is refused before publishing', () => {
  const localDir = createMockDirectory();
  let sim: KubeSim;
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  const addLocation = jest.fn(
    async (location: { type: string; target: string }) => ({
      location: { id: 'location-1', ...location },
      entities: [],
      exists: false,
    }),
  );

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await seedTeamSearch(sim);
    const templateFile = path.join(TEMPLATE_DIR, 'template.yaml');
    const template = parse(fs.readFileSync(templateFile, 'utf8'));
    template.metadata.namespace = 'default';
    template.metadata.annotations = {
      'backstage.io/managed-by-location': `file:${templateFile}`,
      'backstage.io/managed-by-origin-location': `file:${templateFile}`,
    };
    const catalog: Record<string, Entity> = {
      'template:default/rust-service': template,
      'component:default/payments-api': component(
        'payments-api',
        'group:default/team-payments',
      ),
    };
    backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleRust,
        mockServices.rootConfig.factory({
          data: {
            rustTemplate: { localTarget: { directory: localDir.path } },
            kubernetes: {
              clusterLocatorMethods: [
                {
                  type: 'config',
                  clusters: [{ name: 'local', url: sim.url }],
                },
              ],
            },
          },
        }),
        catalogServiceMock.mock({
          getEntityByRef: async ref =>
            catalog[stringifyEntityRef(parseEntityRef(ref))],
          addLocation: addLocation as any,
        }).factory,
      ],
    });
  });
  afterAll(async () => {
    await backend?.stop();
    await sim?.close();
  });

  async function runTask(name: string, namespace: string) {
    const created = await request(backend.server)
      .post('/api/scaffolder/v2/tasks')
      .set('Authorization', mockCredentials.user.header())
      .send({
        templateRef: 'template:default/rust-service',
        values: {
          name,
          description: 'Indexes everything',
          owner: 'group:default/team-rust',
          port: 8080,
          strategy: 'RollingUpdate',
          cluster: 'local',
          namespace,
          target: 'local',
        },
      });
    expect(created.status).toBe(201);
    for (let i = 0; i < 200; i++) {
      const task = await request(backend.server)
        .get(`/api/scaffolder/v2/tasks/${created.body.id}`)
        .set('Authorization', mockCredentials.user.header());
      if (task.body.status === 'completed' || task.body.status === 'failed') {
        const events = await request(backend.server)
          .get(`/api/scaffolder/v2/tasks/${created.body.id}/events`)
          .set('Authorization', mockCredentials.user.header());
        return {
          status: task.body.status,
          log: events.body.map((e: any) => e.body?.message).join('\n'),
        };
      }
      await new Promise(resolve => setTimeout(resolve, 250));
    }
    throw new Error('task did not finish');
  }

  it.each([
    [
      'the name of an entity of another owner',
      'payments-api',
      'payments',
      'component:default/payments-api is already in the catalog and belongs to group:default/team-payments: choose another name',
    ],
    [
      'the names of objects of another entity',
      'search-indexer',
      'search',
      'Deployment search/search-indexer already exists and belongs to component:default/indexer: choose another name or namespace',
    ],
    [
      'a system namespace',
      'indexer-two',
      'kube-system',
      'Namespace "kube-system" belongs to the cluster itself: services are not deployed to kube-* namespaces',
    ],
  ])('%s', async (_, name, namespace, message) => {
    const before = await settledState(sim);
    const { status, log } = await runTask(name, namespace);
    expect(status).toBe('failed');
    expect(log).toContain(message);
    expect(log).not.toContain('Write to the local folder');
    expect(fs.existsSync(path.join(localDir.path, name))).toBe(false);
    expect(addLocation).not.toHaveBeenCalled();
    expect(clusterState(sim)).toEqual(before);
  });

  it('lets a free name through, binding the objects to the entity its catalog-info.yaml registers', async () => {
    const { status, log } = await runTask('orders-api', 'orders');
    if (status !== 'completed') throw new Error(`task ${status}:\n${log}`);
    const entity = parse(
      fs.readFileSync(
        path.join(localDir.path, 'orders-api', 'catalog-info.yaml'),
        'utf8',
      ),
    );
    // The template's entityRef expression and the skeleton's catalog-info must name one entity.
    const registered = stringifyEntityRef(entity);
    expect(registered).toBe('component:default/orders-api');
    for (const [apiVersion, kind, name] of [
      ['v1', 'ServiceAccount', 'orders-api'],
      ['v1', 'ConfigMap', 'orders-api-config'],
      ['v1', 'Service', 'orders-api'],
      ['apps/v1', 'Deployment', 'orders-api'],
    ]) {
      expect(
        sim.control.get(apiVersion, kind, 'orders', name)?.metadata.annotations[
          'rollouts.backstage.io/entity'
        ],
      ).toBe(registered);
    }
  });
});
