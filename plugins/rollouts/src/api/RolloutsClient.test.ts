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
import { isApprovalRequested } from './RolloutsApi';

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

  it('answers a protected start with the approval request (202)', async () => {
    const approval = { id: 'a1', status: 'pending', action: 'start' };
    server.use(
      http.post(`${base}/rollouts`, () =>
        HttpResponse.json({ approval }, { status: 202 }),
      ),
    );
    const answer = await client.startRollout(entity, {
      cluster: 'production',
      image: 'ghcr.io/acme/payments:2.0.0',
      reason: 'release',
    });
    expect(isApprovalRequested(answer)).toBe(true);
    expect(answer).toEqual({ approval });
  });

  it('lists, approves and denies approval requests', async () => {
    const calls: Array<{ url: string; body?: unknown }> = [];
    server.use(
      http.get('http://example.com/api/rollouts/approvals', ({ request }) => {
        calls.push({ url: request.url });
        return HttpResponse.json({ items: [{ id: 'a1' }] });
      }),
      http.post(
        'http://example.com/api/rollouts/approvals/:id/:decision',
        async ({ request }) => {
          calls.push({ url: request.url, body: await request.json() });
          return HttpResponse.json({ approval: { id: 'a1' } });
        },
      ),
    );
    await expect(client.getApprovals(entity)).resolves.toEqual([{ id: 'a1' }]);
    await client.approve('a1', { reason: 'lgtm' });
    await client.deny('a1', { reason: 'not now' });
    expect(calls).toEqual([
      {
        url: 'http://example.com/api/rollouts/approvals?entityRef=component%3Adefault%2Fpayments-api',
      },
      {
        url: 'http://example.com/api/rollouts/approvals/a1/approve',
        body: { reason: 'lgtm' },
      },
      {
        url: 'http://example.com/api/rollouts/approvals/a1/deny',
        body: { reason: 'not now' },
      },
    ]);
  });

  it('throws the backend error of a refused approval', async () => {
    server.use(
      http.post('http://example.com/api/rollouts/approvals/a1/approve', () =>
        HttpResponse.json(
          {
            error: {
              name: 'NotAllowedError',
              message: 'You asked for this start yourself',
            },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    const error = await client.approve('a1', { reason: 'x' }).catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.body.error.message).toBe('You asked for this start yourself');
  });
});
