import { LoggerService } from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { ConflictError } from '@backstage/errors';
import { NotificationService } from '@backstage/plugin-notifications-node';
import {
  AllowedAction,
  ApprovalView,
  FreezeWindowView,
  GatedAction,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  ApprovalStore,
  ApprovedInput,
  StoredApproval,
} from '../../database/ApprovalStore';
import { ApprovalRules } from './ApprovalRules';
import { FROZEN_ACTIONS, FreezeCalendar } from './FreezeCalendar';
import { GateTarget } from './targets';

export interface ReleaseGatesOptions {
  freeze: FreezeCalendar;
  rules: ApprovalRules;
  /** Absent only where no rule can ask for an approval (tests without a database). */
  store?: ApprovalStore;
  notifications?: NotificationService;
  logger?: LoggerService;
  /** The clock every freeze and expiry is judged by; tests set it. */
  now: () => Date;
}

/** A start or action as it reaches the gates: checked for permission and binding already. */
export interface GatedMutation {
  entity: Entity;
  target: GateTarget & { workload: string };
  action: AllowedAction;
  image?: string;
  input: ApprovedInput;
  requestedBy: string;
}

/** The approval list's view, without what only the server keeps. */
export function approvalView({
  input: _input,
  ...view
}: StoredApproval): ApprovalView {
  return view;
}

/**
 * The rules AuthorizedRollouts applies to every start and promote after the binding check and
 * the permission decision, before acting: freeze windows and four-eyes approval. This class
 * decides and stores; AuthorizedRollouts stays the one place that authorizes, records and audits.
 */
export class ReleaseGates {
  constructor(private readonly options: ReleaseGatesOptions) {}

  static fromConfig(
    config: Config,
    deps: Omit<ReleaseGatesOptions, 'freeze' | 'rules'>,
  ): ReleaseGates {
    return new ReleaseGates({
      ...deps,
      freeze: FreezeCalendar.fromConfig(config),
      rules: ApprovalRules.fromConfig(config),
    });
  }

  now(): Date {
    return this.options.now();
  }

  /** The freeze window that refuses this action here now, if any. */
  freezeOf(
    action: AllowedAction,
    target: GateTarget,
  ): FreezeWindowView | undefined {
    if (!FROZEN_ACTIONS.has(action)) return undefined;
    return this.options.freeze.activeAt(target, this.now());
  }

  /** How a freeze refusal reads: the window, its end and its message. */
  freezeMessage(
    window: FreezeWindowView,
    action: AllowedAction,
    target: GateTarget,
  ) {
    return `Freeze window "${window.name}" is in force for ${target.cluster}/${target.namespace} until ${window.end}: ${window.message}. No ${action} until then; an emergency override needs the rollouts.freeze.override permission and a reason.`;
  }

  /** Whether this action here needs another owner's approval. */
  needsApproval(action: AllowedAction, target: GateTarget): boolean {
    return this.options.rules.expiryFor(action, target) !== undefined;
  }

  /** Stores a pending request (409 when the target has one) and tells the entity's owners. */
  async request(mutation: GatedMutation): Promise<StoredApproval> {
    const expiresAfter = this.options.rules.expiryFor(
      mutation.action,
      mutation.target,
    )!;
    const createdAt = this.now();
    const approval = await this.storeOf().create({
      entityRef: stringifyEntityRef(mutation.entity),
      ...mutation.target,
      action: mutation.action as GatedAction,
      image: mutation.image,
      input: mutation.input,
      requestedBy: mutation.requestedBy,
      reason: mutation.input.reason ?? '',
      createdAt,
      expiresAt: new Date(createdAt.getTime() + expiresAfter),
    });
    await this.notifyOwners(mutation.entity, approval);
    return approval;
  }

  async get(id: string): Promise<StoredApproval | undefined> {
    return this.options.store?.get(id, this.now());
  }

  async list(entityRef: string): Promise<StoredApproval[]> {
    return this.options.store?.list({ entityRef }, this.now()) ?? [];
  }

  /**
   * Claims a pending request for the decision: false when it was decided already or expired
   * meanwhile (one winner among owners deciding at once).
   */
  async decide(
    approval: StoredApproval,
    status: 'approved' | 'denied',
    by: string,
    reason: string,
  ): Promise<void> {
    const claimed = await this.storeOf().decide(approval.id, {
      status,
      by,
      reason,
      at: this.now(),
    });
    if (!claimed) {
      const now = await this.get(approval.id);
      throw new ConflictError(this.undecidable(now ?? approval));
    }
  }

  async reopen(approval: StoredApproval): Promise<void> {
    await this.storeOf().reopen(approval);
  }

  /** Why a request can no longer be decided, or undefined while it can. */
  undecidable(approval: StoredApproval): string {
    if (approval.status === 'expired') {
      return `Approval request ${approval.id} expired at ${approval.expiresAt}; ask again`;
    }
    return `Approval request ${approval.id} was ${approval.status} already${
      approval.decidedBy ? ` by ${approval.decidedBy}` : ''
    }`;
  }

  /** The views with the freeze in force or next, and the pending request of each target. */
  async decorate(entity: Entity, views: RolloutView[]): Promise<RolloutView[]> {
    const now = this.now();
    const pending = this.options.store
      ? await this.options.store.list(
          { entityRef: stringifyEntityRef(entity), status: 'pending' },
          now,
        )
      : [];
    return views.map(v => {
      const freeze = this.options.freeze.shownAt(v, now);
      const approval = pending.find(
        a =>
          a.status === 'pending' &&
          a.cluster === v.cluster &&
          a.namespace === v.namespace &&
          a.workload === v.workload,
      );
      return {
        ...v,
        ...(freeze ? { freeze } : {}),
        ...(approval ? { pendingApproval: approvalView(approval) } : {}),
      };
    });
  }

  private storeOf(): ApprovalStore {
    if (!this.options.store) {
      throw new Error('rollouts.approvals needs the plugin database');
    }
    return this.options.store;
  }

  /** The notifications backend resolves an entity recipient to its owners; the asker is left out. */
  private async notifyOwners(entity: Entity, approval: StoredApproval) {
    const { notifications, logger } = this.options;
    if (!notifications) return;
    const ref = parseEntityRef(approval.entityRef);
    const what = approval.image
      ? `${approval.action} ${approval.image}`
      : approval.action;
    try {
      await notifications.send({
        recipients: {
          type: 'entity',
          entityRef: stringifyEntityRef(entity),
          excludeEntityRef: approval.requestedBy,
        },
        payload: {
          title: `Approval asked: ${what} on ${approval.workload} in ${approval.cluster}`,
          description: `${
            approval.requestedBy
          } asks for another owner's approval: ${
            approval.reason || 'no reason given'
          }. Expires ${approval.expiresAt}.`,
          link: `/catalog/${ref.namespace}/${ref.kind.toLocaleLowerCase(
            'en-US',
          )}/${ref.name}`,
          severity: 'high',
          topic: 'rollouts',
          scope: `rollouts-approval:${approval.id}`,
        },
      });
    } catch (error) {
      // The request stands: owners also see it on the card.
      logger?.warn(
        `Could not notify the owners of ${approval.entityRef}: ${error}`,
      );
    }
  }
}
