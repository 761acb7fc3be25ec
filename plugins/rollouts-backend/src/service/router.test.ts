import {
  TestDatabaseId,
  TestDatabases,
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  KubeSim,
  routeWeights,
  startKubeSim,
  unservedRouteBackends,
} from '@rust-delivery-portal/kube-sim';
import request from 'supertest';
import rolloutsPlugin from '../index';
import {
  OWNER,
  STRANGER,
  component,
  kubernetesConfig,
  pollUntil,
  readOrActors,
  recordingAuditor,
  recordingMessaging,
  rolloutsRequests,
  testRootLogger,
} from '../testing/routerTestBackend';

jest.setTimeout(120_000);

function deployment(
  name: string,
  image: string,
  annotations: Record<string, string>,
  replicas = 4,
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: name, 'backstage.io/kubernetes-id': name },
      // Bound on the cluster side to the component of the same name.
      annotations: {
        [ROLLOUT_ANNOTATIONS.entity]: `component:default/${name}`,
        ...annotations,
      },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: name, 'backstage.io/kubernetes-id': name } },
        spec: {
          containers: [
            { name: 'app', image, ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

function service(name: string, app: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'shop',
      annotations: { [ROLLOUT_ANNOTATIONS.entity]: `component:default/${app}` },
    },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

const manifests = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  deployment('payments', 'ghcr.io/acme/payments:1.0.0', {
    [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
    [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
      { setWeight: 25 },
      { pause: {} },
      { setWeight: 50 },
      { pause: { duration: '1s' } },
    ]),
    [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '2s',
  }),
  service('payments', 'payments'),
  deployment(
    'checkout',
    'ghcr.io/acme/checkout:1.0.0',
    {
      [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
      [ROLLOUT_ANNOTATIONS.activeService]: 'checkout',
      [ROLLOUT_ANNOTATIONS.previewService]: 'checkout-preview',
      [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '1s',
    },
    2,
  ),
  service('checkout', 'checkout'),
  service('checkout-preview', 'checkout'),
  deployment('ledger', 'ghcr.io/acme/ledger:1.0.0', {}, 3),
  {
    ...deployment('search', 'ghcr.io/acme/search:1.0.0', {}, 2),
    spec: {
      ...deployment('search', 'ghcr.io/acme/search:1.0.0', {}, 2).spec,
      progressDeadlineSeconds: 20,
    },
  },
];

/**
 * A canary through the Gateway API: `orders` behind HTTPRoute `orders` (parent Gateway
 * `gateways/public`), whose rule sends to `orders-stable` and `orders-canary`.
 */
function routedOrders() {
  const d = deployment('orders', 'ghcr.io/acme/orders:1.0.0', {
    [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
    [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: {} },
    ]),
    [ROLLOUT_ANNOTATIONS.httpRoute]: 'orders',
    [ROLLOUT_ANNOTATIONS.stableService]: 'orders-stable',
    [ROLLOUT_ANNOTATIONS.canaryService]: 'orders-canary',
  });
  (d.spec.template.metadata.labels as Record<string, string>)[
    ROLLOUT_LABELS.role
  ] = 'stable';
  const stable = service('orders-stable', 'orders');
  stable.spec.selector = {
    app: 'orders',
    [ROLLOUT_LABELS.role]: 'stable',
  } as any;
  const canary = service('orders-canary', 'orders');
  canary.spec.selector = {
    app: 'orders',
    [ROLLOUT_LABELS.role]: 'canary',
  } as any;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gateways' } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'gateways' },
      spec: {
        gatewayClassName: 'simulated',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
      },
    },
    d,
    stable,
    canary,
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'orders',
        namespace: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: 'component:default/orders',
        },
      },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        rules: [
          { backendRefs: [{ name: 'orders-stable', port: 80, weight: 100 }] },
        ],
      },
    },
  ];
}

/**
 * Samples the cluster every few ms while a rollout runs: every weight split the route went
 * through, and every moment it gave weight to a Service without ready pods.
 */
function watchTraffic(sim: KubeSim) {
  const splits: string[] = [];
  const unserved = new Set<string>();
  const timer = setInterval(() => {
    const w = routeWeights(sim.control, 'shop', 'orders');
    const split = `${w['orders-stable'] ?? 0}/${w['orders-canary'] ?? 0}`;
    if (splits[splits.length - 1] !== split) splits.push(split);
    for (const u of unservedRouteBackends(sim.control, 'shop')) unserved.add(u);
  }, 5);
  return {
    splits,
    unserved,
    stop: () => clearInterval(timer),
  };
}

