import { mockCredentials } from '@backstage/backend-test-utils';
import { startKubeSim, KubeSim } from '@rust-delivery-portal/kube-sim';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import { Portal, startPortal } from '../harness/portal';
import { NS, canaryWorkload, namespaceObject } from '../harness/workloads';

jest.setTimeout(120_000);

// Entity path parameters are validated before they reach the catalog client, whose URL building
// leaves dot segments alone: `..` would otherwise address another catalog route.
describe('entity path parameters', () => {
  let sim: KubeSim;
  let portal: Portal;
  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.1 });
    await sim.control.apply([
      namespaceObject,
      ...canaryWorkload('ci', 'registry.test/ci:1.0.0'),
    ]);
    portal = await startPortal({
      kubeUrl: sim.url,
      entities: [
        serviceEntity('ci', 'user:default/alice', NS),
        userEntity('alice'),
      ],
    });
    await portal.waitForCatalog(['component:default/ci']);
  });
  afterAll(async () => {
    await portal?.stop();
    await sim?.close();
  });

  it('answers 400, not 500, when entity path segments are dot segments', async () => {
    const alice = { type: 'user', ref: 'user:default/alice' } as const;
    const res = await portal.get(
      '/entities/component/%2e%2e/%2e%2e/rollouts',
      alice,
    );
    expect({ status: res.status, error: res.body.error?.name }).toEqual({
      status: 400,
      error: 'InputError',
    });
  });

  it('does not resolve an entity through another catalog route (`..` + by-uid)', async () => {
    const alice = { type: 'user', ref: 'user:default/alice' } as const;
    const byRef = await portal
      .http()
      .post('/api/catalog/entities/by-refs')
      .set({ authorization: mockCredentials.user.header('user:default/alice') })
      .send({ entityRefs: ['component:default/ci'] });
    const uid = byRef.body.items[0].metadata.uid;
    const res = await portal.get(
      `/entities/%2e%2e/by-uid/${uid}/rollouts`,
      alice,
    );
    expect({ status: res.status, error: res.body.error?.name }).toEqual({
      status: 400,
      error: 'InputError',
    });
  });
});
