import {
  TestDatabaseId,
  TestDatabases,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ApprovalView,
  ROLLOUT_ANNOTATIONS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import request from 'supertest';
import { readClusters } from '../../clusters/clusters';
import { ApprovalStore } from '../../database/ApprovalStore';
import { DatabaseRolloutHistoryStore } from '../../database/RolloutHistoryStore';
import { RolloutEngine } from '../../engine/RolloutEngine';
import { readEngineSettings } from '../../engine/settings';
import { createRouter } from '../router';
import {
  OWNER,
  STRANGER,
  component,
  kubernetesConfig,
  permissionPolicy,
  pollUntil,
  recordingAuditor,
  rolloutsRequests,
  testRootLogger,
} from '../../testing/routerTestBackend';
import { ReleaseGates } from './ReleaseGates';

jest.setTimeout(120_000);

/** Owners of team-a: OWNER and SECOND act; LEAD also may override freezes (platform team). */
const SECOND = 'user:default/second';
const LEAD = 'user:default/lead';
const ACTORS = new Set([OWNER, SECOND, LEAD]);

const FREEZE_START = '2026-12-24T00:00:00+01:00';
const FREEZE_END = '2027-01-02T08:00:00+01:00';

function deployment(
  name: string,
  namespace: string,
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { app: name, 'backstage.io/kubernetes-id': name },
      annotations: {
        [ROLLOUT_ANNOTATIONS.entity]: `component:default/${name}`,
        ...annotations,
      },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'backstage.io/kubernetes-id': name } },
        spec: {
          containers: [{ name: 'app', image: `ghcr.io/acme/${name}:1.0.0` }],
        },
      },
    },
  };
}

const canary = {
  [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
  [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
    { setWeight: 50 },
    { pause: {} },
  ]),
};

