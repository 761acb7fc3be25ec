import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { RolloutHistoryEvent } from '@rust-delivery-portal/plugin-rollouts-common';
import { Knex } from 'knex';

const migrationsDir = resolvePackagePath(
  '@rust-delivery-portal/plugin-rollouts-backend',
  'migrations',
);

export type NewHistoryEvent = Omit<
  RolloutHistoryEvent,
  'id' | 'createdAt' | 'count' | 'lastAt'
> & {
  /** When it happened; default now. */
  at?: Date;
};

/** Where the rollout history lives. */
export interface RolloutHistoryStore {
  /**
   * Adds a row. A denial repeats the last denial of the same actor, action and target when there
   * is one: that row's count goes up instead, so denials cannot push real events out of view.
   */
  record(event: NewHistoryEvent): Promise<void>;
  list(options: {
    entityRef: string;
    cluster?: string;
    workload?: string;
    limit?: number;
  }): Promise<RolloutHistoryEvent[]>;
  /** Deletes the rows whose last occurrence is older than `before`; returns how many. */
  prune(before: Date): Promise<number>;
}

type Row = {
  id: string | number;
  entity_ref: string;
  cluster: string;
  namespace: string;
  workload: string;
  action: string;
  actor: string;
  reason: string | null;
  outcome: RolloutHistoryEvent['outcome'];
  message: string | null;
  step_index: number | null;
  revision: number | null;
  image: string | null;
  created_at: Date | string;
  count: number;
  last_at: Date | string | null;
};

/** The history in the plugin's database, schema by the dated migrations in `migrations/`. */
/**
 * Applies the migrations. Replicas that start together on a fresh database race to create knex's
 * own bookkeeping tables ("relation knex_migrations_lock already exists"); the loser tries again,
 * and then waits on knex's migration lock like any later replica.
 */
async function migrate(client: Knex, attempts = 3): Promise<void> {
  try {
    await client.migrate.latest({ directory: migrationsDir });
  } catch (error) {
    const raced =
      /knex_migrations(_lock)?.*already exists|already exists.*knex_migrations/i.test(
        String((error as Error)?.message),
      );
    if (!raced || attempts <= 1) throw error;
    await new Promise(resolve => setTimeout(resolve, 200));
    await migrate(client, attempts - 1);
  }
}

export class DatabaseRolloutHistoryStore implements RolloutHistoryStore {
  static async create(options: {
    database: DatabaseService;
    skipMigrations?: boolean;
  }): Promise<DatabaseRolloutHistoryStore> {
    const client = await options.database.getClient();
    if (!options.database.migrations?.skip && !options.skipMigrations) {
      await migrate(client);
    }
    return new DatabaseRolloutHistoryStore(client);
  }

  constructor(private readonly db: Knex) {}

  async record(event: NewHistoryEvent): Promise<void> {
    const now = event.at ?? new Date();
    if (event.outcome === 'denied') {
      const repeated = await this.db<Row>('rollout_history')
        .where({
          entity_ref: event.entityRef,
          cluster: event.cluster,
          namespace: event.namespace,
          workload: event.workload,
          action: event.action,
          actor: event.actor,
          outcome: 'denied',
        })
        .update({
          count: this.db.raw('?? + 1', ['count']) as any,
          last_at: now,
          reason: event.reason ?? null,
          message: event.message?.slice(0, 4000) ?? null,
          step_index: event.stepIndex ?? null,
          revision: event.revision ?? null,
          image: event.image ?? null,
        });
      if (repeated > 0) return;
    }
    await this.db<Row>('rollout_history').insert({
      entity_ref: event.entityRef,
      cluster: event.cluster,
      namespace: event.namespace,
      workload: event.workload,
      action: event.action,
      actor: event.actor,
      reason: event.reason ?? null,
      outcome: event.outcome,
      message: event.message?.slice(0, 4000) ?? null,
      step_index: event.stepIndex ?? null,
      revision: event.revision ?? null,
      image: event.image ?? null,
      created_at: now,
      last_at: now,
      count: 1,
    });
  }

  async prune(before: Date): Promise<number> {
    return this.db<Row>('rollout_history')
      .where('last_at', '<', before)
      .delete();
  }

  async list(options: {
    entityRef: string;
    cluster?: string;
    workload?: string;
    limit?: number;
  }): Promise<RolloutHistoryEvent[]> {
    const query = this.db<Row>('rollout_history')
      .where('entity_ref', options.entityRef)
      .orderBy([
        { column: 'last_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit ?? 200);
    if (options.cluster) query.andWhere('cluster', options.cluster);
    if (options.workload) query.andWhere('workload', options.workload);
    const rows = await query;
    return rows.map(r => ({
      id: String(r.id),
      entityRef: r.entity_ref,
      cluster: r.cluster,
      namespace: r.namespace,
      workload: r.workload,
      action: r.action,
      actor: r.actor,
      reason: r.reason ?? undefined,
      outcome: r.outcome,
      message: r.message ?? undefined,
      stepIndex: r.step_index ?? undefined,
      revision: r.revision ?? undefined,
      image: r.image ?? undefined,
      createdAt: new Date(r.created_at).toISOString(),
      ...(r.count > 1
        ? {
            count: r.count,
            lastAt: new Date(r.last_at ?? r.created_at).toISOString(),
          }
        : {}),
    }));
  }
}
