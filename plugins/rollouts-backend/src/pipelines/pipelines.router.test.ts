import {
  TestDatabases,
  mockCredentials,
  mockErrorHandler,
  mockServices,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  PipelineView,
  ROLLOUT_ANNOTATIONS,
  RolloutHistoryEvent,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import express from 'express';
import { readClusters } from '../clusters/clusters';
import { DatabaseRolloutHistoryStore } from '../database/RolloutHistoryStore';
import { RolloutEngine } from '../engine/RolloutEngine';
import { RolloutPublisher } from '../engine/RolloutPublisher';
import { createRouter } from '../service/router';
import { ApprovalStore } from '../database/ApprovalStore';
import { ReleaseGates } from '../service/gates/ReleaseGates';
import {
  OWNER,
  STRANGER,
  component as catalogComponent,
  kubernetesConfig,
  pollUntil,
  readOrActors,
  recordingAuditor,
  rolloutsRequests,
} from '../testing/routerTestBackend';

jest.setTimeout(120_000);

const SECOND_OWNER = 'user:default/second-owner';
const V1 = 'ghcr.io/acme/checkout:1.0.0';
const V2 = 'ghcr.io/acme/checkout:1.1.0';
const SOAK_MS = 10 * 60_000;

/** A Component whose release pipeline is the annotation `pipeline`. */
function component(name: string, pipeline: string) {
  return catalogComponent(name, {
    annotations: { 'rollouts.backstage.io/pipeline': pipeline },
  });
}

function workload(name: string, annotations: Record<string, string> = {}) {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: 'shop',
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
          metadata: {
            labels: { app: name, 'backstage.io/kubernetes-id': name },
          },
          spec: {
            containers: [{ name: 'app', image: V1.replace('checkout', name) }],
          },
        },
      },
    },
  ];
}

