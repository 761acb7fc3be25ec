import { TestCluster, clusterTargets } from '@internal/kube-real';
import {
  routeWeights,
  unservedRouteBackends,
} from '@rust-delivery-portal/kube-sim';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import { startCountingProxy } from '../harness/countingProxy';
import {
  ClientTally,
  driveToHealthy,
  duplicateRows,
  readHistory,
} from '../harness/driver';
import { Portal, startPortal } from '../harness/portal';
import {
  NS,
  blueGreenWorkload,
  canaryWorkload,
  namespaceObject,
  routedCanaryWorkload,
} from '../harness/workloads';

// The real control plane adds up to a minute of start-up on a busy machine.
jest.setTimeout(240_000);

const OWNER = { type: 'user', ref: 'user:default/alice' } as const;
const FAULTS = {
  errorRate: 0.2,
  latencyMs: 200,
  dropWatchAfterMs: 1500,
  conflictRate: 0.2,
};

const SUITE =
  'rollouts under cluster faults (20% errors, 200 ms latency, dropped watches, forced 409s) on $name';

// A constant title keeps the suite's body at its indentation (the title is a string all the same).
// eslint-disable-next-line jest/valid-title
describe.each(clusterTargets())(SUITE, target => {
  // kube-sim or the real cluster: the name stays so that the tests read as they did.
  let sim: TestCluster;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let portal: Portal;
  const tally = new ClientTally();
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    // Watch drops apply to watches opened after they are set: set them before the backend connects.
    sim = await target.start({
      timeScale: 0.1,
      faults: { dropWatchAfterMs: FAULTS.dropWatchAfterMs },
      // kube-sim serves the Gateway API itself; the real server gets our CRDs and kube-sim's
      // simulated gateway controller run against it.
      crds: ['gateway-api'],
    });
    await sim.control.apply([
      namespaceObject,
      ...canaryWorkload('checkout', 'registry.test/checkout:1.0.0'),
      ...blueGreenWorkload('ledger', 'registry.test/ledger:1.0.0'),
      ...routedCanaryWorkload('orders', 'registry.test/orders:1.0.0'),
    ]);
    await sim.control.waitFor(
      () =>
        sim.control
          .list('v1', 'Pod', NS)
          .filter(p =>
            p.status?.conditions?.some(
              (c: any) => c.type === 'Ready' && c.status === 'True',
            ),
          ).length >= 12,
      20_000,
    );
    proxy = await startCountingProxy(sim.url);
    portal = await startPortal({
      kubeUrl: proxy.url,
      kubeToken: sim.token,
      entities: [
        serviceEntity('checkout', 'user:default/alice', NS),
        serviceEntity('ledger', 'user:default/alice', NS),
        serviceEntity('orders', 'user:default/alice', NS),
        userEntity('alice'),
      ],
    });
    await portal.waitForCatalog([
      'component:default/checkout',
      'component:default/ledger',
    ]);
    proxy.reset();
    sim.control.setFaults(FAULTS);
  });

  afterAll(async () => {
    sim?.control.clearFaults();
    console.log(
      `[reliability] cluster faults: ${JSON.stringify({
        faults: FAULTS,
        kubeRequests: proxy?.counts.requests,
        kubeAnswersByStatus: proxy?.counts.byStatus,
        watchesOpened: proxy?.counts.watchesOpened,
        watchesCut: proxy?.counts.watchesCut,
        clientRequests: tally.requests,
        clientAnswers: tally.byStatus,
        ...figures,
      })}`,
    );
    await portal?.stop();
    await proxy?.close();
    await sim?.close();
  });

  const deploymentOf = (name: string) =>
    sim.control.get('apps/v1', 'Deployment', NS, name);
  const image = (d: any) => d?.spec?.template?.spec?.containers?.[0]?.image;
  const state = (d: any) =>
    JSON.parse(d?.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.state] ?? '{}');

  it('runs a canary to completion: new image, no canary left, every step once', async () => {
    const started = Date.now();
    await driveToHealthy({
      portal,
      entityPath: '/entities/component/default/checkout',
      workload: 'checkout',
      image: 'registry.test/checkout:2.0.0',
      caller: OWNER,
      tally,
      timeoutMs: 120_000,
    });
    figures.canarySeconds = Math.round((Date.now() - started) / 1000);
    sim.control.clearFaults();

    const primary = deploymentOf('checkout');
    expect(image(primary)).toBe('registry.test/checkout:2.0.0');
    expect(primary.spec.replicas).toBe(4);
    expect(state(primary)).toMatchObject({
      phase: 'Healthy',
      stableImage: 'registry.test/checkout:2.0.0',
    });
    expect(state(primary).targetImage).toBeUndefined();
    // Nothing half-applied: no canary Deployment, ReplicaSet or pod of it is left behind.
    expect(deploymentOf('checkout-canary')).toBeUndefined();
    await sim.control.waitFor(
      () =>
        sim.control.list('v1', 'Pod', NS, `${ROLLOUT_LABELS.owner}=checkout`)
          .length === 0,
      20_000,
    );
    expect(
      sim.control.list(
        'apps/v1',
        'ReplicaSet',
        NS,
        `${ROLLOUT_LABELS.owner}=checkout`,
      ),
    ).toEqual([]);
    // Every pod of the workload runs the new image once the Deployment settled.
    await sim.control.waitFor(() => {
      const pods = sim.control.list('v1', 'Pod', NS, 'app=checkout');
      return (
        pods.length === 4 &&
        pods.every(
          p => p.spec.containers[0].image === 'registry.test/checkout:2.0.0',
        )
      );
    }, 30_000);

    const history = await readHistory(
      portal,
      '/entities/component/default/checkout',
      OWNER,
      tally,
    );
    const mine = history.filter(h => h.workload === 'checkout');
    figures.canaryHistoryRows = mine.length;
    expect(duplicateRows(history, 'checkout')).toEqual([]);
    const ok = (action: string) =>
      mine.filter(h => h.action === action && h.outcome === 'succeeded');
    expect(ok('start')).toHaveLength(1);
    expect(ok('completed')).toHaveLength(1);
    // Each step was left exactly once: 0 -> 1 by the engine (25% reached), 1 -> 2 by the one
    // accepted promote (approval pause), 2 -> 3 (50% reached) and 3 -> 4 (1 s pause over).
    expect(ok('promote').map(h => h.stepIndex)).toEqual([1]);
    expect(
      ok('step')
        .map(h => h.stepIndex)
        .sort(),
    ).toEqual([1, 3, 4]);
  });

  it('runs a canary through the Gateway API to completion, its route never sending to a backend without ready pods', async () => {
    // Every split the route went through, and every moment it gave weight to a Service that had
    // no ready pod. kube-sim: sampled from the simulator's store every 5 ms (faults apply to HTTP
    // only). Real server: every change replayed in etcd's order (resourceVersion), so each state
    // the cluster went through is checked, not a sample of watches that each lag on their own.
    sim.control.setFaults(FAULTS);
    const splits: string[] = [];
    const unserved = new Set<string>();
    const look = (seen: Pick<TestCluster['control'], 'get' | 'list'>) => {
      const w = routeWeights(seen, NS, 'orders');
      const split = `${w['orders-stable'] ?? 0}/${w['orders-canary'] ?? 0}`;
      if (splits[splits.length - 1] !== split) splits.push(split);
      for (const u of unservedRouteBackends(seen, NS)) unserved.add(u);
    };
    const recording = sim.mirror?.recordChanges();
    const sample = recording
      ? undefined
      : setInterval(() => look(sim.control), 5);
    try {
      await driveToHealthy({
        portal,
        entityPath: '/entities/component/default/orders',
        workload: 'orders',
        image: 'registry.test/orders:2.0.0',
        caller: OWNER,
        tally,
        timeoutMs: 120_000,
      });
    } finally {
      clearInterval(sample);
    }
    sim.control.clearFaults();
    if (recording) {
      look(sim.control);
      const replay = recording.stop();
      splits.length = 0;
      replay.forEachState(look);
      figures.routedChangesReplayed = replay.length;
    }
    figures.routedSplits = splits;
    expect(image(deploymentOf('orders'))).toBe('registry.test/orders:2.0.0');
    // 25% -> 50% -> all on the canary while the stable takes the new image -> back to the stable.
    expect(splits).toEqual(['100/0', '75/25', '50/50', '0/100', '100/0']);
    expect([...unserved]).toEqual([]);
    // The gateway (kube-sim's simulated controller, on either target) accepted the route throughout.
    const route = sim.control.get(
      'gateway.networking.k8s.io/v1',
      'HTTPRoute',
      NS,
      'orders',
    );
    expect(
      route.status.parents[0].conditions.map((c: any) => [c.type, c.status]),
    ).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ]);
  });

  it('runs a blue-green to completion: new image active, no preview left, every step once', async () => {
    sim.control.setFaults(FAULTS);
    const started = Date.now();
    await driveToHealthy({
      portal,
      entityPath: '/entities/component/default/ledger',
      workload: 'ledger',
      image: 'registry.test/ledger:2.0.0',
      caller: OWNER,
      tally,
      timeoutMs: 120_000,
    });
    figures.blueGreenSeconds = Math.round((Date.now() - started) / 1000);
    sim.control.clearFaults();

    const primary = deploymentOf('ledger');
    expect(image(primary)).toBe('registry.test/ledger:2.0.0');
    expect(state(primary)).toMatchObject({
      phase: 'Healthy',
      stableImage: 'registry.test/ledger:2.0.0',
    });
    expect(deploymentOf('ledger-preview')).toBeUndefined();
    await sim.control.waitFor(
      () =>
        sim.control.list('v1', 'Pod', NS, `${ROLLOUT_LABELS.owner}=ledger`)
          .length === 0,
      20_000,
    );
    // The active Service selects the primary's current pods, and those run the new image.
    const active = sim.control.get('v1', 'Service', NS, 'ledger');
    const hash = active.spec.selector['pod-template-hash'];
    const selected = sim.control
      .list('v1', 'Pod', NS)
      .filter(p => p.metadata.labels?.['pod-template-hash'] === hash);
    expect(selected.length).toBeGreaterThan(0);
    expect(
      selected.every(
        p => p.spec.containers[0].image === 'registry.test/ledger:2.0.0',
      ),
    ).toBe(true);

    const history = await readHistory(
      portal,
      '/entities/component/default/ledger',
      OWNER,
      tally,
    );
    const mine = history.filter(h => h.workload === 'ledger');
    figures.blueGreenHistoryRows = mine.length;
    expect(duplicateRows(history, 'ledger')).toEqual([]);
    const ok = (action: string) =>
      mine.filter(h => h.action === action && h.outcome === 'succeeded');
    expect(ok('start')).toHaveLength(1);
    expect(ok('promote')).toHaveLength(1);
    expect(ok('completed')).toHaveLength(1);
  });
});
