import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { FakeCluster, deployment } from '../testing/FakeCluster';
import { readState } from '../strategies/state';
import { RolloutEngine } from './RolloutEngine';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'payments',
      'backstage.io/kubernetes-namespace': 'shop',
    },
  },
  spec: {
    owner: 'group:default/team-a',
    type: 'service',
    lifecycle: 'production',
  },
};

function setup(
  annotations: Record<string, string>,
  image = 'acme/payments:1.0.0',
  entityRef?: string | null,
  customize: (d: V1Deployment) => void = () => {},
) {
  const cluster = new FakeCluster();
  const primary = deployment({
    name: 'payments',
    image,
    annotations,
    entityRef,
  });
  customize(primary);
  cluster.addDeployment(primary);
  const engine = new RolloutEngine(
    [
      {
        cluster: { name: 'local' },
        cache: cluster.cache,
        client: cluster.client,
      },
    ],
    mockServices.logger.mock(),
    { unreadyThresholdMs: 60_000 },
  );
  const listener = { onSystemEvent: jest.fn(), onStateChange: jest.fn() };
  engine.setListener(listener);
  type ActOptions = Parameters<RolloutEngine['act']>[0];
  /** Locates and acts as the authorization layer does, with every possible action allowed. */
  const act = async (
    action: ActOptions['action'],
    extra: Partial<Omit<ActOptions, 'located'>> & {
      cluster?: string;
      workload?: string;
    } = {},
  ) => {
    const { cluster: clusterName = 'local', workload, ...rest } = extra;
    const located = await engine.locate(entity, clusterName, workload);
    const result = await engine.act({
      entity,
      located,
      action,
      input: {},
      expected: {},
      actor: 'user:default/ada',
      ...rest,
    });
    return {
      ...result,
      view: { ...result.view, allowedActions: result.possible },
    };
  };
  /** One round of "the cluster catches up, the engine reacts". */
  const tick = async () => {
    cluster.settle();
    await engine.reconcileAll();
  };
  const view = async () => {
    const [first] = await engine.views(entity);
    return { ...first.view, allowedActions: first.possible };
  };
  const systemEvents = () =>
    listener.onSystemEvent.mock.calls.map(([e]) => e.action);
  return { cluster, engine, listener, act, tick, view, systemEvents };
}

