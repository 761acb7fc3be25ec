import {
  createMockDirectory,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import scaffolderModuleRust from '../index';
import { TEMPLATE_DIR } from './__testUtils__/dryRun';

jest.setTimeout(120_000);

/**
 * The `make start` journey of the local target, through a real scaffolder task: the files land in
 * the configured folder, the catalog gets a file location, the cluster runs the service.
 */
describe('rust-service template, local target, as a real task', () => {
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
    const template = parse(
      fs.readFileSync(path.join(TEMPLATE_DIR, 'template.yaml'), 'utf8'),
    );
    template.metadata.namespace = 'default';
    template.metadata.annotations = {
      'backstage.io/managed-by-location': `file:${path.join(
        TEMPLATE_DIR,
        'template.yaml',
      )}`,
      'backstage.io/managed-by-origin-location': `file:${path.join(
        TEMPLATE_DIR,
        'template.yaml',
      )}`,
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
                  clusters: [
                    {
                      name: 'local',
                      url: sim.url,
                      authProvider: 'serviceAccount',
                    },
                  ],
                },
              ],
            },
          },
        }),
        catalogServiceMock.mock({
          // Only the template: the check step asks whether the new service's entity exists.
          getEntityByRef: async ref =>
            stringifyEntityRef(parseEntityRef(ref)) ===
            'template:default/rust-service'
              ? template
              : undefined,
          addLocation: addLocation as any,
        }).factory,
      ],
    });
  });
  afterAll(async () => {
    await backend?.stop();
    await sim?.close();
  });

  async function runTask(values: Record<string, unknown>) {
    const created = await request(backend.server)
      .post('/api/scaffolder/v2/tasks')
      .set('Authorization', mockCredentials.user.header())
      .send({ templateRef: 'template:default/rust-service', values });
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
          task: task.body,
          log: events.body.map((e: any) => e.body?.message).join('\n'),
        };
      }
      await new Promise(resolve => setTimeout(resolve, 250));
    }
    throw new Error('task did not finish');
  }

  it('writes the service to the folder, registers it and deploys it to the cluster', async () => {
    const { task, log } = await runTask({
      name: 'payments',
      description: 'Takes payments',
      owner: 'group:default/team-a',
      port: 8080,
      strategy: 'BlueGreen',
      autoPromotion: false,
      scaleDownDelay: '30s',
      cluster: 'local',
      namespace: 'payments',
      target: 'local',
    });
    if (task.status !== 'completed')
      throw new Error(`task ${task.status}:\n${log}`);

    const serviceDir = path.join(localDir.path, 'payments');
    for (const file of [
      'Cargo.toml',
      'Dockerfile',
      'catalog-info.yaml',
      'deploy/kubernetes/deployment.yaml',
      '.github/workflows/ci.yaml',
    ]) {
      expect(fs.existsSync(path.join(serviceDir, file))).toBe(true);
    }
    expect(addLocation).toHaveBeenCalledWith(
      { type: 'file', target: path.join(serviceDir, 'catalog-info.yaml') },
      expect.anything(),
    );
    await sim.control.waitFor(
      () =>
        sim.control.get('apps/v1', 'Deployment', 'payments', 'payments')?.status
          ?.readyReplicas === 2,
      30_000,
    );
    expect(
      sim.control.get('v1', 'Service', 'payments', 'payments-preview'),
    ).toBeDefined();
  });

  it('refuses to overwrite a service that exists', async () => {
    const { task, log } = await runTask({
      name: 'payments',
      description: 'Again',
      owner: 'group:default/team-a',
      port: 8080,
      strategy: 'RollingUpdate',
      cluster: 'local',
      namespace: 'payments',
      target: 'local',
    });
    expect(task.status).toBe('failed');
    expect(log).toContain('A service named "payments" already exists');
  });
});
