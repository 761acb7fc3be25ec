import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  MockFetchApi,
  mockApis,
  registerMswTestHooks,
} from '@backstage/test-utils';
import { pausedCanary } from '../testing/fixtures';
import { RolloutsClient } from './RolloutsClient';
import { lazyRolloutsClient } from './lazyRolloutsClient';

const server = setupServer();
registerMswTestHooks(server);

const base =
  'http://example.com/api/rollouts/entities/component/default/payments-api';
const entity = {
  kind: 'Component',
  namespace: 'default',
  name: 'payments-api',
};
const options = () => ({
  discoveryApi: mockApis.discovery({ baseUrl: 'http://example.com' }),
  fetchApi: new MockFetchApi(),
});

describe('lazyRolloutsClient', () => {
  afterEach(() => jest.restoreAllMocks());

  it('answers as RolloutsClient does, with the discovery and fetch it was given', async () => {
    const rollout = pausedCanary();
    let posted: unknown;
    server.use(
      http.get(`${base}/rollouts`, () =>
        HttpResponse.json({ items: [rollout] }),
      ),
      http.get(`${base}/history`, () =>
        HttpResponse.json({ items: [{ id: 'h1', action: 'promote' }] }),
      ),
      http.post(`${base}/actions/abort`, async ({ request }) => {
        posted = await request.json();
        return new HttpResponse(null, { status: 204 });
      }),
      http.post(`${base}/rollouts`, () =>
        HttpResponse.json(
          { error: { name: 'ConflictError', message: 'in flight' } },
          { status: 409 },
        ),
      ),
    );
    const api = lazyRolloutsClient(options());
    await expect(api.getRollouts(entity)).resolves.toEqual([rollout]);
    await expect(api.getHistory(entity)).resolves.toEqual([
      { id: 'h1', action: 'promote' },
    ]);
    await api.runAction(entity, 'abort', {
      cluster: 'local',
      workload: 'payments-api',
      reason: 'broken',
    });
    expect(posted).toEqual({
      cluster: 'local',
      workload: 'payments-api',
      reason: 'broken',
    });
    await expect(
      api.startRollout(entity, {
        cluster: 'local',
        workload: 'payments-api',
        image: 'ghcr.io/acme/payments-api:1.2.0',
        reason: 'release',
      }),
    ).rejects.toMatchObject({ name: 'ResponseError', statusCode: 409 });
  });

  it('makes one client for all calls', async () => {
    const rollouts = jest
      .spyOn(RolloutsClient.prototype, 'getRollouts')
      .mockResolvedValue([]);
    const history = jest
      .spyOn(RolloutsClient.prototype, 'getHistory')
      .mockResolvedValue([]);
    const opts = options();
    const api = lazyRolloutsClient(opts);
    await Promise.all([api.getRollouts(entity), api.getRollouts(entity)]);
    await api.getHistory(entity);
    const clients = new Set([
      ...rollouts.mock.contexts,
      ...history.mock.contexts,
    ]);
    expect(clients.size).toBe(1);
    const [client] = clients;
    expect(client).toBeInstanceOf(RolloutsClient);
    expect(client).toMatchObject({
      discoveryApi: opts.discoveryApi,
      fetchApi: opts.fetchApi,
    });
    expect(rollouts).toHaveBeenCalledTimes(2);
    expect(rollouts).toHaveBeenCalledWith(entity);
  });

  it('loads the client on the first call, not before, and again after a failed load', async () => {
    await jest.isolateModulesAsync(async () => {
      const rollout = pausedCanary();
      let loads = 0;
      jest.doMock('./RolloutsClient', () => {
        loads += 1;
        if (loads === 1) {
          throw new Error('chunk failed');
        }
        return {
          RolloutsClient: class {
            async getRollouts() {
              return [rollout];
            }
          },
        };
      });
      const { lazyRolloutsClient: lazy } = await import('./lazyRolloutsClient');
      const api = lazy(options());
      expect(loads).toBe(0);
      await expect(api.getRollouts(entity)).rejects.toThrow('chunk failed');
      await expect(api.getRollouts(entity)).resolves.toEqual([rollout]);
      await api.getRollouts(entity);
      expect(loads).toBe(2);
    });
    jest.dontMock('./RolloutsClient');
  });

  it('preloads the client module, leaving a failure to the first call', async () => {
    await jest.isolateModulesAsync(async () => {
      let loads = 0;
      jest.doMock('./RolloutsClient', () => {
        loads += 1;
        throw new Error('chunk failed');
      });
      const { lazyRolloutsClient: lazy, preloadRolloutsClient: preload } =
        await import('./lazyRolloutsClient');
      expect(loads).toBe(0);
      preload();
      await new Promise(resolve => setTimeout(resolve, 0));
      expect(loads).toBe(1);
      await expect(lazy(options()).getHistory(entity)).rejects.toThrow(
        'chunk failed',
      );
    });
    jest.dontMock('./RolloutsClient');
  });
});
