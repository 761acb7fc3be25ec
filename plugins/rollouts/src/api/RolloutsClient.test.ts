import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { ResponseError } from '@backstage/errors';
import {
  MockFetchApi,
  mockApis,
  registerMswTestHooks,
} from '@backstage/test-utils';
import { pausedCanary } from '../testing/fixtures';
import { RolloutsClient } from './RolloutsClient';

const server = setupServer();
registerMswTestHooks(server);

const base =
  'http://example.com/api/rollouts/entities/component/default/payments-api';
const entity = {
  kind: 'Component',
  namespace: 'default',
  name: 'payments-api',
};

describe('RolloutsClient', () => {
  const client = new RolloutsClient({
    discoveryApi: mockApis.discovery({ baseUrl: 'http://example.com' }),
    fetchApi: new MockFetchApi(),
  });

  it('lists the rollouts of an entity', async () => {
    const rollout = pausedCanary();
    let url = '';
    server.use(
      http.get(`${base}/rollouts`, ({ request }) => {
        url = request.url;
        return HttpResponse.json({ items: [rollout] });
      }),
    );
    await expect(client.getRollouts(entity)).resolves.toEqual([rollout]);
    expect(url).toBe(`${base}/rollouts`);
  });

  it('reads the history', async () => {
    server.use(
      http.get(`${base}/history`, () =>
        HttpResponse.json({ items: [{ id: 'h1', action: 'promote' }] }),
      ),
    );
    await expect(client.getHistory(entity)).resolves.toEqual([
      { id: 'h1', action: 'promote' },
    ]);
  });

  it('posts an action with the view the user saw', async () => {
    let received: unknown;
    server.use(
      http.post(`${base}/actions/promote-full`, async ({ request }) => {
        received = await request.json();
        return new HttpResponse(null, { status: 204 });
      }),
    );
    await client.runAction(entity, 'promote-full', {
      cluster: 'local',
      workload: 'payments-api',
      reason: 'looks good',
      revision: 4,
      stepIndex: 1,
    });
    expect(received).toEqual({
      cluster: 'local',
      workload: 'payments-api',
      reason: 'looks good',
      revision: 4,
      stepIndex: 1,
    });
  });

  it('starts a rollout of an image', async () => {
    let received: unknown;
    server.use(
      http.post(`${base}/rollouts`, async ({ request }) => {
        received = await request.json();
        return HttpResponse.json({ accepted: true }, { status: 202 });
      }),
    );
    await client.startRollout(entity, {
      cluster: 'local',
      image: 'ghcr.io/acme/payments-api:1.5.0',
      reason: 'release',
    });
    expect(received).toEqual({
      cluster: 'local',
      image: 'ghcr.io/acme/payments-api:1.5.0',
      reason: 'release',
    });
  });

  it('throws a ResponseError carrying the backend error', async () => {
    server.use(
      http.post(`${base}/actions/abort`, () =>
        HttpResponse.json(
          {
            error: { name: 'ConflictError', message: 'rollout moved on' },
            request: { method: 'POST', url: '/x' },
            response: { statusCode: 409 },
          },
          { status: 409 },
        ),
      ),
    );
    const error = await client
      .runAction(entity, 'abort', { cluster: 'local' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(409);
    expect(error.body.error).toEqual({
      name: 'ConflictError',
      message: 'rollout moved on',
    });
  });
});