const canaryAnnotations = {
  [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
  [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
    { setWeight: 25 },
    { pause: {} },
    { setWeight: 50 },
    { pause: { duration: '300ms' } },
  ]),
  [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '0.2',
};

describe('RolloutEngine with the canary strategy', () => {
  it('walks every step, pauses for approval, and finishes on the new image', async () => {
    const { cluster, act, tick, view, systemEvents, listener } =
      setup(canaryAnnotations);
    const started = await act('start', { image: 'acme/payments:2.0.0' });
    expect(started.view).toMatchObject({
      phase: 'Progressing',
      strategy: 'Canary',
      revision: 1,
      targetImage: 'acme/payments:2.0.0',
    });
    expect(cluster.get('payments-canary')?.spec?.replicas).toBe(1);
    expect(cluster.get('payments')?.spec?.replicas).toBe(3);

    await tick();
    let v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      step: { index: 1, total: 4 },
      weight: { desired: 25, actual: 25, method: 'replica-ratio' },
    });
    expect(v.pause?.reason).toMatch(/Waiting for promotion/);
    expect(v.allowedActions).toEqual(['promote', 'promote-full', 'abort']);
    expect(
      listener.onStateChange.mock.calls.some(([e]) => e.notify === 'paused'),
    ).toBe(true);

    await act('promote', { expected: { stepIndex: 1, revision: 1 } });
    expect(cluster.get('payments-canary')?.spec?.replicas).toBe(2);
    await tick();
    v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      step: { index: 3 },
      weight: { desired: 50, actual: 50 },
    });

    // A second user promoting from the view they loaded earlier is refused.
    await expect(
      act('promote', { expected: { stepIndex: 1 } }),
    ).rejects.toThrow('The rollout moved on since you looked');

    await new Promise(r => setTimeout(r, 350));
    await tick(); // timed pause over -> finishing: the stable takes the new image
    expect(
      cluster.get('payments')?.spec?.template?.spec?.containers[0].image,
    ).toBe('acme/payments:2.0.0');
    await tick();
    v = await view();
    expect(v).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
      targetImage: undefined,
    });
    expect(cluster.get('payments')?.spec?.replicas).toBe(4);
    expect(cluster.get('payments-canary')).toBeUndefined();
    expect(systemEvents()).toEqual([
      'step',
      'pause',
      'step',
      'pause',
      'step',
      'completed',
    ]);
  });

  it('promote-full jumps to the end', async () => {
    const { cluster, act, tick, view } = setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await act('promote-full');
    await tick();
    await tick();
    expect(await view()).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
    });
    expect(cluster.get('payments-canary')).toBeUndefined();
  });

  it('aborts back to the stable version and retries from step 0', async () => {
    const { cluster, act, tick, view } = setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    const aborted = await act('abort', { input: { reason: 'latency up' } });
    expect(aborted.view).toMatchObject({
      phase: 'Aborted',
      message: 'Aborted: latency up',
    });
    expect(cluster.get('payments-canary')).toBeUndefined();
    expect(cluster.get('payments')?.spec?.replicas).toBe(4);
    expect(
      cluster.get('payments')?.spec?.template?.spec?.containers[0].image,
    ).toBe('acme/payments:1.0.0');
    expect(aborted.view.allowedActions).toEqual(['retry', 'start']);
    await expect(act('promote')).rejects.toThrow(
      /Cannot promote payments: the rollout is Aborted/,
    );

    const retried = await act('retry');
    expect(retried.view).toMatchObject({
      phase: 'Progressing',
      revision: 2,
      step: { index: 0 },
      targetImage: 'acme/payments:2.0.0',
    });
    await tick();
    expect((await view()).phase).toBe('Paused');
  });

  it('aborts a crash-looping canary through the health gate', async () => {
    const { cluster, act, tick, view, systemEvents, listener } =
      setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0-crashloop' });
    await tick();
    expect((await view()).phase).toBe('Progressing');
    await new Promise(r => setTimeout(r, 250));
    await tick();
    const v = await view();
    expect(v.phase).toBe('Aborted');
    expect(v.message).toMatch(/Health gate: 1 canary pod\(s\) crash-looping/);
    expect(systemEvents()).toContain('health-gate-abort');
    expect(
      listener.onStateChange.mock.calls.some(([e]) => e.notify === 'aborted'),
    ).toBe(true);
    expect(cluster.get('payments-canary')).toBeUndefined();
    expect(cluster.get('payments')?.spec?.replicas).toBe(4);
  });

  it('refuses actions the phase does not allow', async () => {
    const { act } = setup(canaryAnnotations);
    await expect(act('promote')).rejects.toMatchObject({
      name: 'ConflictError',
    });
    await expect(
      act('start', { image: 'acme/payments:1.0.0' }),
    ).rejects.toThrow(/already runs/);
    await expect(
      act('start', { image: 'acme/payments:2.0.0', cluster: 'nope' }),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(
      act('start', { image: 'acme/payments:2.0.0', workload: 'nope' }),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('rolls back a finished canary to the previous revision', async () => {
    const { cluster, act, tick, view } = setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await act('promote-full');
    await tick();
    await tick();
    expect((await view()).allowedActions).toContain('rollback');
    await act('rollback', { input: { reason: 'bad release' } });
    cluster.settle();
    const v = await view();
    expect(v.stableImage).toBe('acme/payments:1.0.0');
    expect(v.revisions[0]).toMatchObject({
      role: 'stable',
      image: 'acme/payments:1.0.0',
      revision: 3,
    });
  });

  it('keeps its state in the Deployment, so a new engine carries on', async () => {
    const { cluster, act, tick } = setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    const state = readState(cluster.get('payments')!);
    expect(state).toMatchObject({
      phase: 'Paused',
      stepIndex: 1,
      entityRef: 'component:default/payments',
    });

    const second = new RolloutEngine(
      [
        {
          cluster: { name: 'local' },
          cache: cluster.cache,
          client: cluster.client,
        },
      ],
      mockServices.logger.mock(),
      { unreadyThresholdMs: 60_000 },
    );
    await second.act({
      entity,
      located: await second.locate(entity, 'local'),
      action: 'promote',
      input: {},
      expected: { stepIndex: 1 },
      actor: 'user:default/ada',
    });
    cluster.settle();
    await second.reconcileAll();
    expect(readState(cluster.get('payments')!)).toMatchObject({
      phase: 'Paused',
      stepIndex: 3,
    });
  });
});

const blueGreenAnnotations = {
  [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
  [ROLLOUT_ANNOTATIONS.activeService]: 'payments',
  [ROLLOUT_ANNOTATIONS.previewService]: 'payments-preview',
  [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '300ms',
};

function withServices(cluster: FakeCluster) {
  for (const name of ['payments', 'payments-preview']) {
    cluster.addService({
      metadata: {
        name,
        namespace: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: 'component:default/payments',
        },
      },
      spec: { selector: { app: 'payments' } },
    });
  }
}

describe('RolloutEngine with the blue-green strategy', () => {
  it('brings up a preview, promotes by switching the active Service, rolls back instantly, then finishes', async () => {
    const { cluster, act, tick, view, systemEvents } =
      setup(blueGreenAnnotations);
    withServices(cluster);
    const selector = (svc: string) =>
      cluster.services.get('shop', svc)?.spec?.selector?.['pod-template-hash'];

    await act('start', { image: 'acme/payments:2.0.0' });
    expect(selector('payments')).toBe('hpayments1');
    expect(
      cluster.get('payments-preview')?.spec?.template?.spec?.containers[0]
        .image,
    ).toBe('acme/payments:2.0.0');
    await tick();
    let v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      weight: { desired: 0, actual: 0, method: 'service-switch' },
    });
    expect(v.pause?.reason).toBe('Preview ready: waiting for promotion');
    expect(selector('payments-preview')).toBe('hpayments-preview1');
    expect(v.revisions.map(r => r.role).sort()).toEqual(['active', 'preview']);

    await act('promote');
    expect(selector('payments')).toBe('hpayments-preview1');
    v = await view();
    expect(v).toMatchObject({
      phase: 'Healthy',
      weight: { desired: 100, actual: 100 },
    });
    expect(v.allowedActions).toEqual(['rollback']);

    await act('rollback');
    expect(selector('payments')).toBe('hpayments1');
    expect(cluster.get('payments-preview')).toBeUndefined();
    expect(await view()).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:1.0.0',
    });

    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await act('promote');
    await new Promise(r => setTimeout(r, 350));
    await tick(); // delay over: the primary takes the new image
    expect(
      cluster.get('payments')?.spec?.template?.spec?.containers[0].image,
    ).toBe('acme/payments:2.0.0');
    await tick();
    v = await view();
    expect(v).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
      targetImage: undefined,
    });
    expect(selector('payments')).toBe('hpayments2');
    expect(selector('payments-preview')).toBe('hpayments2');
    expect(cluster.get('payments-preview')).toBeUndefined();
    expect(systemEvents()).toEqual([
      'pause',
      'pause',
      'scale-down',
      'completed',
    ]);
  });

  it('aborts by removing the preview version', async () => {
    const { cluster, act, tick, view } = setup(blueGreenAnnotations);
    withServices(cluster);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await act('abort');
    expect(cluster.get('payments-preview')).toBeUndefined();
    expect((await view()).phase).toBe('Aborted');
    expect(
      cluster.services.get('shop', 'payments')?.spec?.selector?.[
        'pod-template-hash'
      ],
    ).toBe('hpayments1');
  });

  it('promotes on its own when auto-promotion is declared', async () => {
    const { cluster, act, tick, view } = setup({
      ...blueGreenAnnotations,
      [ROLLOUT_ANNOTATIONS.autoPromotion]: 'true',
    });
    withServices(cluster);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    expect(await view()).toMatchObject({
      phase: 'Healthy',
      weight: { actual: 100 },
    });
  });
});