describe('rollouts backend against kube-sim', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
  let sim: KubeSim;

  beforeEach(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await sim.control.apply(manifests);
    await sim.control.waitFor(
      () =>
        ['payments', 'checkout', 'ledger', 'search'].every(
          n =>
            sim.control.get('apps/v1', 'Deployment', 'shop', n)?.status
              ?.readyReplicas > 0,
        ),
      20_000,
    );
  });

  afterEach(async () => {
    await sim.close();
  });

  async function start(
    options: {
      databaseId?: TestDatabaseId;
      /** The catalog's own HTTP endpoint refuses connections, as node-fetch reports it. */
      catalogRefuses?: boolean;
    } = {},
  ) {
    // The mock scheduler runs tasks only when triggered: tests drive the reconcile pass themselves.
    const scheduler = mockServices.scheduler() as ReturnType<
      typeof mockServices.scheduler
    > & { factory(): ReturnType<typeof mockServices.scheduler.factory> };
    const { events: auditEvents, auditor } = recordingAuditor();
    // Everyone reads; only OWNER acts. Views ask authorizeConditional, actions authorize.
    const permissions = readOrActors([OWNER]);
    const { signals, notifications, factories } = recordingMessaging();
    const features: any[] = [
      rolloutsPlugin,
      testRootLogger(),
      scheduler.factory(),
      auditor.factory,
      permissions.factory,
      options.catalogRefuses
        ? catalogServiceMock.mock({
            getEntityByRef: jest.fn(async () => {
              throw Object.assign(
                new Error(
                  'request to http://127.0.0.1:7007/api/catalog/entities/by-name/component/default/payments failed, reason: connect ECONNREFUSED 127.0.0.1:7007',
                ),
                {
                  name: 'FetchError',
                  type: 'system',
                  errno: 'ECONNREFUSED',
                  code: 'ECONNREFUSED',
                },
              );
            }),
          }).factory
        : catalogServiceMock.factory({
            entities: [
              component('payments'),
              component('checkout'),
              component('ledger'),
              component('search'),
              component('orders'),
              component('unmapped'),
            ].map(e =>
              e.metadata.name === 'unmapped'
                ? { ...e, metadata: { ...e.metadata, annotations: {} } }
                : e,
            ),
          }),
      ...factories,
      mockServices.rootConfig.factory({
        data: {
          kubernetes: kubernetesConfig([{ name: 'sim', url: sim.url }]),
          rollouts: { reconcileInterval: { seconds: 1 } },
        },
      }),
    ];
    if (options.databaseId) {
      const knex = await databases.init(options.databaseId);
      features.push(mockServices.database.factory({ knex }));
    }
    const backend = await startTestBackend({
      features: features.filter(Boolean),
    });
    const app = backend.server;

    const owner = mockCredentials.user.header(OWNER);
    const stranger = mockCredentials.user.header(STRANGER);
    const api = rolloutsRequests(app, { defaultAuth: owner });

    const views = api.views;
    const waitFor = (
      name: string,
      predicate: (v: RolloutView) => boolean,
      what: string,
      timeoutMs = 30_000,
    ) =>
      pollUntil({
        step: () => scheduler.triggerTask('rollouts-reconcile'),
        look: async () => (await views(name))[0],
        predicate,
        what,
        timeoutMs,
      });
    const history = (name: string) => api.historyItems(name, owner);
    return {
      backend,
      app,
      views,
      waitFor,
      action: api.action,
      startRollout: api.startRollout,
      history,
      auditEvents,
      signals,
      notifications,
      stranger,
    };
  }

  const deploymentOf = (name: string) =>
    sim.control.get('apps/v1', 'Deployment', 'shop', name);
  const imageOf = (name: string) =>
    deploymentOf(name)?.spec?.template?.spec?.containers?.[0]?.image;

  it.each(databases.eachSupportedId())(
    'runs a canary through its whole life, with history on %p',
    async databaseId => {
      const t = await start({ databaseId });
      const [initial] = await t.views('payments');
      expect(initial).toMatchObject({
        cluster: 'sim',
        namespace: 'shop',
        workload: 'payments',
        strategy: 'Canary',
        phase: 'Healthy',
        stableImage: 'ghcr.io/acme/payments:1.0.0',
        step: { total: 4 },
      });
      expect(initial.allowedActions).toEqual(
        expect.arrayContaining(['start', 'restart']),
      );

      const started = await t.startRollout('payments', {
        cluster: 'sim',
        image: 'ghcr.io/acme/payments:2.0.0',
        reason: 'release 2.0.0',
      });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({
        phase: 'Progressing',
        revision: 1,
        targetImage: 'ghcr.io/acme/payments:2.0.0',
      });

      const paused = await t.waitFor(
        'payments',
        v => v.phase === 'Paused' && v.step.index === 1,
        'the approval pause',
      );
      expect(paused.weight).toEqual({
        desired: 25,
        actual: 25,
        method: 'replica-ratio',
      });
      // The canary stands for the revision the stable Deployment gets once it is promoted.
      expect(
        paused.revisions.map(r => [r.role, r.revision, r.image, r.ready]),
      ).toEqual([
        ['stable', 1, 'ghcr.io/acme/payments:1.0.0', 3],
        ['canary', 2, 'ghcr.io/acme/payments:2.0.0', 1],
      ]);
      expect(deploymentOf('payments-canary')?.metadata?.labels).toMatchObject({
        'rollouts.backstage.io/role': 'canary',
        'rollouts.backstage.io/owner': 'payments',
      });
      expect(t.notifications.send).toHaveBeenCalledWith(
        expect.objectContaining({
          recipients: {
            type: 'entity',
            entityRef: 'component:default/payments',
          },
        }),
      );

      const promoted = await t.action('payments', 'promote', {
        cluster: 'sim',
        stepIndex: 1,
        revision: 1,
        reason: 'metrics fine',
      });
      expect(promoted.status).toBe(200);
      await t.waitFor(
        'payments',
        v => v.phase === 'Paused' && v.step.index === 3,
        'the timed pause',
      );
      const stale = await t.action('payments', 'promote', {
        cluster: 'sim',
        stepIndex: 1,
        revision: 1,
      });
      expect(stale.status).toBe(409);
      expect(stale.body.error.message).toBe(
        'The rollout moved on since you looked',
      );

      const done = await t.waitFor(
        'payments',
        v => v.phase === 'Healthy' && !v.targetImage,
        'the canary to finish',
      );
      expect(done.stableImage).toBe('ghcr.io/acme/payments:2.0.0');
      expect(imageOf('payments')).toBe('ghcr.io/acme/payments:2.0.0');
      expect(deploymentOf('payments')?.spec?.replicas).toBe(4);
      expect(deploymentOf('payments-canary')).toBeUndefined();

      const rows = await t.history('payments');
      expect(
        rows.map(r => `${r.action}:${r.actor}:${r.outcome}`).reverse(),
      ).toEqual([
        `start:${OWNER}:succeeded`,
        'step:system:succeeded',
        'pause:system:succeeded',
        `promote:${OWNER}:succeeded`,
        'step:system:succeeded',
        'pause:system:succeeded',
        `promote:${OWNER}:failed`,
        'step:system:succeeded',
        'completed:system:succeeded',
      ]);
      const promote = rows.find(
        r => r.action === 'promote' && r.outcome === 'succeeded',
      )!;
      expect(promote).toMatchObject({
        reason: 'metrics fine',
        stepIndex: 1,
        revision: 1,
        cluster: 'sim',
        workload: 'payments',
      });
      expect(t.signals.publish).toHaveBeenCalledWith(
        expect.objectContaining({
          channel: 'rollouts:component:default/payments',
          message: expect.objectContaining({
            type: 'changed',
            workload: 'payments',
            cause: 'completed',
            phase: 'Healthy',
          }),
        }),
      );
      expect(
        t.auditEvents
          .filter(e => e.eventId === 'rollout-action')
          .map(e => e.outcome),
      ).toEqual(['success', 'fail']);
      expect(
        t.auditEvents
          .filter(e => e.eventId === 'rollout-start')
          .map(e => e.outcome),
      ).toEqual(['success']);
      await t.backend.stop();
    },
  );

  it('promotes fully, aborts, retries and aborts a crash-looping canary through the health gate', async () => {
    const t = await start();
    expect(
      (
        await t.startRollout('payments', {
          cluster: 'sim',
          image: 'ghcr.io/acme/payments:2.0.0',
        })
      ).status,
    ).toBe(201);
    await t.waitFor('payments', v => v.phase === 'Paused', 'the first pause');
    expect(
      (
        await t.action('payments', 'abort', {
          cluster: 'sim',
          reason: 'wrong build',
        })
      ).status,
    ).toBe(200);
    const aborted = await t.waitFor(
      'payments',
      v => v.phase === 'Aborted' && v.revisions.length === 1,
      'the abort',
    );
    expect(aborted.allowedActions).toEqual(['retry', 'start']);
    expect(deploymentOf('payments-canary')).toBeUndefined();
    expect(deploymentOf('payments')?.spec?.replicas).toBe(4);
    expect(t.notifications.send).toHaveBeenCalledWith(
      expect.objectContaining({
        payload: expect.objectContaining({ severity: 'high' }),
      }),
    );

    expect(
      (await t.action('payments', 'retry', { cluster: 'sim' })).body,
    ).toMatchObject({ phase: 'Progressing', revision: 2 });
    await t.waitFor(
      'payments',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the retried canary to pause',
    );
    expect(
      (await t.action('payments', 'promote-full', { cluster: 'sim' })).status,
    ).toBe(200);
    await t.waitFor(
      'payments',
      v => v.phase === 'Healthy' && v.stableImage.endsWith(':2.0.0'),
      'the full promotion',
    );

    const began = Date.now();
    await t.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:3.0.0-crashloop',
    });
    const gated = await t.waitFor(
      'payments',
      v => v.phase === 'Aborted',
      'the health gate',
      20_000,
    );
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(gated.message).toMatch(/^Health gate/);
    const rows = await t.history('payments');
    expect(rows[0]).toMatchObject({
      action: 'health-gate-abort',
      actor: 'system',
      revision: 3,
    });
    // Started after a finished rollout (which ended on its last step): recorded at the first step.
    expect(
      rows.find(
        r => r.action === 'start' && r.image?.endsWith(':3.0.0-crashloop'),
      ),
    ).toMatchObject({ outcome: 'succeeded', stepIndex: 0, revision: 3 });
    expect(imageOf('payments')).toBe('ghcr.io/acme/payments:2.0.0');
    await t.waitFor(
      'payments',
      () => !deploymentOf('payments-canary'),
      'the canary to go',
    );
    await t.backend.stop();
  });

  it('reacts to the cluster between scheduled passes: steps advance and the health gate aborts from watch events', async () => {
    const t = await start();
    // The scheduled reconcile task is never triggered here: whatever moves, moves on changes.
    const settle = (predicate: (v: RolloutView) => boolean, what: string) =>
      pollUntil({
        look: async () => (await t.views('payments'))[0],
        predicate,
        what,
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    await t.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:2.0.0',
    });
    await settle(
      v => v.phase === 'Paused' && v.step.index === 1,
      'pause at the second step',
    );
    await t.action('payments', 'abort', { cluster: 'sim' });
    await settle(v => v.phase === 'Aborted', 'abort');

    await t.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:3.0.0-crashloop',
    });
    // The gate's threshold is 2 s: the engine asks for a reconcile when it runs out.
    const gated = await settle(
      v => v.phase === 'Aborted' && /^Health gate/.test(v.message ?? ''),
      'health gate abort',
    );
    expect(gated.stableImage).toBe('ghcr.io/acme/payments:1.0.0');
    await sim.control.waitFor(() => !deploymentOf('payments-canary'), 10_000);
    const rows = await t.history('payments');
    expect(rows[0]).toMatchObject({
      action: 'health-gate-abort',
      actor: 'system',
    });
    await t.backend.stop();
  });

  it("tells the entity's pages when a canary pod turns unready and ready again, with no change of the rollout's state", async () => {
    // A canary of pods with a readiness probe, and a health gate that would wait an hour.
    const orders = deployment(
      'orders',
      'ghcr.io/acme/orders:1.0.0',
      {
        [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
        [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
          { setWeight: 50 },
          { pause: {} },
        ]),
        [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '1h',
      },
      2,
    );
    (orders.spec.template.spec.containers[0] as any).readinessProbe = {
      httpGet: { path: '/ready', port: 8080 },
    };
    await sim.control.apply([orders]);
    await sim.control.waitFor(
      () => deploymentOf('orders')?.status?.readyReplicas === 2,
      10_000,
    );
    const t = await start();
    // The scheduled reconcile task is never triggered here: only watch events move anything.
    const settle = (predicate: (v: RolloutView) => boolean, what: string) =>
      pollUntil({
        look: async () => (await t.views('orders'))[0],
        predicate,
        what,
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    const canaryRow = (v: RolloutView) =>
      v.revisions.find(r => r.role === 'canary');
    await t.startRollout('orders', {
      cluster: 'sim',
      image: 'ghcr.io/acme/orders:2.0.0',
    });
    await settle(
      v => v.phase === 'Paused' && canaryRow(v)?.ready === 1,
      'a paused canary with its pod ready',
    );
    const [canaryPod] = sim.control
      .list('v1', 'Pod', 'shop', 'app=orders')
      .filter(
        p =>
          p.spec.containers[0].image === 'ghcr.io/acme/orders:2.0.0' &&
          !p.metadata.deletionTimestamp,
      );
    expect(canaryPod).toBeDefined();
    const published = () =>
      (t.signals.publish.mock.calls as any[][]).map(([s]) => s);
    const clusterSignals = () =>
      published().filter(
        (s: any) =>
          s.channel === 'rollouts:component:default/orders' &&
          s.message.cause === 'cluster',
      );
    const waitForSignals = async (count: number, what: string) => {
      const deadline = Date.now() + 10_000;
      while (clusterSignals().length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `No signal for ${what}; published: ${JSON.stringify(
              published().map(s => s.message),
            )}`,
          );
        }
        await new Promise(r => setTimeout(r, 20));
      }
    };

    // What a page refetching on each signal would show of the canary's ready pods.
    const seenOnSignal: Array<number | undefined> = [];
    t.signals.publish.mockImplementation((async (s: any) => {
      if (s.message.cause === 'cluster') {
        const [v] = await t.views('orders');
        seenOnSignal.push(canaryRow(v)?.ready);
      }
    }) as any);
    const allRead = async () => {
      const deadline = Date.now() + 10_000;
      while (seenOnSignal.length < clusterSignals().length) {
        if (Date.now() > deadline) throw new Error('views on signals not read');
        await new Promise(r => setTimeout(r, 20));
      }
    };
    t.signals.publish.mockClear();
    sim.control.setReadinessFailing('shop', canaryPod.metadata.name, true);
    await waitForSignals(1, 'the canary pod turning unready');
    const unready = await settle(
      v => canaryRow(v)?.ready === 0,
      'the canary pod unready in the view',
    );
    expect(unready.phase).toBe('Paused');
    expect(clusterSignals()[0]).toEqual({
      recipients: { type: 'broadcast' },
      channel: 'rollouts:component:default/orders',
      message: expect.objectContaining({
        type: 'changed',
        cluster: 'sim',
        namespace: 'shop',
        workload: 'orders',
        phase: 'Paused',
        cause: 'cluster',
      }),
    });
    // A page that refetches on the last signal sees the pod unready.
    await allRead();
    expect(seenOnSignal.at(-1)).toBe(0);

    const before = clusterSignals().length;
    sim.control.setReadinessFailing('shop', canaryPod.metadata.name, false);
    await waitForSignals(before + 1, 'the canary pod ready again');
    const ready = await settle(
      v => canaryRow(v)?.ready === 1,
      'the canary pod ready in the view',
    );
    expect(ready.phase).toBe('Paused');
    await allRead();
    expect(seenOnSignal.at(-1)).toBe(1);
    expect(published().some(s => s.message.cause === 'health-gate-abort')).toBe(
      false,
    );
    await t.backend.stop();
  });

  it('carries on with a canary after the backend restarts', async () => {
    const first = await start();
    await first.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:2.0.0',
    });
    await first.waitFor(
      'payments',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the first pause',
    );
    await first.backend.stop();

    const second = await start();
    const [view] = await second.views('payments');
    expect(view).toMatchObject({
      phase: 'Paused',
      step: { index: 1 },
      revision: 1,
    });
    expect(
      (
        await second.action('payments', 'promote', {
          cluster: 'sim',
          stepIndex: 1,
        })
      ).status,
    ).toBe(200);
    await second.waitFor(
      'payments',
      v => v.phase === 'Healthy' && !v.targetImage,
      'the canary to finish',
      40_000,
    );
    expect(imageOf('payments')).toBe('ghcr.io/acme/payments:2.0.0');
    await second.backend.stop();
  });

  it('never applies one promote twice when two backend replicas race', async () => {
    const a = await start();
    const b = await start();
    await a.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:2.0.0',
    });
    await a.waitFor(
      'payments',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the first pause',
    );
    const [ra, rb] = await Promise.all([
      a.action('payments', 'promote', {
        cluster: 'sim',
        stepIndex: 1,
        revision: 1,
      }),
      b.action('payments', 'promote', {
        cluster: 'sim',
        stepIndex: 1,
        revision: 1,
      }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    // Exactly one promote took effect (each test backend keeps its own history database), and
    // the rollout went on from there: it may already have passed the timed pause after it.
    const rows = [
      ...(await a.history('payments')),
      ...(await b.history('payments')),
    ];
    expect(
      rows
        .filter(r => r.action === 'promote')
        .map(r => r.outcome)
        .sort(),
    ).toEqual(['failed', 'succeeded']);
    const [view] = await b.views('payments');
    expect(view.step.index).toBeGreaterThanOrEqual(2);
    await a.backend.stop();
    await b.backend.stop();
  });

  it('serves views from its cache and finishes a canary through dropped watches, errors and conflicts', async () => {
    const t = await start();
    await t.views('payments');
    sim.control.resetCounts();
    for (let i = 0; i < 20; i++) {
      await t.views('payments');
    }
    expect(sim.control.requestCounts().total).toBe(0);

    expect(
      (
        await t.startRollout('payments', {
          cluster: 'sim',
          image: 'ghcr.io/acme/payments:2.0.0',
        })
      ).status,
    ).toBe(201);
    await t.waitFor('payments', v => v.phase === 'Paused', 'the first pause');
    sim.control.setFaults({
      dropWatchAfterMs: 300,
      conflictRate: 0.3,
      errorRate: 0.05,
    });
    let promoted = 0;
    for (let i = 0; i < 20 && promoted !== 200; i++) {
      promoted = (
        await t.action('payments', 'promote-full', {
          cluster: 'sim',
          stepIndex: 1,
        })
      ).status;
    }
    expect(promoted).toBe(200);
    await t.waitFor(
      'payments',
      v => v.phase === 'Healthy' && !v.targetImage,
      'the canary to finish despite faults',
      60_000,
    );
    sim.control.clearFaults();
    // The cache caught up with the cluster after all the dropped watches.
    await sim.control.waitFor(() => !deploymentOf('payments-canary'), 10_000);
    const [view] = await t
      .waitFor(
        'payments',
        v => v.revisions.length === 1 && v.revisions[0].ready === 4,
        'the cache to settle',
      )
      .then(v => [v]);
    expect(view.stableImage).toBe('ghcr.io/acme/payments:2.0.0');
    await t.backend.stop();
  });

  it('routes a canary through the Gateway API: exact weights at each step, all traffic back to stable before the canary goes, never to a backend without ready pods', async () => {
    await sim.control.apply(routedOrders());
    await sim.control.waitFor(
      () => deploymentOf('orders')?.status?.readyReplicas === 4,
      20_000,
    );
    const t = await start();
    const traffic = watchTraffic(sim);
    const weights = () => routeWeights(sim.control, 'shop', 'orders');
    expect(
      (
        await t.startRollout('orders', {
          cluster: 'sim',
          image: 'ghcr.io/acme/orders:2.0.0',
        })
      ).status,
    ).toBe(201);
    const first = await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the first pause',
    );
    expect(first).toMatchObject({
      weight: { desired: 20, actual: 20, method: 'gateway-api' },
      traffic: {
        route: 'shop/orders',
        weights: { stable: 80, canary: 20 },
        accepted: true,
      },
    });
    expect(weights()).toEqual({ 'orders-stable': 80, 'orders-canary': 20 });
    // The canary carries its share; the stable keeps its full size.
    expect(deploymentOf('orders-canary')?.spec?.replicas).toBe(1);
    expect(deploymentOf('orders')?.spec?.replicas).toBe(4);

    expect(
      (await t.action('orders', 'promote', { cluster: 'sim', stepIndex: 1 }))
        .status,
    ).toBe(200);
    await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 3,
      'the second pause',
    );
    expect(weights()).toEqual({ 'orders-stable': 50, 'orders-canary': 50 });
    expect(deploymentOf('orders-canary')?.spec?.replicas).toBe(2);

    // Abort: the route sends everything to the stable before the canary is scaled away.
    expect(
      (await t.action('orders', 'abort', { cluster: 'sim', reason: 'p99' }))
        .status,
    ).toBe(200);
    await t.waitFor(
      'orders',
      v => v.phase === 'Aborted' && v.revisions.length === 1,
      'the abort',
    );
    expect(weights()).toEqual({ 'orders-stable': 100, 'orders-canary': 0 });
    expect(deploymentOf('orders-canary')).toBeUndefined();

    // Retry and promote fully: 100% on the canary while the stable takes the new image, then back.
    expect((await t.action('orders', 'retry', { cluster: 'sim' })).status).toBe(
      200,
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the retried canary to pause',
    );
    expect(
      (await t.action('orders', 'promote-full', { cluster: 'sim' })).status,
    ).toBe(200);
    const done = await t.waitFor(
      'orders',
      v => v.phase === 'Healthy' && v.stableImage.endsWith(':2.0.0'),
      'the full promotion',
    );
    expect(done.weight).toMatchObject({ actual: 0, method: 'gateway-api' });
    expect(weights()).toEqual({ 'orders-stable': 100, 'orders-canary': 0 });
    expect(deploymentOf('orders-canary')).toBeUndefined();
    traffic.stop();
    expect(traffic.splits).toEqual([
      '100/0',
      '80/20',
      '50/50',
      '100/0',
      '80/20',
      '0/100',
      '100/0',
    ]);
    expect([...traffic.unserved]).toEqual([]);
    await t.backend.stop();
  });

  it('keeps the order of route writes through dropped watches, errors and conflicts', async () => {
    await sim.control.apply(routedOrders());
    await sim.control.waitFor(
      () => deploymentOf('orders')?.status?.readyReplicas === 4,
      20_000,
    );
    const t = await start();
    await t.views('orders');
    const traffic = watchTraffic(sim);
    sim.control.setFaults({
      dropWatchAfterMs: 300,
      conflictRate: 0.3,
      errorRate: 0.05,
    });
    /** Sends until the cluster lets it through: 2xx, or 409 once an earlier try was applied. */
    const insist = async (send: () => Promise<{ status: number }>) => {
      let status = 0;
      for (let i = 0; i < 20 && status !== 200 && status !== 201; i++) {
        status = (await send()).status;
        if (status === 409 && i > 0) return;
      }
      expect([200, 201]).toContain(status);
    };
    await insist(() =>
      t.startRollout('orders', {
        cluster: 'sim',
        image: 'ghcr.io/acme/orders:2.0.0',
      }),
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the first pause despite faults',
      60_000,
    );
    await insist(() =>
      t.action('orders', 'promote', { cluster: 'sim', stepIndex: 1 }),
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 3,
      'the second pause despite faults',
      60_000,
    );
    await insist(() =>
      t.action('orders', 'abort', { cluster: 'sim', stepIndex: 3 }),
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Aborted' && v.revisions.length === 1,
      'the abort despite faults',
      60_000,
    );
    await insist(() =>
      t.action('orders', 'retry', { cluster: 'sim', stepIndex: 3 }),
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Paused' && v.step.index === 1,
      'the retried canary to pause despite faults',
      60_000,
    );
    await insist(() =>
      t.action('orders', 'promote-full', { cluster: 'sim', stepIndex: 1 }),
    );
    await t.waitFor(
      'orders',
      v => v.phase === 'Healthy' && !v.targetImage,
      'the full promotion despite faults',
      60_000,
    );
    sim.control.clearFaults();
    // A delete lost to an injected 409 is done again by a later pass.
    await t.waitFor(
      'orders',
      () => !deploymentOf('orders-canary'),
      'the canary to go',
    );
    traffic.stop();
    expect(traffic.splits).toEqual([
      '100/0',
      '80/20',
      '50/50',
      '100/0',
      '80/20',
      '0/100',
      '100/0',
    ]);
    expect([...traffic.unserved]).toEqual([]);
    await t.backend.stop();
  });

  it('pauses a routed canary while its Gateway rejects the route, and never writes a route of another entity', async () => {
    const objects = routedOrders();
    const route: any = objects[objects.length - 1];
    route.spec.parentRefs = [{ name: 'missing', namespace: 'gateways' }];
    await sim.control.apply(objects);
    await sim.control.waitFor(
      () => deploymentOf('orders')?.status?.readyReplicas === 4,
      20_000,
    );
    const t = await start();
    await t.startRollout('orders', {
      cluster: 'sim',
      image: 'ghcr.io/acme/orders:2.0.0',
    });
    const paused = await t.waitFor(
      'orders',
      v => v.phase === 'Paused',
      'the rejected route to pause the rollout',
    );
    expect(paused.pause?.reason).toMatch(
      /Gateway gateways\/missing does not accept HTTPRoute shop\/orders: Accepted=False \(NoMatchingParent\)/,
    );
    expect(paused.allowedActions).toEqual(['abort']);
    expect(paused.traffic?.accepted).toBe(false);

    // Pointed at the Gateway that exists, the route is accepted and the rollout carries on.
    const fixed = sim.control.get(
      'gateway.networking.k8s.io/v1',
      'HTTPRoute',
      'shop',
      'orders',
    );
    fixed.spec.parentRefs = [{ name: 'public', namespace: 'gateways' }];
    fixed.metadata.annotations[ROLLOUT_ANNOTATIONS.entity] =
      'component:default/checkout';
    await sim.control.apply([fixed]);
    const degraded = await t.waitFor(
      'orders',
      v => v.phase === 'Degraded',
      'a route of another entity to stop the rollout',
    );
    expect(degraded.message).toMatch(
      /HTTPRoute shop\/orders is not bound to component:default\/orders/,
    );
    const before = JSON.stringify(
      sim.control.get(
        'gateway.networking.k8s.io/v1',
        'HTTPRoute',
        'shop',
        'orders',
      ).spec,
    );
    await t.action('orders', 'abort', { cluster: 'sim' });
    await t.waitFor('orders', v => v.phase === 'Aborted', 'the abort');
    expect(
      JSON.stringify(
        sim.control.get(
          'gateway.networking.k8s.io/v1',
          'HTTPRoute',
          'shop',
          'orders',
        ).spec,
      ),
    ).toBe(before);
    await t.backend.stop();
  });

  it('runs a blue-green rollout: preview, promote, instant rollback, promote again, scale-down', async () => {
    const t = await start();
    const selector = (svc: string) =>
      sim.control.get('v1', 'Service', 'shop', svc)?.spec?.selector;
    await t.startRollout('checkout', {
      cluster: 'sim',
      image: 'ghcr.io/acme/checkout:2.0.0',
    });
    const waiting = await t.waitFor(
      'checkout',
      v => v.phase === 'Paused',
      'the preview',
    );
    expect(waiting.pause?.reason).toBe('Preview ready: waiting for promotion');
    expect(waiting.revisions.map(r => [r.role, r.revision])).toEqual([
      ['preview', 2],
      ['active', 1],
    ]);
    expect(waiting.allowedActions).toEqual([
      'promote',
      'promote-full',
      'abort',
    ]);
    const oldHash = selector('checkout')['pod-template-hash'];
    const previewHash = selector('checkout-preview')['pod-template-hash'];
    expect(oldHash).toBeDefined();
    expect(previewHash).not.toBe(oldHash);

    expect(
      (await t.action('checkout', 'promote', { cluster: 'sim', revision: 1 }))
        .status,
    ).toBe(200);
    expect(selector('checkout')['pod-template-hash']).toBe(previewHash);
    const rolledBack = await t.action('checkout', 'rollback', {
      cluster: 'sim',
      reason: 'errors',
    });
    expect(rolledBack.status).toBe(200);
    expect(selector('checkout')['pod-template-hash']).toBe(oldHash);
    await t.waitFor(
      'checkout',
      () => !deploymentOf('checkout-preview'),
      'the preview to go',
    );

    await t.startRollout('checkout', {
      cluster: 'sim',
      image: 'ghcr.io/acme/checkout:2.0.0',
    });
    await t.waitFor('checkout', v => v.phase === 'Paused', 'the preview again');
    await t.action('checkout', 'promote-full', { cluster: 'sim' });
    const done = await t.waitFor(
      'checkout',
      v => v.phase === 'Healthy' && !v.targetImage,
      'the scale-down and hand-over',
    );
    expect(done.stableImage).toBe('ghcr.io/acme/checkout:2.0.0');
    expect(imageOf('checkout')).toBe('ghcr.io/acme/checkout:2.0.0');
    expect(deploymentOf('checkout-preview')).toBeUndefined();
    const pods = sim.control
      .list('v1', 'Pod', 'shop')
      .filter(
        p =>
          p.metadata.labels?.app === 'checkout' &&
          !p.metadata.deletionTimestamp,
      );
    const active = pods.filter(
      p =>
        p.metadata.labels['pod-template-hash'] ===
        selector('checkout')['pod-template-hash'],
    );
    expect(active.length).toBe(2);
    expect(
      active.every(
        p => p.spec.containers[0].image === 'ghcr.io/acme/checkout:2.0.0',
      ),
    ).toBe(true);

    await t.startRollout('checkout', {
      cluster: 'sim',
      image: 'ghcr.io/acme/checkout:3.0.0',
    });
    await t.waitFor('checkout', v => v.phase === 'Paused', 'a third preview');
    await t.action('checkout', 'abort', { cluster: 'sim' });
    await t.waitFor(
      'checkout',
      v => v.phase === 'Aborted' && !deploymentOf('checkout-preview'),
      'the abort',
    );
    await t.backend.stop();
  });

  it('runs a rolling update: set image, pause, resume, undo, restart', async () => {
    const t = await start();
    // Pause first, then set the image: the kubectl way of staging a change (deterministic too).
    const paused = await t.action('ledger', 'pause', {
      cluster: 'sim',
      reason: 'watch errors',
    });
    expect(paused.body).toMatchObject({
      phase: 'Paused',
      pause: { reason: 'watch errors' },
    });
    expect(deploymentOf('ledger').spec.paused).toBe(true);
    const staged = await t.startRollout('ledger', {
      cluster: 'sim',
      image: 'ghcr.io/acme/ledger:2.0.0',
    });
    expect(staged.status).toBe(201);
    expect(staged.body.phase).toBe('Paused');
    await new Promise(r => setTimeout(r, 500));
    const ledgerSets = () =>
      sim.control
        .list('apps/v1', 'ReplicaSet', 'shop')
        .filter(rs => rs.metadata.ownerReferences?.[0]?.name === 'ledger');
    expect(
      ledgerSets().map(rs => rs.spec.template.spec.containers[0].image),
    ).toEqual(['ghcr.io/acme/ledger:1.0.0']);
    await t.action('ledger', 'resume', { cluster: 'sim' });
    const healthy = await t.waitFor(
      'ledger',
      v => v.phase === 'Healthy',
      'the rolling update',
    );
    expect(healthy).toMatchObject({
      strategy: 'RollingUpdate',
      stableImage: 'ghcr.io/acme/ledger:2.0.0',
      revision: 2,
    });

    expect(
      (await t.action('ledger', 'rollback', { cluster: 'sim', revision: 2 }))
        .status,
    ).toBe(200);
    expect(imageOf('ledger')).toBe('ghcr.io/acme/ledger:1.0.0');
    await t.waitFor(
      'ledger',
      v => v.phase === 'Healthy' && v.revision === 3,
      'the undo',
    );
    expect(
      (await t.action('ledger', 'rollback', { cluster: 'sim', toRevision: 99 }))
        .status,
    ).toBe(404);
    expect(
      (await t.action('ledger', 'restart', { cluster: 'sim' })).status,
    ).toBe(200);
    expect(
      deploymentOf('ledger').spec.template.metadata.annotations[
        'kubectl.kubernetes.io/restartedAt'
      ],
    ).toBeDefined();
    await t.backend.stop();
  });

  it('reports a rolling update past its progress deadline as Degraded, tells the owners, and undoes it', async () => {
    const t = await start();
    await t.startRollout('search', {
      cluster: 'sim',
      image: 'ghcr.io/acme/search:2.0.0-crashloop',
    });
    const degraded = await t.waitFor(
      'search',
      v => v.phase === 'Degraded',
      'the progress deadline',
      30_000,
    );
    expect(degraded.allowedActions).toContain('rollback');
    // The view reads Kubernetes' status at once; the engine records the change on its next pass.
    await t.waitFor(
      'search',
      () => t.notifications.send.mock.calls.length > 0,
      'the notification',
    );
    expect(t.notifications.send).toHaveBeenCalledWith(
      expect.objectContaining({
        recipients: { type: 'entity', entityRef: 'component:default/search' },
        payload: expect.objectContaining({
          title: 'Rollout of search in sim is degraded',
          severity: 'high',
        }),
      }),
    );
    expect((await t.history('search'))[0]).toMatchObject({
      action: 'degraded',
      actor: 'system',
    });
    expect(
      (
        await t.action('search', 'rollback', {
          cluster: 'sim',
          reason: 'crash loop',
        })
      ).status,
    ).toBe(200);
    const healthy = await t.waitFor(
      'search',
      v => v.phase === 'Healthy',
      'the undo',
    );
    expect(healthy.stableImage).toBe('ghcr.io/acme/search:1.0.0');
    await t.backend.stop();
  });

  it('answers 400, 403, 404, 409 and 503 with Backstage error bodies', async () => {
    const t = await start();
    const bad = await t.startRollout('payments', {
      cluster: 'sim',
      image: 'not an image!',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.name).toBe('InputError');
    expect(bad.body.error.message).toMatch(/image: must be an image reference/);
    expect(
      (await t.action('payments', 'explode', { cluster: 'sim' })).status,
    ).toBe(400);
    expect(
      (await t.action('payments', 'promote', { cluster: 'sim', extra: 1 }))
        .status,
    ).toBe(400);

    const denied = await t.startRollout(
      'payments',
      {
        cluster: 'sim',
        image: 'ghcr.io/acme/payments:9.0.0',
        reason: 'sneaky',
      },
      t.stranger,
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error.name).toBe('NotAllowedError');
    const [asStranger] = await t.views('payments', t.stranger);
    expect(asStranger.allowedActions).toEqual([]);
    const rows = await t.history('payments');
    expect(rows[0]).toMatchObject({
      action: 'start',
      actor: STRANGER,
      outcome: 'denied',
      reason: 'sneaky',
      workload: 'payments',
    });
    expect(t.auditEvents.at(-1)).toMatchObject({
      eventId: 'rollout-start',
      outcome: 'fail',
    });

    expect(
      (
        await request(t.app).get(
          '/api/rollouts/entities/component/default/nobody/rollouts',
        )
      ).status,
    ).toBe(404);
    expect(
      (await t.startRollout('nobody', { cluster: 'sim', image: 'a/b:1' }))
        .status,
    ).toBe(404);
    expect(
      (
        await t.startRollout('payments', {
          cluster: 'elsewhere',
          image: 'a/b:1',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await t.startRollout('payments', {
          cluster: 'sim',
          workload: 'nope',
          image: 'a/b:1',
        })
      ).status,
    ).toBe(404);
    expect(
      (await t.startRollout('unmapped', { cluster: 'sim', image: 'a/b:1' }))
        .status,
    ).toBe(404);
    expect(await t.views('unmapped')).toEqual([]);

    const wrongPhase = await t.action('payments', 'promote', {
      cluster: 'sim',
    });
    expect(wrongPhase.status).toBe(409);
    expect(wrongPhase.body.error.name).toBe('ConflictError');

    for (const query of [
      'limit[]=1',
      'limit=1&limit=2',
      'limit=0',
      'limit=x',
    ]) {
      const res = await request(t.app)
        .get(
          `/api/rollouts/entities/component/default/payments/history?${query}`,
        )
        .set('Authorization', mockCredentials.user.header(OWNER));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^Invalid query: limit/);
    }

    // A cluster that fails is a 503 (try again), and nothing is applied.
    sim.control.setFaults({ errorRate: 1 });
    const down = await t.startRollout('ledger', {
      cluster: 'sim',
      image: 'ghcr.io/acme/ledger:2.0.0',
    });
    sim.control.clearFaults();
    expect(down.status).toBe(503);
    expect(down.body.error).toMatchObject({
      name: 'ServiceUnavailableError',
      message: expect.stringMatching(
        /^The cluster did not answer for Deployment shop\/ledger/,
      ),
    });
    expect(imageOf('ledger')).toBe('ghcr.io/acme/ledger:1.0.0');
    await t.backend.stop();
  });

  it('answers 503 "retry", never 500, when its own catalog refuses the connection', async () => {
    const t = await start({ catalogRefuses: true });
    const refused = await t.startRollout('payments', {
      cluster: 'sim',
      image: 'ghcr.io/acme/payments:2.0.0',
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({
      name: 'ServiceUnavailableError',
      message: expect.stringMatching(
        /^The catalog could not be reached \(ECONNREFUSED\); nothing was done, retry/,
      ),
    });
    const view = await request(t.backend.server)
      .get('/api/rollouts/entities/component/default/payments/rollouts')
      .set('Authorization', mockCredentials.user.header(OWNER));
    expect(view.status).toBe(503);
    expect(view.body.error.name).toBe('ServiceUnavailableError');
    expect(imageOf('payments')).toBe('ghcr.io/acme/payments:1.0.0');
    await t.backend.stop();
  });
});
