import { ConflictError } from '@backstage/errors';
import {
  ApprovalStatus,
  ApprovalView,
  GatedAction,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';

/** What an approved request carries into the action, besides its target and image. */
export interface ApprovedInput {
  reason?: string;
  revision?: number;
  stepIndex?: number;
}

export interface NewApproval {
  entityRef: string;
  cluster: string;
  namespace: string;
  workload: string;
  action: GatedAction;
  image?: string;
  input: ApprovedInput;
  requestedBy: string;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface StoredApproval extends ApprovalView {
  input: ApprovedInput;
}

type Row = {
  id: string;
  entity_ref: string;
  cluster: string;
  namespace: string;
  workload: string;
  action: GatedAction;
  image: string | null;
  request_json: string;
  requested_by: string;
  reason: string;
  status: ApprovalStatus;
  pending_key: string | null;
  created_at: Date | string;
  expires_at: Date | string;
  decided_by: string | null;
  decided_at: Date | string | null;
  decision_reason: string | null;
};

const TABLE = 'rollout_approvals';

function keyOf(t: { cluster: string; namespace: string; workload: string }) {
  return `${t.cluster}/${t.namespace}/${t.workload}`;
}

const iso = (d: Date | string) => new Date(d).toISOString();

/**
 * Approval requests in the plugin's database (migration 20261202100000). Time is the caller's:
 * a pending request past its `expiresAt` reads as expired, and is marked so when next touched.
 */
export class ApprovalStore {
  constructor(private readonly db: Knex) {}

  /**
   * Adds a pending request; refused with 409 when the target has one pending already (an expired
   * one is retired first).
   */
  async create(approval: NewApproval): Promise<StoredApproval> {
    const pendingKey = keyOf(approval);
    await this.expireStale({ pending_key: pendingKey }, approval.createdAt);
    const row: Row = {
      id: randomUUID(),
      entity_ref: approval.entityRef,
      cluster: approval.cluster,
      namespace: approval.namespace,
      workload: approval.workload,
      action: approval.action,
      image: approval.image ?? null,
      request_json: JSON.stringify(approval.input),
      requested_by: approval.requestedBy,
      reason: approval.reason,
      status: 'pending',
      pending_key: pendingKey,
      created_at: approval.createdAt,
      expires_at: approval.expiresAt,
      decided_by: null,
      decided_at: null,
      decision_reason: null,
    };
    try {
      await this.db<Row>(TABLE).insert(row);
    } catch (error) {
      const existing = await this.db<Row>(TABLE)
        .where({ pending_key: pendingKey })
        .first();
      if (!existing) throw error;
      throw new ConflictError(
        `${approval.workload} in ${
          approval.cluster
        } already has a pending approval request (${existing.id}: ${
          existing.action
        } by ${existing.requested_by}, expires ${iso(
          existing.expires_at,
        )}); it must be approved, denied or expire first`,
      );
    }
    return this.toView(row, approval.createdAt);
  }

  async get(id: string, now: Date): Promise<StoredApproval | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row && this.toView(row, now);
  }

  async list(
    options: { entityRef: string; status?: ApprovalStatus; limit?: number },
    now: Date,
  ): Promise<StoredApproval[]> {
    await this.expireStale({ entity_ref: options.entityRef }, now);
    const query = this.db<Row>(TABLE)
      .where({ entity_ref: options.entityRef })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit ?? 50);
    if (options.status) query.andWhere({ status: options.status });
    return (await query).map(r => this.toView(r, now));
  }

  /**
   * Moves a pending, unexpired request to `approved` or `denied`; false when another decision or
   * its expiry came first (one winner when two owners decide at once).
   */
  async decide(
    id: string,
    decision: {
      status: 'approved' | 'denied';
      by: string;
      reason: string;
      at: Date;
    },
  ): Promise<boolean> {
    const updated = await this.db<Row>(TABLE)
      .where({ id, status: 'pending' })
      .andWhere('expires_at', '>', decision.at)
      .update({
        status: decision.status,
        pending_key: null,
        decided_by: decision.by,
        decided_at: decision.at,
        decision_reason: decision.reason,
      });
    return updated > 0;
  }

  /** Gives an approval back to pending when the action it allowed could not be taken. */
  async reopen(approval: StoredApproval): Promise<void> {
    await this.db<Row>(TABLE)
      .where({ id: approval.id, status: 'approved' })
      .update({
        status: 'pending',
        pending_key: keyOf(approval),
        decided_by: null,
        decided_at: null,
        decision_reason: null,
      });
  }

  private async expireStale(where: Partial<Row>, now: Date) {
    await this.db<Row>(TABLE)
      .where({ ...where, status: 'pending' })
      .andWhere('expires_at', '<=', now)
      .update({ status: 'expired', pending_key: null });
  }

  private toView(r: Row, now: Date): StoredApproval {
    const expired =
      r.status === 'pending' &&
      new Date(r.expires_at).getTime() <= now.getTime();
    return {
      id: r.id,
      entityRef: r.entity_ref,
      cluster: r.cluster,
      namespace: r.namespace,
      workload: r.workload,
      action: r.action,
      ...(r.image ? { image: r.image } : {}),
      requestedBy: r.requested_by,
      reason: r.reason,
      status: expired ? 'expired' : r.status,
      createdAt: iso(r.created_at),
      expiresAt: iso(r.expires_at),
      ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
      ...(r.decided_at ? { decidedAt: iso(r.decided_at) } : {}),
      ...(r.decision_reason ? { decisionReason: r.decision_reason } : {}),
      input: JSON.parse(r.request_json),
    };
  }
}