describe('RolloutEngine with the rolling update strategy', () => {
  it('sets the image, pauses, resumes, undoes and restarts like kubectl', async () => {
    const { cluster, act, tick, view, systemEvents } = setup({});
    const image = () =>
      cluster.get('payments')?.spec?.template?.spec?.containers[0].image;
    const started = await act('start', { image: 'acme/payments:2.0.0' });
    expect(started.view).toMatchObject({
      strategy: 'RollingUpdate',
      phase: 'Progressing',
      targetImage: 'acme/payments:2.0.0',
    });
    await act('pause', { input: { reason: 'check dashboards' } });
    expect(cluster.get('payments')?.spec?.paused).toBe(true);
    expect(await view()).toMatchObject({
      phase: 'Paused',
      pause: { reason: 'check dashboards' },
    });
    await act('resume');
    expect(cluster.get('payments')?.spec?.paused).toBe(false);
    await tick();
    expect(await view()).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
      revision: 2,
    });
    expect(systemEvents()).toContain('completed');

    await act('rollback', { expected: { revision: 2 } });
    expect(image()).toBe('acme/payments:1.0.0');
    await tick();
    expect(await view()).toMatchObject({ phase: 'Healthy', revision: 3 });
    await act('rollback', { input: { toRevision: 2 } });
    expect(image()).toBe('acme/payments:2.0.0');
    await expect(
      act('rollback', { input: { toRevision: 42 } }),
    ).rejects.toMatchObject({ name: 'NotFoundError' });

    await tick();
    await act('restart');
    expect(
      cluster.get('payments')?.spec?.template?.metadata?.annotations?.[
        'kubectl.kubernetes.io/restartedAt'
      ],
    ).toBeDefined();
  });

  it('reports Degraded when the progress deadline is exceeded', async () => {
    const { cluster, engine, view, systemEvents } = setup({});
    const d = cluster.get('payments')!;
    d.status = {
      ...d.status,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
        },
      ],
    };
    expect((await view()).phase).toBe('Degraded');
    // Engine transitions are recorded only for rollouts it manages (state annotation present).
    await engine.reconcileAll();
    expect(systemEvents()).toEqual([]);
  });
});

