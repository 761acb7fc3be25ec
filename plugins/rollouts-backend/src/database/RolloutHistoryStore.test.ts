import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { DatabaseRolloutHistoryStore } from './RolloutHistoryStore';
import { pruneHistory } from './retention';

jest.setTimeout(60_000);

const migrationsDir = resolvePackagePath(
  '@rust-delivery-portal/plugin-rollouts-backend',
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

  it.each(databases.eachSupportedId())(
    'collapses repeated denials into one row with a count, so real events stay in view, on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const store = await DatabaseRolloutHistoryStore.create({
        database: { getClient: async () => knex },
      });
      const target = {
        entityRef: 'component:default/payments',
        cluster: 'local',
        namespace: 'shop',
        workload: 'payments',
      };
      await store.record({
        ...target,
        action: 'start',
        actor: 'user:default/ada',
        outcome: 'succeeded',
      });
      for (let i = 0; i < 50; i++) {
        await store.record({
          ...target,
          action: 'abort',
          actor: 'user:default/mallory',
          outcome: 'denied',
          reason: `attempt ${i} ${'x'.repeat(900)}`,
        });
      }
      await store.record({
        ...target,
        action: 'promote',
        actor: 'user:default/mallory',
        outcome: 'denied',
      });
      const rows = await store.list({ entityRef: target.entityRef, limit: 3 });
      expect(rows.map(r => [r.action, r.outcome, r.count])).toEqual([
        ['promote', 'denied', undefined],
        ['abort', 'denied', 50],
        ['start', 'succeeded', undefined],
      ]);
      expect(rows[1].reason).toMatch(/^attempt 49 /);
      expect(Date.parse(rows[1].lastAt!)).toBeGreaterThanOrEqual(
        Date.parse(rows[1].createdAt),
      );
    },
  );

  it.each(databases.eachSupportedId())(
    'prunes rows whose last occurrence is older than the retention on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const store = await DatabaseRolloutHistoryStore.create({
        database: { getClient: async () => knex },
      });
      const row = {
        entityRef: 'component:default/payments',
        cluster: 'local',
        namespace: 'shop',
        workload: 'payments',
        actor: 'user:default/ada',
        outcome: 'succeeded' as const,
      };
      await store.record({ ...row, action: 'start' });
      await store.record({ ...row, action: 'promote' });
      const old = new Date(Date.now() - 400 * 24 * 3600 * 1000);
      await knex('rollout_history')
        .where({ action: 'start' })
        .update({ created_at: old, last_at: old });
      const logger = mockServices.logger.mock();
      expect(
        await pruneHistory(store, { historyRetentionDays: 365 }, logger),
      ).toBe(1);
      const left = await store.list({ entityRef: row.entityRef });
      expect(left.map(r => r.action)).toEqual(['promote']);
    },
  );
});
