import type { AllowedAction } from './types';

/**
 * A freeze window as a target sees it: the occurrence that is active now, or the next one.
 * @public
 */
export interface FreezeWindowView {
  name: string;
  message: string;
  /** When this occurrence begins and ends (ISO 8601, UTC). */
  start: string;
  end: string;
  /** Whether it is in force now: starts and promotes are refused until `end`. */
  active: boolean;
}

/**
 * The actions a freeze refuses and an approval rule may protect: the ones that move a new version
 * forward. Abort, rollback, pause, resume and restart stay allowed, for safety.
 * @public
 */
export const GATED_ACTIONS = [
  'start',
  'promote',
  'promote-full',
  'retry',
] as const satisfies readonly AllowedAction[];

/** @public */
export type GatedAction = (typeof GATED_ACTIONS)[number];

/** @public */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/**
 * A four-eyes approval request: an owner asked for a start or promote on a protected target, and
 * another owner approves (the server then acts, as the approver) or denies it.
 * @public
 */
export interface ApprovalView {
  id: string;
  entityRef: string;
  cluster: string;
  namespace: string;
  workload: string;
  action: GatedAction;
  /** The image a start asks for. */
  image?: string;
  /** Who asked, from their credentials. */
  requestedBy: string;
  reason: string;
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
}

/** The answer to a start or action that needs another owner's approval (HTTP 202). @public */
export interface ApprovalRequestedResponse {
  approval: ApprovalView;
}

/** @public */
export interface ApprovalsListResponse {
  items: ApprovalView[];
}