describe('RolloutEngine and the cluster-side binding', () => {
  it('shows a workload bound to another entity with the reason and nothing possible, and refuses to act on it', async () => {
    const { cluster, act, view } = setup(
      canaryAnnotations,
      undefined,
      'component:default/search-indexer',
    );
    const v = await view();
    expect(v.binding).toEqual({
      status: 'elsewhere',
      entityRefs: ['component:default/search-indexer'],
      message: expect.stringMatching(
        /belongs to component:default\/search-indexer, not to component:default\/payments/,
      ),
    });
    expect(v.allowedActions).toEqual([]);
    const before = JSON.stringify(cluster.get('payments'));
    await expect(
      act('start', { image: 'evil.example/pwn:2' }),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(JSON.stringify(cluster.get('payments'))).toBe(before);
    expect(cluster.get('payments-canary')).toBeUndefined();
  });

  it('keeps an unbound workload read-only', async () => {
    const { act, view } = setup(canaryAnnotations, undefined, null);
    const v = await view();
    expect(v.binding.status).toBe('unbound');
    expect(v.binding.message).toMatch(/rollouts\.backstage\.io\/entity/);
    await expect(
      act('start', { image: 'acme/payments:2.0.0' }),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
  });

  it('binds through the namespace for teams that own whole namespaces', async () => {
    const { cluster, act, view } = setup(canaryAnnotations, undefined, null);
    cluster.namespaces.put({
      metadata: {
        name: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: 'Component:default/Payments',
        },
      },
    });
    expect((await view()).binding.status).toBe('bound');
    await act('start', { image: 'acme/payments:2.0.0' });
    expect(cluster.get('payments-canary')).toBeDefined();
  });

  it('needs the namespace annotation to act', async () => {
    const { engine } = setup(canaryAnnotations);
    const withoutNamespace = {
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: { 'backstage.io/kubernetes-id': 'payments' },
      },
    };
    await expect(
      engine.locate(withoutNamespace, 'local'),
    ).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/backstage\.io\/kubernetes-namespace/),
    });
  });
});

