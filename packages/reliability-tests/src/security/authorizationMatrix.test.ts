import { startKubeSim, KubeSim } from '@rust-delivery-portal/kube-sim';
import { ROLLOUT_ACTIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import { Caller, Portal, startPortal } from '../harness/portal';
import { NS, canaryWorkload, namespaceObject } from '../harness/workloads';

jest.setTimeout(120_000);

/**
 * Every action x every kind of caller, through the real permission backend with the portal's own
 * policy (packages/backend/src/permissions): everyone reads; owners act (a catalog conditional
 * decision); a service principal (CI) may start but nothing else; no token at all is a 401.
 */
const CALLERS: Record<string, Caller> = {
  owner: { type: 'user', ref: 'user:default/alice' },
  'non-owner': { type: 'user', ref: 'user:default/bob' },
  service: { type: 'service' },
  anonymous: { type: 'anonymous' },
};
const ACTIONS = ['start', ...ROLLOUT_ACTIONS] as const;
type Action = (typeof ACTIONS)[number];

function expected(
  caller: string,
  action: Action,
): 'allow' | 'deny' | 'unauthenticated' {
  if (caller === 'anonymous') return 'unauthenticated';
  if (caller === 'owner') return 'allow';
  if (caller === 'service') return action === 'start' ? 'allow' : 'deny';
  return 'deny';
}

const ENTITY = '/entities/component/default/matrix';
const ACTOR: Record<string, string> = {
  owner: 'user:default/alice',
  'non-owner': 'user:default/bob',
  service: 'service:external:test-service',
};

describe('authorization matrix: every action x {owner, non-owner, service principal, anonymous}', () => {
  let sim: KubeSim;
  let portal: Portal;
  const outcomes: Array<{
    caller: string;
    action: Action;
    status: number;
    expected: string;
  }> = [];

  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.1 });
    await sim.control.apply([
      namespaceObject,
      ...canaryWorkload('matrix', 'registry.test/matrix:1.0.0'),
    ]);
    portal = await startPortal({
      kubeUrl: sim.url,
      entities: [
        serviceEntity('matrix', 'user:default/alice', NS),
        userEntity('alice'),
        userEntity('bob'),
      ],
    });
    await portal.waitForCatalog(['component:default/matrix']);
  });

  afterAll(async () => {
    const tally = (e: string) => outcomes.filter(o => o.expected === e).length;
    console.log(
      `[reliability] authorization matrix: ${JSON.stringify({
        requests: outcomes.length,
        allowed: tally('allow'),
        denied403: tally('deny'),
        unauthenticated401: tally('unauthenticated'),
        statuses: outcomes.reduce<Record<string, number>>((m, o) => {
          m[o.status] = (m[o.status] ?? 0) + 1;
          return m;
        }, {}),
      })}`,
    );
    await portal?.stop();
    await sim?.close();
  });

  function send(
    caller: string,
    action: Action,
    body: Record<string, unknown> = {},
  ) {
    const who = CALLERS[caller];
    return action === 'start'
      ? portal.post(`${ENTITY}/rollouts`, who, {
          cluster: 'sim',
          image: `registry.test/matrix:2.0.${outcomes.length}`,
          reason: `matrix ${caller}`,
          ...body,
        })
      : portal.post(`${ENTITY}/actions/${action}`, who, {
          cluster: 'sim',
          reason: `matrix ${caller}`,
          ...body,
        });
  }

  it('refuses anonymous callers with 401 on every endpoint, reads included', async () => {
    for (const action of ACTIONS) {
      const res = await send('anonymous', action);
      outcomes.push({
        caller: 'anonymous',
        action,
        status: res.status,
        expected: 'unauthenticated',
      });
      expect({ action, status: res.status }).toEqual({ action, status: 401 });
      expect(res.body.error.name).toBe('AuthenticationError');
    }
    for (const path of ['rollouts', 'history']) {
      const res = await portal.get(`${ENTITY}/${path}`, CALLERS.anonymous);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });

  it('lets everyone with a token read rollouts and history, and shows each caller only what it may do', async () => {
    const allowed: Record<string, string[]> = {};
    for (const caller of ['owner', 'non-owner', 'service']) {
      const res = await portal.get(`${ENTITY}/rollouts`, CALLERS[caller]);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      allowed[caller] = res.body.items[0].allowedActions;
      expect(
        (await portal.get(`${ENTITY}/history`, CALLERS[caller])).status,
      ).toBe(200);
    }
    // Healthy canary: the phase allows start (and rollback/restart where the strategy says so).
    expect(allowed.owner).toContain('start');
    expect(allowed['non-owner']).toEqual([]);
    expect(allowed.service).toEqual(['start']);
  });

  it.each(['non-owner', 'service'])(
    'denies %s every action it may not take, with a 403, an audit event and a history row',
    async caller => {
      for (const action of ACTIONS.filter(
        a => expected(caller, a) === 'deny',
      )) {
        const auditBefore = portal.audit.length;
        const res = await send(caller, action);
        outcomes.push({ caller, action, status: res.status, expected: 'deny' });
        expect({ action, status: res.status }).toEqual({ action, status: 403 });
        expect(res.body.error).toMatchObject({
          name: 'NotAllowedError',
          message: expect.any(String),
        });
        const events = portal.audit
          .slice(auditBefore)
          .filter(e => e.pluginId === 'rollouts');
        expect(events).toEqual([
          expect.objectContaining({
            eventId: action === 'start' ? 'rollout-start' : 'rollout-action',
            severityLevel: 'medium',
            status: 'failed',
            error: expect.stringMatching(/^NotAllowedError/),
            meta: expect.objectContaining({
              action,
              entityRef: 'component:default/matrix',
            }),
          }),
        ]);
      }
      const history = await portal.get(
        `${ENTITY}/history?limit=1000`,
        CALLERS.owner,
      );
      const denied = history.body.items.filter(
        (h: any) => h.actor === ACTOR[caller] && h.outcome === 'denied',
      );
      const deniedActions = ACTIONS.filter(a => expected(caller, a) === 'deny');
      expect(denied.map((h: any) => h.action).sort()).toEqual(
        [...deniedActions].sort(),
      );
      // The cluster did not move.
      const d = sim.control.get('apps/v1', 'Deployment', NS, 'matrix');
      expect(d.spec.template.spec.containers[0].image).toBe(
        'registry.test/matrix:1.0.0',
      );
      expect(
        d.metadata.annotations['rollouts.backstage.io/state'],
      ).toBeUndefined();
    },
  );

  it('lets the service principal start a rollout (the CI deploy path)', async () => {
    const res = await send('service', 'start');
    outcomes.push({
      caller: 'service',
      action: 'start',
      status: res.status,
      expected: 'allow',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      phase: 'Progressing',
      targetImage: expect.stringMatching(/^registry\.test\/matrix:2\.0\./),
    });
    const history = await portal.get(
      `${ENTITY}/history?limit=1000`,
      CALLERS.owner,
    );
    expect(history.body.items).toContainEqual(
      expect.objectContaining({
        action: 'start',
        actor: ACTOR.service,
        outcome: 'succeeded',
      }),
    );
  });

  it('lets the owner take every action: never 401/403, each one audited and recorded as allowed', async () => {
    for (const action of ACTIONS) {
      const auditBefore = portal.audit.length;
      const res = await send('owner', action);
      outcomes.push({
        caller: 'owner',
        action,
        status: res.status,
        expected: 'allow',
      });
      // Allowed means the permission check passed: the action ran (200/201) or the rollout's
      // phase refused it (409), never 401 or 403.
      expect({ action, allowed: [200, 201, 409].includes(res.status) }).toEqual(
        { action, allowed: true },
      );
      const [event] = portal.audit
        .slice(auditBefore)
        .filter(e => e.pluginId === 'rollouts');
      expect(event).toMatchObject({
        principal: { type: 'user', userEntityRef: ACTOR.owner },
      });
      // A 409 is audited as a failed ConflictError, anything else as a success.
      expect({
        status: event.status,
        error: event.error?.split(':')[0],
      }).toEqual(
        res.status === 409
          ? { status: 'failed', error: 'ConflictError' }
          : { status: 'succeeded', error: undefined },
      );
    }
    const history = await portal.get(
      `${ENTITY}/history?limit=1000`,
      CALLERS.owner,
    );
    const mine = history.body.items.filter((h: any) => h.actor === ACTOR.owner);
    expect(mine.filter((h: any) => h.outcome === 'denied')).toEqual([]);
    // The owner's abort of the service principal's canary went through.
    expect(mine).toContainEqual(
      expect.objectContaining({ action: 'abort', outcome: 'succeeded' }),
    );
  });
});
