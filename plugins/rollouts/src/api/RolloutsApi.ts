import { createApiRef } from '@backstage/core-plugin-api';
import type { CompoundEntityRef } from '@backstage/catalog-model';
import type {
  PipelineView,
  PromoteReleaseRequest,
  ApprovalDecisionRequest,
  ApprovalRequestedResponse,
  ApprovalView,
  RolloutAction,
  RolloutActionRequest,
  RolloutHistoryEvent,
  RolloutView,
  StartRolloutRequest,
} from '@rust-delivery-portal/plugin-rollouts-common';

/**
 * The rollouts backend as the frontend sees it: one call per REST route.
 * @public
 */
export interface RolloutsApi {
  /** One view per cluster and workload of the entity. */
  getRollouts(entity: CompoundEntityRef): Promise<RolloutView[]>;
  /** Who did what, when and why, newest first. */
  getHistory(entity: CompoundEntityRef): Promise<RolloutHistoryEvent[]>;
  /**
   * Starts a rollout of a new image with the workload's declared strategy. On a protected target
   * the answer is the approval request another owner must decide (HTTP 202).
   */
  startRollout(
    entity: CompoundEntityRef,
    request: StartRolloutRequest,
  ): Promise<MutationAnswer>;
  /** Promote, abort, roll back and the other actions on one cluster's rollout. */
  runAction(
    entity: CompoundEntityRef,
    action: RolloutAction,
    request: RolloutActionRequest,
  ): Promise<MutationAnswer>;
  /** The entity's release pipeline: which release is where, and what each stage waits for. */
  getPipeline(entity: CompoundEntityRef): Promise<PipelineView>;
  /** Starts the previous stage's release in a stage, through the same start path as any start. */
  promoteRelease(
    entity: CompoundEntityRef,
    request: PromoteReleaseRequest,
  ): Promise<MutationAnswer>;
  /** The entity's approval requests, newest first. */
  getApprovals(entity: CompoundEntityRef): Promise<ApprovalView[]>;
  /** Approves another owner's request: the server then takes the requested action as you. */
  approve(
    id: string,
    request: ApprovalDecisionRequest,
  ): Promise<{ approval: ApprovalView; rollout: RolloutView }>;
  /** Denies a request (or withdraws your own). */
  deny(
    id: string,
    request: Pick<ApprovalDecisionRequest, 'reason'>,
  ): Promise<{ approval: ApprovalView }>;
}

/**
 * What a start or action answers: the rollout, or the approval request it became.
 * `undefined` from implementations that do not say (test doubles).
 * @public
 */
export type MutationAnswer = RolloutView | ApprovalRequestedResponse | void;

/** Whether a start or action became an approval request instead of acting. @public */
export function isApprovalRequested(
  answer: MutationAnswer,
): answer is ApprovalRequestedResponse {
  return typeof answer === 'object' && answer !== null && 'approval' in answer;
}

/** @public */
export const rolloutsApiRef = createApiRef<RolloutsApi>({
  id: 'plugin.rollouts.service',
});
