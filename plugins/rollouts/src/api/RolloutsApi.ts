import { createApiRef } from '@backstage/core-plugin-api';
import type { CompoundEntityRef } from '@backstage/catalog-model';
import type {
  PipelineView,
  PromoteReleaseRequest,
  RolloutAction,
  RolloutActionRequest,
  RolloutHistoryEvent,
  RolloutView,
  StartRolloutRequest,
} from '@internal/plugin-rollouts-common';

/**
 * The rollouts backend as the frontend sees it: one call per REST route.
 * @public
 */
export interface RolloutsApi {
  /** One view per cluster and workload of the entity. */
  getRollouts(entity: CompoundEntityRef): Promise<RolloutView[]>;
  /** Who did what, when and why, newest first. */
  getHistory(entity: CompoundEntityRef): Promise<RolloutHistoryEvent[]>;
  /** Starts a rollout of a new image with the workload's declared strategy. */
  startRollout(
    entity: CompoundEntityRef,
    request: StartRolloutRequest,
  ): Promise<void>;
  /** Promote, abort, roll back and the other actions on one cluster's rollout. */
  runAction(
    entity: CompoundEntityRef,
    action: RolloutAction,
    request: RolloutActionRequest,
  ): Promise<void>;
  /** The entity's release pipeline: which release is where, and what each stage waits for. */
  getPipeline(entity: CompoundEntityRef): Promise<PipelineView>;
  /** Starts the previous stage's release in a stage, through the same start path as any start. */
  promoteRelease(
    entity: CompoundEntityRef,
    request: PromoteReleaseRequest,
  ): Promise<void>;
}

/** @public */
export const rolloutsApiRef = createApiRef<RolloutsApi>({
  id: 'plugin.rollouts.service',
});