describe('RolloutEngine and objects that are not its own', () => {
  const squatter = () =>
    deployment({
      name: 'payments-canary',
      image: 'someone/else:1',
      entityRef: 'component:default/other',
    });

  it('refuses to start a canary whose name another Deployment holds, and leaves that one alone', async () => {
    const { cluster, act } = setup(canaryAnnotations);
    cluster.addDeployment(squatter());
    const before = JSON.stringify(cluster.get('payments-canary'));
    await expect(
      act('start', { image: 'acme/payments:2.0.0' }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(
        /shop\/payments-canary already exists and is not the canary the rollouts engine made for payments/,
      ),
    });
    expect(JSON.stringify(cluster.get('payments-canary'))).toBe(before);
  });

  it('degrades a running canary when its companion is replaced by a squatter, and never overwrites or deletes it', async () => {
    const { cluster, act, tick, view } = setup(canaryAnnotations);
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    cluster.deployments.put({
      ...squatter(),
      metadata: { ...squatter().metadata, uid: 'uid-squatter' },
    });
    cluster.settle();
    const before = JSON.stringify(cluster.get('payments-canary'));
    await act('promote');
    await tick();
    const v = await view();
    expect(v.phase).toBe('Degraded');
    expect(v.message).toMatch(/not the canary the rollouts engine made/);
    await act('abort');
    await tick();
    expect(JSON.stringify(cluster.get('payments-canary'))).toBe(before);
  });

  it('does not switch an active Service bound to another entity', async () => {
    const { cluster, act, tick, view } = setup(blueGreenAnnotations);
    withServices(cluster);
    cluster.services.put({
      metadata: {
        name: 'payments',
        namespace: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: 'component:default/other',
        },
      },
      spec: { selector: { app: 'payments' } },
    });
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    expect(cluster.services.get('shop', 'payments')?.spec?.selector).toEqual({
      app: 'payments',
    });
    const v = await view();
    expect(v.phase).toBe('Degraded');
    expect(v.message).toMatch(
      /Service shop\/payments is not bound to component:default\/payments/,
    );
  });
});

