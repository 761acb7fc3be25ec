import { TestDatabases } from '@backstage/backend-test-utils';
import { TestCluster, clusterTargets } from '@internal/kube-real';
import {
  ROLLOUT_ANNOTATIONS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { Knex } from 'knex';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import {
  ClientTally,
  driveToHealthy,
  duplicateRows,
  readHistory,
  readView,
} from '../harness/driver';
import { Portal, PortalOptions, startPortal } from '../harness/portal';
import { NS, canaryWorkload, namespaceObject } from '../harness/workloads';

// The real control plane adds up to a minute of start-up on a busy machine.
jest.setTimeout(240_000);

const PG_ENV = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';
const OWNER = { type: 'user', ref: 'user:default/alice' } as const;
const CONCURRENT_PROMOTES = 50;

/**
 * Restarts and replicas need the real thing: a PostgreSQL database shared by backend instances.
 * `make test` starts PostgreSQL 15 (scripts/ensure-postgres.sh) and exports the connection string;
 * without it this suite fails instead of silently testing less.
 */
const SUITE = 'restarts and replicas on PostgreSQL 15, on $name';

// A constant title keeps the suite's body at its indentation (the title is a string all the same).
// eslint-disable-next-line jest/valid-title
describe.each(clusterTargets())(SUITE, target => {
  const databases = TestDatabases.create({
    ids: ['POSTGRES_15'],
    disableDocker: true,
  });
  // kube-sim or the real cluster: the name stays so that the tests read as they did.
  let sim: TestCluster;
  const portals: Portal[] = [];
  const tally = new ClientTally();
  const figures: Record<string, unknown> = {};

  const entities = [
    serviceEntity('restart', 'user:default/alice', NS),
    serviceEntity('race', 'user:default/alice', NS),
    userEntity('alice'),
  ];
  async function portal(options: Omit<PortalOptions, 'kubeUrl' | 'entities'>) {
    const p = await startPortal({
      kubeUrl: sim.url,
      kubeToken: sim.token,
      entities,
      ...options,
    });
    portals.push(p);
    await p.waitForCatalog([
      'component:default/restart',
      'component:default/race',
    ]);
    return p;
  }

  beforeAll(async () => {
    if (!process.env[PG_ENV]) {
      throw new Error(
        `${PG_ENV} is not set: run scripts/ensure-postgres.sh and export its output (make test does both)`,
      );
    }
    sim = await target.start({ timeScale: 0.1 });
    await sim.control.apply([
      namespaceObject,
      ...canaryWorkload('restart', 'registry.test/restart:1.0.0'),
      ...canaryWorkload('race', 'registry.test/race:1.0.0'),
    ]);
  });

  afterAll(async () => {
    console.log(
      `[reliability] restarts and replicas: ${JSON.stringify({
        ...figures,
        clientAnswers: tally.byStatus,
      })}`,
    );
    for (const p of portals) await p.stop();
    await sim?.close();
  });

  it('has PostgreSQL 15 to run against', () => {
    expect(process.env[PG_ENV]).toMatch(/^postgres(ql)?:\/\//);
    expect(databases.supports('POSTGRES_15')).toBe(true);
  });

  it('carries a rollout on after the backend is stopped and started again mid-rollout', async () => {
    const knex: Knex = await databases.init('POSTGRES_15');
    const first = await portal({ rolloutsDatabase: knex });
    let restarts = 0;
    const { view, portal: last } = await driveToHealthy({
      portal: first,
      entityPath: '/entities/component/default/restart',
      workload: 'restart',
      image: 'registry.test/restart:2.0.0',
      caller: OWNER,
      tally,
      timeoutMs: 90_000,
      // As soon as the rollout is in flight (step 0, canary scaling up), the backend goes away
      // and a new instance on the same database and cluster takes over.
      onProgress: async (inFlight: RolloutView) => {
        figures.restartedAt = {
          phase: inFlight.phase,
          step: inFlight.step.index,
        };
        await first.stop();
        restarts++;
        return portal({ rolloutsDatabase: knex });
      },
    });
    figures.restarts = restarts;
    expect(restarts).toBe(1);
    expect(last).not.toBe(first);
    expect(view).toMatchObject({
      phase: 'Healthy',
      stableImage: 'registry.test/restart:2.0.0',
    });
    const d = sim.control.get('apps/v1', 'Deployment', NS, 'restart');
    expect(d.spec.template.spec.containers[0].image).toBe(
      'registry.test/restart:2.0.0',
    );
    expect(
      sim.control.get('apps/v1', 'Deployment', NS, 'restart-canary'),
    ).toBeUndefined();
    // The history written before the restart is still there, once.
    const history = await readHistory(
      last,
      '/entities/component/default/restart',
      OWNER,
      tally,
    );
    expect(duplicateRows(history, 'restart')).toEqual([]);
    const ok = (a: string) =>
      history.filter(
        h =>
          h.workload === 'restart' &&
          h.action === a &&
          h.outcome === 'succeeded',
      );
    expect(ok('start')).toHaveLength(1);
    expect(ok('promote')).toHaveLength(1);
    expect(ok('completed')).toHaveLength(1);
    expect(
      ok('step')
        .map(h => h.stepIndex)
        .sort(),
    ).toEqual([1, 3, 4]);
    // Its reconcile task must not run on into the next test (another database, same cluster).
    await (last as Portal).stop();
  });

  it(`advances a step exactly once when two replicas get ${CONCURRENT_PROMOTES} concurrent promotes for it`, async () => {
    const knex: Knex = await databases.init('POSTGRES_15');
    const [a, b] = [
      await portal({ rolloutsDatabase: knex }),
      await portal({ rolloutsDatabase: knex }),
    ];
    const entityPath = '/entities/component/default/race';
    const started = await a.post(`${entityPath}/rollouts`, OWNER, {
      cluster: 'sim',
      image: 'registry.test/race:2.0.0',
    });
    expect(started.status).toBe(201);

    // Wait on replica B until the canary pauses for approval at step 1.
    let view = await readView(b, entityPath, 'race', OWNER, tally);
    const deadline = Date.now() + 60_000;
    while (!(view.phase === 'Paused' && view.step.index === 1)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise(r => setTimeout(r, 200));
      view = await readView(b, entityPath, 'race', OWNER, tally);
    }
    const revision = view.revision;
    const stateBefore = JSON.parse(
      sim.control.get('apps/v1', 'Deployment', NS, 'race').metadata.annotations[
        ROLLOUT_ANNOTATIONS.state
      ],
    );

    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_PROMOTES }, (_, i) =>
        (i % 2 ? b : a).post(`${entityPath}/actions/promote`, OWNER, {
          cluster: 'sim',
          workload: 'race',
          stepIndex: 1,
          revision,
          reason: `racer ${i}`,
        }),
      ),
    );
    const statuses = answers.map(r => r.status);
    for (const s of statuses) tally.note('POST promote (race)', s);
    figures.race = {
      requests: CONCURRENT_PROMOTES,
      replicas: 2,
      ok: statuses.filter(s => s === 200).length,
      conflict: statuses.filter(s => s === 409).length,
      other: statuses.filter(s => s !== 200 && s !== 409).length,
    };
    expect(statuses.filter(s => s === 200)).toHaveLength(1);
    expect(statuses.filter(s => s === 409)).toHaveLength(
      CONCURRENT_PROMOTES - 1,
    );
    for (const r of answers.filter(x => x.status === 409)) {
      expect(r.body.error).toMatchObject({
        name: 'ConflictError',
        message: expect.any(String),
      });
    }

    // The step advanced once: 1 -> 2 (not 1 -> 2 -> 3 ...), with one history row for it.
    const stateAfter = JSON.parse(
      sim.control.get('apps/v1', 'Deployment', NS, 'race').metadata.annotations[
        ROLLOUT_ANNOTATIONS.state
      ],
    );
    expect(stateBefore.stepIndex).toBe(1);
    expect(stateAfter.stepIndex).toBeGreaterThanOrEqual(2);
    const history = await readHistory(a, entityPath, OWNER, tally);
    const promotes = history.filter(
      h => h.workload === 'race' && h.action === 'promote',
    );
    expect(promotes.filter(h => h.outcome === 'succeeded')).toEqual([
      expect.objectContaining({ stepIndex: 1, revision }),
    ]);
    expect(promotes.filter(h => h.outcome === 'failed')).toHaveLength(
      CONCURRENT_PROMOTES - 1,
    );

    // Both replicas' reconcile tasks now run on the same database: the rollout still finishes
    // with every step taken once.
    const { view: done } = await driveToHealthy({
      portal: b,
      entityPath,
      workload: 'race',
      image: 'registry.test/race:2.0.0',
      caller: OWNER,
      tally,
      timeoutMs: 60_000,
    });
    expect(done.phase).toBe('Healthy');
    const final = await readHistory(b, entityPath, OWNER, tally);
    expect(duplicateRows(final, 'race')).toEqual([]);
    expect(
      final
        .filter(
          h =>
            h.workload === 'race' &&
            h.action === 'step' &&
            h.outcome === 'succeeded',
        )
        .map(h => h.stepIndex)
        .sort(),
    ).toEqual([1, 3, 4]);
  });
});
