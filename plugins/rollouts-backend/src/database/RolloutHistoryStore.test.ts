import { TestDatabases } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { DatabaseRolloutHistoryStore } from './RolloutHistoryStore';

jest.setTimeout(60_000);

const migrationsDir = resolvePackagePath(
  '@internal/plugin-rollouts-backend',
  'migrations',
);

describe('DatabaseRolloutHistoryStore', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

  it.each(databases.eachSupportedId())(
    'walks the migrations up and down on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory: migrationsDir });
      expect(await knex.schema.hasTable('rollout_history')).toBe(true);
      await knex.migrate.rollback({ directory: migrationsDir }, true);
      expect(await knex.schema.hasTable('rollout_history')).toBe(false);
      await knex.migrate.latest({ directory: migrationsDir });
      expect(await knex.schema.hasTable('rollout_history')).toBe(true);
    },
  );

  it.each(databases.eachSupportedId())(
    'records and lists history rows newest first on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const store = await DatabaseRolloutHistoryStore.create({
        database: { getClient: async () => knex },
      });
      const base = {
        entityRef: 'component:default/payments',
        cluster: 'local',
        namespace: 'shop',
        workload: 'payments',
      };
      await store.record({
        ...base,
        action: 'start',
        actor: 'user:default/ada',
        outcome: 'succeeded',
        image: 'ghcr.io/acme/payments:2.0.0',
        stepIndex: 0,
        revision: 1,
        reason: 'release 2.0',
      });
      await store.record({
        ...base,
        action: 'promote',
        actor: 'user:default/bob',
        outcome: 'denied',
        stepIndex: 1,
        revision: 1,
      });
      await store.record({
        ...base,
        workload: 'worker',
        action: 'abort',
        actor: 'system',
        outcome: 'succeeded',
      });
      await store.record({
        ...base,
        entityRef: 'component:default/other',
        action: 'start',
        actor: 'user:default/ada',
        outcome: 'failed',
      });

      const all = await store.list({ entityRef: base.entityRef });
      expect(all.map(e => e.action)).toEqual(['abort', 'promote', 'start']);
      expect(all[2]).toMatchObject({
        actor: 'user:default/ada',
        reason: 'release 2.0',
        outcome: 'succeeded',
        image: 'ghcr.io/acme/payments:2.0.0',
        stepIndex: 0,
        revision: 1,
      });
      expect(new Date(all[2].createdAt).getTime()).toBeGreaterThan(
        Date.now() - 60_000,
      );
      expect(all[1]).toMatchObject({
        outcome: 'denied',
        actor: 'user:default/bob',
        stepIndex: 1,
      });
      expect(
        await store.list({ entityRef: base.entityRef, workload: 'worker' }),
      ).toHaveLength(1);
      expect(
        await store.list({ entityRef: base.entityRef, limit: 1 }),
      ).toHaveLength(1);
    },
  );
});