describe('RolloutEngine with a canary through the Gateway API', () => {
  const bound = { [ROLLOUT_ANNOTATIONS.entity]: 'component:default/payments' };
  const routedAnnotations = {
    [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
    [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: {} },
    ]),
    [ROLLOUT_ANNOTATIONS.httpRoute]: 'payments',
    [ROLLOUT_ANNOTATIONS.stableService]: 'payments-stable',
    [ROLLOUT_ANNOTATIONS.canaryService]: 'payments-canary',
  };

  function setupRouted(
    options: {
      routeEntity?: string;
      stableSelector?: Record<string, string>;
    } = {},
  ) {
    const t = setup(routedAnnotations, undefined, undefined, d => {
      d.spec!.replicas = 5;
      d.spec!.template!.metadata!.labels![ROLLOUT_LABELS.role] = 'stable';
    });
    t.cluster.addService({
      metadata: {
        name: 'payments-stable',
        namespace: 'shop',
        annotations: bound,
      },
      spec: {
        selector: options.stableSelector ?? {
          app: 'payments',
          [ROLLOUT_LABELS.role]: 'stable',
        },
      },
    });
    t.cluster.addService({
      metadata: {
        name: 'payments-canary',
        namespace: 'shop',
        annotations: bound,
      },
      spec: { selector: { app: 'payments' } },
    });
    t.cluster.addHttpRoute({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'payments',
        namespace: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]:
            options.routeEntity ?? 'component:default/payments',
        },
      },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        rules: [
          { backendRefs: [{ name: 'payments-stable', port: 80, weight: 100 }] },
        ],
      },
    });
    t.cluster.settle();
    return t;
  }

  it('sets the route weights exactly at each step, scaling the canary up before its weight goes up', async () => {
    const { cluster, act, tick, view } = setupRouted();
    await act('start', { image: 'acme/payments:2.0.0' });
    // Scaled first; no weight before its pods are ready.
    expect(cluster.get('payments-canary')?.spec?.replicas).toBe(1);
    expect(cluster.get('payments')?.spec?.replicas).toBe(5);
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 100,
    });
    expect(
      cluster.services.get('shop', 'payments-canary')?.spec?.selector,
    ).toEqual({
      app: 'payments',
      [ROLLOUT_LABELS.role]: 'canary',
      [ROLLOUT_LABELS.owner]: 'payments',
    });

    await tick();
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 80,
      'payments-canary': 20,
    });
    await tick();
    let v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      step: { index: 1, total: 4 },
      weight: { desired: 20, actual: 20, method: 'gateway-api' },
      traffic: {
        router: 'gateway-api',
        route: 'shop/payments',
        weights: { stable: 80, canary: 20 },
        accepted: true,
      },
    });

    await act('promote');
    expect(cluster.get('payments-canary')?.spec?.replicas).toBe(3);
    expect(cluster.routeWeights('payments')['payments-canary']).toBe(20);
    await tick();
    await tick();
    v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      step: { index: 3 },
      weight: { desired: 50, actual: 50 },
    });
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 50,
      'payments-canary': 50,
    });
    expect(cluster.unservedTraffic).toEqual([]);
  });

  it('aborts by returning all traffic to the stable before the canary goes away', async () => {
    const { cluster, act, tick, view } = setupRouted();
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await tick();
    await act('promote');
    await tick();
    await tick();
    expect(cluster.routeWeights('payments')['payments-canary']).toBe(50);

    await act('abort', { input: { reason: 'latency' } });
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 100,
      'payments-canary': 0,
    });
    expect(cluster.get('payments-canary')).toBeDefined();
    await tick();
    expect(cluster.get('payments-canary')).toBeUndefined();
    const weightDown = cluster.writes.lastIndexOf('weight payments 0');
    expect(weightDown).toBeGreaterThan(-1);
    expect(weightDown).toBeLessThan(
      cluster.writes.indexOf('delete payments-canary'),
    );
    expect((await view()).phase).toBe('Aborted');
    expect(cluster.unservedTraffic).toEqual([]);
  });

  it('promote-full shifts all traffic to the canary before the stable takes the new image, and back once it is ready', async () => {
    const { cluster, act, tick, view } = setupRouted();
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await tick();
    await act('promote-full');
    const image = () =>
      cluster.get('payments')?.spec?.template?.spec?.containers[0].image;
    expect(cluster.get('payments-canary')?.spec?.replicas).toBe(5);
    expect(cluster.routeWeights('payments')['payments-canary']).toBe(20);
    await tick();
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 0,
      'payments-canary': 100,
    });
    expect(image()).toBe('acme/payments:1.0.0');
    await tick();
    expect(image()).toBe('acme/payments:2.0.0');
    expect(cluster.routeWeights('payments')['payments-canary']).toBe(100);
    await tick();
    expect(cluster.routeWeights('payments')).toEqual({
      'payments-stable': 100,
      'payments-canary': 0,
    });
    expect(cluster.get('payments-canary')).toBeDefined();
    await tick();
    expect(cluster.get('payments-canary')).toBeUndefined();
    expect(await view()).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
      weight: { actual: 0, method: 'gateway-api' },
    });
    expect(cluster.unservedTraffic).toEqual([]);
  });

  it('pauses while the Gateway rejects the route, with its reason, and resumes once it accepts it', async () => {
    const { cluster, act, tick, view } = setupRouted();
    await act('start', { image: 'acme/payments:2.0.0' });
    cluster.gatewayVerdict = {
      accepted: false,
      reason: 'NotAllowedByListeners',
    };
    await tick();
    await tick();
    let v = await view();
    expect(v.phase).toBe('Paused');
    expect(v.pause?.reason).toMatch(
      /Gateway gateways\/public does not accept HTTPRoute shop\/payments: Accepted=False \(NotAllowedByListeners\)/,
    );
    expect(v.traffic?.accepted).toBe(false);
    expect(v.allowedActions).toEqual(['abort']);
    cluster.gatewayVerdict = { accepted: true };
    await tick();
    await tick();
    v = await view();
    expect(v).toMatchObject({ phase: 'Paused', step: { index: 1 } });
    expect(v.pause?.reason).toMatch(/Waiting for promotion/);
  });

  it('never writes a route bound to another entity: start is refused, a running rollout degrades', async () => {
    const foreign = setupRouted({ routeEntity: 'component:default/other' });
    await expect(
      foreign.act('start', { image: 'acme/payments:2.0.0' }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(
        /HTTPRoute shop\/payments is not bound to component:default\/payments/,
      ),
    });

    const { cluster, act, tick, view } = setupRouted();
    await act('start', { image: 'acme/payments:2.0.0' });
    const route = cluster.httpRoutes.get('shop', 'payments')!;
    route.metadata!.annotations![ROLLOUT_ANNOTATIONS.entity] =
      'component:default/other';
    const before = JSON.stringify(route.spec);
    await tick();
    const v = await view();
    expect(v.phase).toBe('Degraded');
    expect(v.message).toMatch(
      /HTTPRoute shop\/payments is not bound to component:default\/payments/,
    );
    expect(
      JSON.stringify(cluster.httpRoutes.get('shop', 'payments')?.spec),
    ).toBe(before);
    expect(cluster.writes.filter(w => w.startsWith('weight'))).toEqual([]);
  });

  it('refuses to start when the stable Service would select the canary pods too', async () => {
    const { act } = setupRouted({ stableSelector: { app: 'payments' } });
    await expect(
      act('start', { image: 'acme/payments:2.0.0' }),
    ).rejects.toThrow(
      /Service shop\/payments-stable selects the canary's pods too/,
    );
  });
});

