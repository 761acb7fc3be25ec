import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import { ConflictError } from '@backstage/errors';
import { ApprovalStore, NewApproval } from './ApprovalStore';

jest.setTimeout(60_000);

const migrationsDir = resolvePackagePath(
  '@rust-delivery-portal/plugin-rollouts-backend',
  'migrations',
);

const t0 = new Date('2026-12-02T10:00:00Z');
const later = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

const asked: NewApproval = {
  entityRef: 'component:default/payments',
  cluster: 'production',
  namespace: 'shop',
  workload: 'payments',
  action: 'start',
  image: 'ghcr.io/acme/payments:2.0.0',
  input: { reason: 'release 2.0' },
  requestedBy: 'user:default/ada',
  reason: 'release 2.0',
  createdAt: t0,
  expiresAt: later(60),
};

describe('ApprovalStore', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

  async function storeOn(databaseId: Parameters<typeof databases.init>[0]) {
    const knex = await databases.init(databaseId);
    await knex.migrate.latest({ directory: migrationsDir });
    return { knex, store: new ApprovalStore(knex) };
  }

  it.each(databases.eachSupportedId())(
    'walks its migration up and down on %p',
    async databaseId => {
      const { knex } = await storeOn(databaseId);
      expect(await knex.schema.hasTable('rollout_approvals')).toBe(true);
      await knex.migrate.down({ directory: migrationsDir });
      expect(await knex.schema.hasTable('rollout_approvals')).toBe(false);
      expect(await knex.schema.hasTable('rollout_history')).toBe(true);
    },
  );

  it.each(databases.eachSupportedId())(
    'keeps one pending request per target, and lets a new one in once it is decided or expired on %p',
    async databaseId => {
      const { store } = await storeOn(databaseId);
      const first = await store.create(asked);
      expect(first).toMatchObject({
        status: 'pending',
        requestedBy: 'user:default/ada',
        image: 'ghcr.io/acme/payments:2.0.0',
        createdAt: t0.toISOString(),
        expiresAt: later(60).toISOString(),
        input: { reason: 'release 2.0' },
      });
      await expect(
        store.create({
          ...asked,
          requestedBy: 'user:default/bob',
          createdAt: later(1),
        }),
      ).rejects.toThrow(ConflictError);
      await expect(
        store.create({ ...asked, createdAt: later(1) }),
      ).rejects.toThrow(
        /already has a pending approval request .*by user:default\/ada/,
      );
      // Another workload is another target.
      await store.create({ ...asked, workload: 'ledger', createdAt: later(1) });

      expect(
        await store.decide(first.id, {
          status: 'denied',
          by: 'user:default/bob',
          reason: 'not now',
          at: later(2),
        }),
      ).toBe(true);
      // Decided once: a second decision loses.
      expect(
        await store.decide(first.id, {
          status: 'approved',
          by: 'user:default/eve',
          reason: 'go',
          at: later(3),
        }),
      ).toBe(false);
      expect(await store.get(first.id, later(3))).toMatchObject({
        status: 'denied',
        decidedBy: 'user:default/bob',
        decisionReason: 'not now',
        decidedAt: later(2).toISOString(),
      });

      const second = await store.create({
        ...asked,
        createdAt: later(5),
        expiresAt: later(10),
      });
      // At its expiry instant it is expired and cannot be approved.
      expect((await store.get(second.id, later(10)))?.status).toBe('expired');
      expect(
        await store.decide(second.id, {
          status: 'approved',
          by: 'user:default/bob',
          reason: 'go',
          at: later(10),
        }),
      ).toBe(false);
      expect((await store.get(second.id, later(9)))?.status).toBe('pending');
      const third = await store.create({
        ...asked,
        createdAt: later(11),
        expiresAt: later(20),
      });
      expect(
        (await store.list({ entityRef: asked.entityRef }, later(11))).map(a => [
          a.id,
          a.status,
        ]),
      ).toEqual([
        [third.id, 'pending'],
        [second.id, 'expired'],
        [expect.any(String), 'pending'],
        [first.id, 'denied'],
      ]);
    },
  );

  it.each(databases.eachSupportedId())(
    'gives an approval back to pending when its action could not be taken on %p',
    async databaseId => {
      const { store } = await storeOn(databaseId);
      const a = await store.create(asked);
      expect(
        await store.decide(a.id, {
          status: 'approved',
          by: 'user:default/bob',
          reason: 'go',
          at: later(1),
        }),
      ).toBe(true);
      await store.reopen(a);
      const back = await store.get(a.id, later(2));
      expect(back?.status).toBe('pending');
      expect(back?.decidedBy).toBeUndefined();
      await expect(
        store.create({ ...asked, createdAt: later(2) }),
      ).rejects.toThrow(ConflictError);
    },
  );
});