const CANARY = {
  [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
  [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([{ setWeight: 50 }]),
  [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '1s',
};

describe('release pipelines across two clusters', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
  let staging: KubeSim;
  let production: KubeSim;
  let engine: RolloutEngine;

  beforeEach(async () => {
    staging = await startKubeSim({ port: 0, timeScale: 0.05 });
    production = await startKubeSim({ port: 0, timeScale: 0.05 });
    // checkout: manual into production after 10 minutes in staging; ledger: automatic, no soak.
    await staging.control.apply([
      ...workload('checkout', CANARY),
      ...workload('ledger').slice(1),
    ]);
    await production.control.apply([
      ...workload('checkout'),
      ...workload('ledger').slice(1),
    ]);
  });

  afterEach(async () => {
    await engine?.stop();
    await staging.close();
    await production.close();
  });

  async function setup(gatesConfig: object = {}) {
    // The wall clock until a test sets it: the soak is then judged at exactly the time it says.
    let now: Date | undefined;
    const config = new ConfigReader({
      kubernetes: kubernetesConfig([
        { name: 'staging', url: staging.url },
        { name: 'production', url: production.url },
      ]),
    });
    const logger = mockServices.logger.mock();
    const knex = await databases.init('SQLITE_3');
    const history = await DatabaseRolloutHistoryStore.create({
      database: { getClient: async () => knex } as any,
    });
    engine = RolloutEngine.fromClusters(readClusters(config), logger, {
      unreadyThresholdMs: 60_000,
    });
    engine.setListener(
      new RolloutPublisher(
        history,
        { publish: async () => {} } as any,
        { send: async () => {} } as any,
        logger,
      ),
    );
    const { events: audits, auditor } = recordingAuditor();
    let autoPass: (() => Promise<void>) | undefined;
    const gates = ReleaseGates.fromConfig(new ConfigReader(gatesConfig), {
      store: new ApprovalStore(knex),
      notifications: { send: async () => {} } as any,
      logger,
      now: () => now ?? new Date(),
    });
    const router = await createRouter({
      engine,
      history,
      catalog: catalogServiceMock({
        entities: [
          component(
            'checkout',
            '- cluster: staging\n  soak: 10m\n- cluster: production\n',
          ),
          component(
            'ledger',
            '[{"cluster":"staging"},{"cluster":"production","promotion":"auto"}]',
          ),
        ],
      }),
      permissions: readOrActors([OWNER, SECOND_OWNER], { services: true }),
      httpAuth: mockServices.httpAuth(),
      auth: mockServices.auth(),
      auditor,
      gates,
      pipelines: {
        defaults: { stages: [] },
        now: () => now ?? new Date(),
        logger,
        scheduleAutoPromotion: async pass => {
          autoPass = pass;
        },
      },
    });
    const app = express().use(router).use(mockErrorHandler());
    const owner = mockCredentials.user.header(OWNER);
    const api = rolloutsRequests(app, { prefix: '', defaultAuth: owner });
    return {
      app,
      audits,
      logger,
      setNow: (d: Date) => {
        now = d;
      },
      autoPass: () => autoPass!(),
      pipeline: api.pipeline,
      promote: api.promote,
      decide: (id: string, decision: string, body: object, as: string) =>
        api.decide(id, decision, body, as),
      start: api.startRollout,
      history: async (name: string): Promise<RolloutHistoryEvent[]> =>
        (await api.history(name)).body.items,
    };
  }

  /** Polls the pipeline (reconciling between looks) until `predicate` holds. */
  function until(
    look: () => Promise<PipelineView>,
    predicate: (p: PipelineView) => boolean,
    what: string,
  ) {
    return pollUntil({
      step: () => engine.reconcileAll(),
      look,
      predicate,
      what,
    });
  }

  it('holds production until staging has been Healthy on the release for its soak, then promotes it', async () => {
    const t = await setup();
    expect(
      (await t.start('checkout', { cluster: 'staging', image: V2 })).status,
    ).toBe(201);
    const soaking = await until(
      () => t.pipeline('checkout'),
      p =>
        p.stages[0].release?.phase === 'Healthy' &&
        p.stages[0].release.image === V2 &&
        p.stages[1].waitingFor[0]?.kind === 'soak',
      'staging to be Healthy on the release',
    );
    const completed = (await t.history('checkout')).find(
      r => r.action === 'completed' && r.cluster === 'staging',
    )!;
    expect(completed.image).toBe(V2);
    const healthySince = new Date(completed.createdAt);
    expect(soaking.stages[0].release!.since).toBe(completed.createdAt);
    expect(soaking.stages[1]).toMatchObject({
      name: 'production',
      candidate: V2,
      canPromote: false,
      release: { image: V1, phase: 'Healthy' },
      waitingFor: [
        {
          kind: 'soak',
          until: new Date(healthySince.getTime() + SOAK_MS).toISOString(),
        },
      ],
    });

    // Just short: refused (the promote endpoint and a plain start in production alike), saying why.
    t.setNow(new Date(healthySince.getTime() + SOAK_MS - 1));
    const early = await t.promote('checkout', {
      stage: 'production',
      image: V2,
    });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(
      /Cannot start ghcr.io\/acme\/checkout:1.1.0 in production: .* soaks until .*\(1s left\)/,
    );
    const direct = await t.start('checkout', {
      cluster: 'production',
      image: V2,
    });
    expect(direct.status).toBe(409);
    expect(direct.body.error.message).toMatch(/soaks until/);
    // Someone who may not start in production is refused before the pipeline is even asked.
    const stranger = await t.promote(
      'checkout',
      { stage: 'production' },
      mockCredentials.user.header(STRANGER),
    );
    expect(stranger.status).toBe(403);
    // A release the caller did not see is not promoted.
    const stale = await t.promote('checkout', {
      stage: 'production',
      image: V1,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/moved on/);
    // The first stage starts with a normal start; an unknown stage is named.
    expect((await t.promote('checkout', { stage: 'staging' })).status).toBe(
      400,
    );
    const unknown = await t.promote('checkout', { stage: 'prod' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(
      /its stages: staging, production/,
    );

    // Just long enough: the owner's promotion starts the same release in production.
    t.setNow(new Date(healthySince.getTime() + SOAK_MS));
    const ready = await t.pipeline('checkout');
    expect(ready.stages[1]).toMatchObject({ canPromote: true, waitingFor: [] });
    const promoted = await t.promote('checkout', {
      stage: 'production',
      image: V2,
    });
    expect(promoted.status).toBe(201);
    expect(promoted.body).toMatchObject({
      cluster: 'production',
      targetImage: V2,
    });
    const rows = await t.history('checkout');
    expect(
      rows.filter(r => r.action === 'start' && r.cluster === 'production'),
    ).toEqual([
      expect.objectContaining({
        outcome: 'succeeded',
        actor: OWNER,
        image: V2,
        reason: 'Promoted from staging to production',
      }),
      expect.objectContaining({ outcome: 'denied', actor: STRANGER }),
      expect.objectContaining({
        outcome: 'failed',
        actor: OWNER,
        message: expect.stringMatching(/soaks until/),
      }),
      expect.objectContaining({
        outcome: 'failed',
        actor: OWNER,
        reason: 'Promoted from staging to production',
        message: expect.stringMatching(/soaks until/),
      }),
    ]);
    expect(
      t.audits
        .filter(
          a => a.eventId === 'rollout-start' && a.meta.cluster === 'production',
        )
        .map(a => a.outcome),
    ).toEqual(['fail', 'fail', 'fail', 'success']);
    await until(
      () => t.pipeline('checkout'),
      p =>
        p.stages[1].release?.phase === 'Healthy' &&
        p.stages[1].release.image === V2,
      'production to be Healthy on the release',
    );
  });

  it('stops a release that failed in staging: no start with it in production', async () => {
    const t = await setup();
    const broken = 'ghcr.io/acme/checkout:1.2.0-crashloop';
    expect(
      (await t.start('checkout', { cluster: 'staging', image: broken })).status,
    ).toBe(201);
    const failed = await until(
      () => t.pipeline('checkout'),
      p => p.stages[0].release?.phase === 'Aborted',
      'the health gate to abort the release in staging',
    );
    expect(failed.stages[1]).toMatchObject({
      candidate: broken,
      canPromote: false,
      waitingFor: [expect.objectContaining({ kind: 'failed' })],
    });
    t.setNow(new Date(Date.now() + 24 * 3_600_000));
    const refused = await t.start('checkout', {
      cluster: 'production',
      image: broken,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /failed in staging \(Aborted: .*it stops there/,
    );
    expect((await t.promote('checkout', { stage: 'production' })).status).toBe(
      409,
    );
  });

  it('promotes automatically where the stage says so, as the pipeline, once', async () => {
    const t = await setup();
    const v2 = V2.replace('checkout', 'ledger');
    // Nothing to promote yet: production already runs what staging runs.
    await t.autoPass();
    expect(
      (await t.history('ledger')).filter(r => r.action === 'start'),
    ).toEqual([]);
    expect(
      (await t.start('ledger', { cluster: 'staging', image: v2 })).status,
    ).toBe(201);
    await until(
      () => t.pipeline('ledger'),
      // A rolling update's view turns Healthy from the Deployment's status a moment before the
      // engine records its completed event, from which the soak counts.
      p => p.stages[1].canPromote,
      'staging to have completed the release',
    );
    await t.autoPass();
    await t.autoPass();
    expect(t.logger.warn).not.toHaveBeenCalled();
    const starts = (await t.history('ledger')).filter(
      r => r.action === 'start' && r.cluster === 'production',
    );
    expect(starts).toEqual([
      expect.objectContaining({
        outcome: 'succeeded',
        image: v2,
        actor: expect.stringMatching(/^service:/),
        reason: expect.stringMatching(
          /^Automatic promotion by the pipeline: .* Healthy in staging since/,
        ),
      }),
    ]);
    expect(
      t.audits.find(
        a => a.eventId === 'rollout-start' && a.meta.cluster === 'production',
      ),
    ).toMatchObject({
      outcome: 'success',
      meta: { trigger: 'pipeline', image: v2 },
    });
  });

  it('asks another owner to approve a promotion into a protected stage, and holds it in a freeze', async () => {
    const t = await setup({
      rollouts: {
        approvals: {
          rules: [{ clusters: ['production'], actions: ['start'] }],
        },
        freezeWindows: [
          {
            name: 'year-end',
            message: 'No production changes over the holidays',
            clusters: ['production'],
            start: '2030-12-24T00:00:00+01:00',
            end: '2031-01-02T08:00:00+01:00',
          },
        ],
      },
    });
    expect(
      (await t.start('checkout', { cluster: 'staging', image: V2 })).status,
    ).toBe(201);
    await until(
      () => t.pipeline('checkout'),
      p => p.stages[1].waitingFor[0]?.kind === 'soak',
      'staging to complete the release',
    );
    const completed = (await t.history('checkout')).find(
      r => r.action === 'completed',
    )!;
    const soaked = new Date(new Date(completed.createdAt).getTime() + SOAK_MS);
    t.setNow(soaked);
    expect((await t.pipeline('checkout')).stages[1]).toMatchObject({
      canPromote: true,
      approvalRequired: true,
    });

    // During the freeze: the stage says so, and the promotion is refused naming the window and its end.
    t.setNow(new Date('2030-12-30T12:00:00Z'));
    expect((await t.pipeline('checkout')).stages[1]).toMatchObject({
      canPromote: false,
      waitingFor: [
        expect.objectContaining({
          kind: 'freeze',
          until: '2031-01-02T07:00:00.000Z',
        }),
      ],
    });
    const frozen = await t.promote('checkout', {
      stage: 'production',
      image: V2,
      reason: 'ship it',
    });
    expect(frozen.status).toBe(409);
    expect(frozen.body.error.message).toMatch(
      /Freeze window "year-end" .* until 2031-01-02T07:00:00.000Z/,
    );

    // After it: the owner's promotion becomes a request; the requester cannot approve it himself.
    t.setNow(soaked);
    const asked = await t.promote('checkout', {
      stage: 'production',
      image: V2,
      reason: 'soaked for 10 minutes',
    });
    expect(asked.status).toBe(202);
    expect(asked.body.approval).toMatchObject({
      cluster: 'production',
      image: V2,
      requestedBy: OWNER,
      status: 'pending',
    });
    expect((await t.pipeline('checkout')).stages[1]).toMatchObject({
      canPromote: false,
      waitingFor: [expect.objectContaining({ kind: 'approval' })],
    });
    const own = await t.decide(
      asked.body.approval.id,
      'approve',
      { reason: 'me' },
      mockCredentials.user.header(OWNER),
    );
    expect(own.status).toBe(403);
    const approved = await t.decide(
      asked.body.approval.id,
      'approve',
      { reason: 'looked at staging' },
      mockCredentials.user.header(SECOND_OWNER),
    );
    expect(approved.status).toBe(200);
    await until(
      () => t.pipeline('checkout'),
      p => p.stages[1].release?.image === V2,
      'production to start the release',
    );
  });
});