describe('RolloutEngine with a blue-green rollout through the Gateway API', () => {
  it('promotes by moving the route to the preview Service, rolls back on the route, and ends on the active one', async () => {
    const { cluster, act, tick, view } = setup({
      ...blueGreenAnnotations,
      [ROLLOUT_ANNOTATIONS.httpRoute]: 'payments',
    });
    withServices(cluster);
    cluster.addHttpRoute({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'payments',
        namespace: 'shop',
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: 'component:default/payments',
        },
      },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        rules: [{ backendRefs: [{ name: 'payments', port: 80, weight: 100 }] }],
      },
    });
    cluster.settle();
    const selector = (svc: string) =>
      cluster.services.get('shop', svc)?.spec?.selector?.['pod-template-hash'];

    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    let v = await view();
    expect(v).toMatchObject({
      phase: 'Paused',
      weight: { desired: 0, actual: 0, method: 'gateway-api' },
    });
    await act('promote');
    expect(cluster.routeWeights('payments')).toEqual({
      payments: 0,
      'payments-preview': 100,
    });
    // The active Service keeps the old pods, for an instant rollback.
    expect(selector('payments')).toBe('hpayments1');
    expect(selector('payments-preview')).toBe('hpayments-preview1');
    await act('rollback');
    expect(cluster.routeWeights('payments')).toEqual({
      payments: 100,
      'payments-preview': 0,
    });
    await tick();
    expect(cluster.get('payments-preview')).toBeUndefined();

    // Rolled back within the delay: the workload is Healthy on the old version; start again.
    await act('start', { image: 'acme/payments:2.0.0' });
    await tick();
    await act('promote');
    await tick();
    v = await view();
    expect(v.weight).toMatchObject({ desired: 100, actual: 100 });
    await new Promise(r => setTimeout(r, 350));
    for (let i = 0; i < 4; i++) await tick();
    v = await view();
    expect(v).toMatchObject({
      phase: 'Healthy',
      stableImage: 'acme/payments:2.0.0',
    });
    expect(cluster.routeWeights('payments')).toEqual({
      payments: 100,
      'payments-preview': 0,
    });
    expect(selector('payments')).toBe('hpayments2');
    expect(cluster.get('payments-preview')).toBeUndefined();
    expect(cluster.unservedTraffic).toEqual([]);
  });
});