describe('freeze windows and four-eyes approval through the router', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
  let sim: KubeSim;

  beforeEach(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await sim.control.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'open' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      deployment('ledger', 'open'),
      deployment('cart', 'open', canary),
      deployment('payments', 'shop', canary),
      deployment('orders', 'shop'),
    ]);
    await sim.control.waitFor(
      () =>
        [
          ['open', 'ledger'],
          ['open', 'cart'],
          ['shop', 'payments'],
          ['shop', 'orders'],
        ].every(
          ([ns, n]) =>
            sim.control.get('apps/v1', 'Deployment', ns, n)?.status
              ?.readyReplicas > 0,
        ),
      20_000,
    );
  });

  afterEach(async () => {
    await sim.close();
  });

  async function start(options: { databaseId?: TestDatabaseId } = {}) {
    let now = new Date('2026-12-20T12:00:00Z');
    const clock = {
      set: (iso: string) => {
        now = new Date(iso);
      },
      advance: (ms: number) => {
        now = new Date(now.getTime() + ms);
      },
    };
    const { events: auditEvents, auditor } = recordingAuditor();
    // Reads for all; the owners act; only LEAD may override a freeze; a service may start.
    const permissions = permissionPolicy((permission, principal) => {
      if (permission.name === 'rollouts.freeze.override')
        return principal.userEntityRef === LEAD || principal.type === 'service';
      return (
        permission.attributes.action === 'read' ||
        (principal.userEntityRef !== undefined &&
          ACTORS.has(principal.userEntityRef)) ||
        principal.type === 'service'
      );
    });
    const notifications = { send: jest.fn(async () => {}) };
    let engine: RolloutEngine | undefined;
    const config = {
      kubernetes: kubernetesConfig([{ name: 'production', url: sim.url }]),
      rollouts: {
        freezeWindows: [
          {
            name: 'year-end',
            message: 'No production changes over the holidays',
            clusters: ['production'],
            start: FREEZE_START,
            end: FREEZE_END,
          },
        ],
        approvals: {
          expiresAfter: { hours: 4 },
          rules: [
            {
              clusters: ['production'],
              namespaces: ['shop'],
              actions: ['start', 'promote-full'],
            },
          ],
        },
      },
    };
    // The plugin's own wiring, with the test's clock in the gates.
    const testPlugin = createBackendPlugin({
      pluginId: 'rollouts',
      register(env) {
        env.registerInit({
          deps: {
            config: coreServices.rootConfig,
            logger: coreServices.logger,
            database: coreServices.database,
            httpRouter: coreServices.httpRouter,
            httpAuth: coreServices.httpAuth,
            auth: coreServices.auth,
            permissions: coreServices.permissions,
            auditor: coreServices.auditor,
            lifecycle: coreServices.lifecycle,
            catalog: catalogServiceRef,
          },
          async init(deps) {
            const history = await DatabaseRolloutHistoryStore.create({
              database: deps.database,
            });
            const settings = readEngineSettings(deps.config);
            engine = RolloutEngine.fromClusters(
              readClusters(deps.config, deps.logger),
              deps.logger,
              settings,
            );
            deps.lifecycle.addShutdownHook(() => engine!.stop());
            const gates = ReleaseGates.fromConfig(deps.config, {
              store: new ApprovalStore(await deps.database.getClient()),
              notifications: notifications as any,
              logger: deps.logger,
              now: () => now,
            });
            deps.httpRouter.use(
              await createRouter({ ...deps, engine, history, gates }),
            );
          },
        });
      },
    });
    const features: any[] = [
      testPlugin,
      testRootLogger(),
      auditor.factory,
      permissions.factory,
      catalogServiceMock.factory({
        entities: [
          component('ledger', { kubernetesNamespace: 'open' }),
          component('cart', { kubernetesNamespace: 'open' }),
          component('payments'),
          component('orders'),
        ],
      }),
      mockServices.rootConfig.factory({ data: config }),
    ];
    if (options.databaseId) {
      features.push(
        mockServices.database.factory({
          knex: await databases.init(options.databaseId),
        }),
      );
    }
    const backend = await startTestBackend({ features });
    const app = backend.server;
    const as = (user: string) => mockCredentials.user.header(user);
    const api = rolloutsRequests(app, { defaultAuth: as(OWNER) });

    const t = {
      app,
      clock,
      auditEvents,
      notifications,
      views: (name: string, user = OWNER) => api.views(name, as(user)),
      waitFor: (
        name: string,
        predicate: (v: RolloutView) => boolean,
        what: string,
      ) =>
        pollUntil({
          step: () => engine!.reconcileAll(),
          look: async () => (await t.views(name))[0],
          predicate,
          what,
        }),
      start: (name: string, body: object, user = OWNER) =>
        api.startRollout(name, body, as(user)),
      startAsService: (name: string, body: object) =>
        api.startRollout(name, body, mockCredentials.service.header()),
      action: (name: string, act: string, body: object, user = OWNER) =>
        api.action(name, act, body, as(user)),
      decide: (
        id: string,
        decision: 'approve' | 'deny',
        body: object,
        user = SECOND,
      ) => api.decide(id, decision, body, as(user)),
      approvals: (name: string) => api.approvals(name, as(STRANGER)),
      history: (name: string) => api.historyItems(name, as(OWNER)),
    };
    return t;
  }

  const imageOf = (ns: string, name: string) =>
    sim.control.get('apps/v1', 'Deployment', ns, name)?.spec?.template?.spec
      ?.containers?.[0]?.image;

  it("refuses starts and promotes from the freeze window's start instant to its end, keeps abort, and lets only a permitted person override", async () => {
    const t = await start();
    // Before the window: shown as upcoming, and a start goes through.
    t.clock.set('2026-12-23T22:59:59.999Z');
    const [before] = await t.views('cart');
    expect(before.freeze).toEqual({
      name: 'year-end',
      message: 'No production changes over the holidays',
      start: '2026-12-23T23:00:00.000Z',
      end: '2027-01-02T07:00:00.000Z',
      active: false,
    });
    const started = await t.start('cart', {
      cluster: 'production',
      image: 'ghcr.io/acme/cart:2.0.0',
    });
    expect(started.status).toBe(201);
    const paused = await t.waitFor(
      'cart',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the canary pause',
    );

    // At the start instant: frozen.
    t.clock.set('2026-12-23T23:00:00.000Z');
    expect((await t.views('cart'))[0].freeze?.active).toBe(true);
    const refused = await t.start('ledger', {
      cluster: 'production',
      image: 'ghcr.io/acme/ledger:2.0.0',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining(
        'Freeze window "year-end" is in force for production/open until 2027-01-02T07:00:00.000Z: No production changes over the holidays',
      ),
    });
    for (const act of ['promote', 'promote-full']) {
      const res = await t.action('cart', act, {
        cluster: 'production',
        revision: paused.revision,
        stepIndex: 1,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toContain('"year-end"');
    }
    // A CI job is held by the freeze like a person, and cannot override it.
    const ci = await t.startAsService('ledger', {
      cluster: 'production',
      image: 'ghcr.io/acme/ledger:2.0.0',
    });
    expect(ci.status).toBe(409);
    const ciOverride = await t.startAsService('ledger', {
      cluster: 'production',
      image: 'ghcr.io/acme/ledger:2.0.0',
      override: { reason: 'pipeline says so' },
    });
    expect(ciOverride.status).toBe(403);
    expect(imageOf('open', 'ledger')).toBe('ghcr.io/acme/ledger:1.0.0');

    // An owner without the override permission: 403, and the attempt is in the history.
    const noPermission = await t.start('ledger', {
      cluster: 'production',
      image: 'ghcr.io/acme/ledger:2.0.0',
      override: { reason: 'hotfix' },
    });
    expect(noPermission.status).toBe(403);
    expect(noPermission.body.error.message).toBe(
      'You may not override freeze window "year-end" (rollouts.freeze.override is needed)',
    );
    expect(imageOf('open', 'ledger')).toBe('ghcr.io/acme/ledger:1.0.0');
    // An empty reason is no reason.
    const noReason = await t.start(
      'ledger',
      {
        cluster: 'production',
        image: 'ghcr.io/acme/ledger:2.0.0',
        override: { reason: ' ' },
      },
      LEAD,
    );
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(
      /^Invalid request: override\.reason/,
    );

    // Abort stays allowed during the freeze.
    const aborted = await t.action('cart', 'abort', {
      cluster: 'production',
      reason: 'bad canary',
    });
    expect(aborted.status).toBe(200);
    expect(aborted.body.phase).toBe('Aborted');

    // The platform lead overrides with a reason: it acts, and is audited and recorded as such.
    const overridden = await t.start(
      'ledger',
      {
        cluster: 'production',
        image: 'ghcr.io/acme/ledger:2.0.1',
        override: { reason: 'CVE-2026-1234 hotfix' },
      },
      LEAD,
    );
    expect(overridden.status).toBe(201);
    await sim.control.waitFor(
      () => imageOf('open', 'ledger') === 'ghcr.io/acme/ledger:2.0.1',
      10_000,
    );
    const rows = await t.history('ledger');
    expect(rows.map(r => `${r.action}:${r.actor}:${r.outcome}`)).toEqual(
      expect.arrayContaining([
        `freeze-override:${LEAD}:succeeded`,
        `start:${LEAD}:succeeded`,
        `freeze-override:${OWNER}:denied`,
        `start:${OWNER}:denied`,
      ]),
    );
    expect(
      rows.find(
        r => r.action === 'freeze-override' && r.outcome === 'succeeded',
      ),
    ).toMatchObject({
      reason: 'CVE-2026-1234 hotfix',
      message:
        'Overrode freeze window "year-end" (until 2027-01-02T07:00:00.000Z) to start',
    });
    expect(t.auditEvents.filter(e => e.meta?.freezeOverride)).toEqual([
      expect.objectContaining({
        eventId: 'rollout-start',
        outcome: 'fail',
        meta: expect.objectContaining({
          actor: expect.stringMatching(/^service:/),
        }),
      }),
      expect.objectContaining({
        eventId: 'rollout-start',
        outcome: 'fail',
        meta: expect.objectContaining({ actor: OWNER }),
      }),
      expect.objectContaining({
        eventId: 'rollout-start',
        outcome: 'success',
        meta: expect.objectContaining({
          actor: LEAD,
          freezeOverride: 'CVE-2026-1234 hotfix',
        }),
      }),
    ]);

    // One millisecond before the end: still frozen. At the end instant: open again.
    t.clock.set('2027-01-02T06:59:59.999Z');
    expect(
      (
        await t.start('cart', {
          cluster: 'production',
          image: 'ghcr.io/acme/cart:3.0.0',
        })
      ).status,
    ).toBe(409);
    t.clock.set('2027-01-02T07:00:00.000Z');
    expect((await t.views('cart'))[0].freeze).toBeUndefined();
    expect(
      (
        await t.start('ledger', {
          cluster: 'production',
          image: 'ghcr.io/acme/ledger:3.0.0',
        })
      ).status,
    ).toBe(201);
  });

  it.each(databases.eachSupportedId())(
    'asks another owner before a start on a protected target, and acts as the approver on %p',
    async databaseId => {
      const t = await start({ databaseId });
      const asked = await t.start('payments', {
        cluster: 'production',
        image: 'ghcr.io/acme/payments:2.0.0',
        reason: 'release 2.0',
      });
      expect(asked.status).toBe(202);
      const approval: ApprovalView = asked.body.approval;
      expect(approval).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        entityRef: 'component:default/payments',
        cluster: 'production',
        namespace: 'shop',
        workload: 'payments',
        action: 'start',
        image: 'ghcr.io/acme/payments:2.0.0',
        requestedBy: OWNER,
        reason: 'release 2.0',
        status: 'pending',
        createdAt: '2026-12-20T12:00:00.000Z',
        expiresAt: '2026-12-20T16:00:00.000Z',
      });
      expect(imageOf('shop', 'payments')).toBe('ghcr.io/acme/payments:1.0.0');
      expect(t.notifications.send).toHaveBeenCalledWith({
        recipients: {
          type: 'entity',
          entityRef: 'component:default/payments',
          excludeEntityRef: OWNER,
        },
        payload: expect.objectContaining({
          title:
            'Approval asked: start ghcr.io/acme/payments:2.0.0 on payments in production',
          severity: 'high',
        }),
      });
      expect((await t.views('payments'))[0].pendingApproval).toEqual(approval);

      // A protected request needs a reason for the approver; a second one for the target waits.
      const noReason = await t.start('orders', {
        cluster: 'production',
        image: 'ghcr.io/acme/orders:2.0.0',
      });
      expect(noReason.status).toBe(400);
      expect(noReason.body.error.message).toMatch(
        /needs another owner's approval: give a reason/,
      );
      const second = await t.start(
        'payments',
        {
          cluster: 'production',
          image: 'ghcr.io/acme/payments:3.0.0',
          reason: 'mine instead',
        },
        SECOND,
      );
      expect(second.status).toBe(409);
      expect(second.body.error.message).toContain(
        `already has a pending approval request (${approval.id}: start by ${OWNER}`,
      );

      // The requester cannot approve, whatever the body claims; nor can someone who is not an owner.
      const self = await t.decide(
        approval.id,
        'approve',
        { reason: 'lgtm' },
        OWNER,
      );
      expect(self.status).toBe(403);
      expect(self.body.error).toMatchObject({
        name: 'NotAllowedError',
        message:
          'You asked for this start yourself: another owner of component:default/payments must approve it',
      });
      const claimed = await t.decide(
        approval.id,
        'approve',
        { reason: 'lgtm', requestedBy: SECOND, approvedBy: SECOND },
        OWNER,
      );
      expect(claimed.status).toBe(400);
      expect(claimed.body.error.message).toMatch(
        /^Invalid request: Unrecognized key\(s\) in object: 'requestedBy', 'approvedBy'/,
      );
      const stranger = await t.decide(
        approval.id,
        'approve',
        { reason: 'lgtm' },
        STRANGER,
      );
      expect(stranger.status).toBe(403);
      const noDecisionReason = await t.decide(approval.id, 'approve', {});
      expect(noDecisionReason.status).toBe(400);
      expect(imageOf('shop', 'payments')).toBe('ghcr.io/acme/payments:1.0.0');

      // Another owner approves: the start happens, as the approver, audited with both.
      t.clock.advance(60_000);
      const approved = await t.decide(approval.id, 'approve', {
        reason: 'checked the changelog',
      });
      expect(approved.status).toBe(200);
      expect(approved.body.approval).toMatchObject({
        status: 'approved',
        decidedBy: SECOND,
        decidedAt: '2026-12-20T12:01:00.000Z',
        decisionReason: 'checked the changelog',
      });
      expect(approved.body.rollout).toMatchObject({
        phase: 'Progressing',
        targetImage: 'ghcr.io/acme/payments:2.0.0',
      });
      expect((await t.views('payments'))[0].pendingApproval).toBeUndefined();
      const again = await t.decide(
        approval.id,
        'approve',
        { reason: 'twice' },
        LEAD,
      );
      expect(again.status).toBe(409);
      expect(again.body.error.message).toBe(
        `Approval request ${approval.id} was approved already by ${SECOND}`,
      );

      const rows = await t.history('payments');
      expect(
        rows
          .filter(r => r.actor !== 'system')
          .map(r => `${r.action}:${r.actor}:${r.outcome}`)
          .reverse(),
      ).toEqual([
        `request-approval:${OWNER}:succeeded`,
        `approve:${OWNER}:denied`,
        `approve:${STRANGER}:denied`,
        `approve:${SECOND}:succeeded`,
        `start:${SECOND}:succeeded`,
      ]);
      expect(
        rows.find(r => r.action === 'start' && r.outcome === 'succeeded')
          ?.message,
      ).toContain(`(approved request of ${OWNER})`);
      // The start's audit events: the request (pending) by the requester, the action by the approver.
      expect(
        t.auditEvents
          .filter(
            e =>
              e.eventId === 'rollout-start' &&
              e.meta?.approvalId === approval.id,
          )
          .map(e => [
            e.outcome,
            e.meta.actor,
            e.meta.requestedBy,
            e.meta.pending,
          ]),
      ).toEqual([
        ['success', OWNER, undefined, true],
        ['success', SECOND, OWNER, undefined],
      ]);
      expect(
        t.auditEvents
          .filter(e => e.eventId === 'rollout-approval')
          .map(e => [e.meta.actor, e.outcome]),
      ).toEqual([
        // The 400s (a body naming people, no reason) are refused before auditing, as every route.
        [OWNER, 'fail'],
        [STRANGER, 'fail'],
        [SECOND, 'success'],
        [LEAD, 'fail'],
      ]);

      // A protected promote-full is a request too; the freeze holds an approval back as well.
      await t.waitFor(
        'payments',
        v => v.phase === 'Paused',
        'the canary pause',
      );
      t.clock.set('2026-12-23T22:00:00.000Z');
      const full = await t.action(
        'payments',
        'promote-full',
        { cluster: 'production', reason: 'all good' },
        SECOND,
      );
      expect(full.status).toBe(202);
      expect(full.body.approval).toMatchObject({
        action: 'promote-full',
        requestedBy: SECOND,
      });
      t.clock.set('2026-12-23T23:00:00.000Z');
      const frozen = await t.decide(
        full.body.approval.id,
        'approve',
        { reason: 'go' },
        OWNER,
      );
      expect(frozen.status).toBe(409);
      expect(frozen.body.error.message).toContain(
        'Freeze window "year-end" is in force for production/shop',
      );
      expect((await t.approvals('payments'))[0].status).toBe('pending');
    },
  );

  it('refuses an expired request with 409, and a request whose workload was rebound meanwhile with 403', async () => {
    const t = await start();
    const asked = await t.start('orders', {
      cluster: 'production',
      image: 'ghcr.io/acme/orders:2.0.0',
      reason: 'release',
    });
    expect(asked.status).toBe(202);
    const { id, expiresAt } = asked.body.approval;
    // One millisecond before it expires it could still be decided; at the instant, not.
    t.clock.set(new Date(Date.parse(expiresAt) - 1).toISOString());
    expect((await t.approvals('orders'))[0].status).toBe('pending');
    t.clock.set(expiresAt);
    const expired = await t.decide(id, 'approve', { reason: 'late' });
    expect(expired.status).toBe(409);
    expect(expired.body.error).toMatchObject({
      name: 'ConflictError',
      message: `Approval request ${id} expired at ${expiresAt}; ask again`,
    });
    expect((await t.approvals('orders'))[0].status).toBe('expired');
    expect(imageOf('shop', 'orders')).toBe('ghcr.io/acme/orders:1.0.0');

    // A new request, then the cluster binds the workload to another entity before approval.
    const again = await t.start('orders', {
      cluster: 'production',
      image: 'ghcr.io/acme/orders:2.0.0',
      reason: 'release, again',
    });
    expect(again.status).toBe(202);
    const orders = sim.control.get('apps/v1', 'Deployment', 'shop', 'orders');
    orders.metadata.annotations[ROLLOUT_ANNOTATIONS.entity] =
      'component:default/someone-else';
    await sim.control.apply([orders]);
    await t.waitFor(
      'orders',
      v => v.binding.status === 'elsewhere',
      'the new binding',
    );
    const rebound = await t.decide(again.body.approval.id, 'approve', {
      reason: 'go',
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.message).toContain(
      'component:default/someone-else',
    );
    expect(imageOf('shop', 'orders')).toBe('ghcr.io/acme/orders:1.0.0');
    // Still pending: nobody's approval was spent on an action that did not happen.
    expect((await t.approvals('orders'))[0].status).toBe('pending');

    // The requester withdraws it; another owner could deny it the same way.
    const withdrawn = await t.decide(
      again.body.approval.id,
      'deny',
      { reason: 'wrong cluster' },
      OWNER,
    );
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.approval).toMatchObject({
      status: 'denied',
      decidedBy: OWNER,
      decisionReason: 'wrong cluster',
    });
    const bad = await request(t.app)
      .post('/api/rollouts/approvals/not-an-id/approve')
      .set('Authorization', mockCredentials.user.header(SECOND))
      .send({ reason: 'x' });
    expect(bad.status).toBe(400);
    const unknown = await t.decide(
      '00000000-0000-4000-8000-000000000000',
      'approve',
      { reason: 'x' },
    );
    expect(unknown.status).toBe(404);
  });
});
