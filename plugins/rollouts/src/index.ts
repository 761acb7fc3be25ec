/**
 * Rollouts of an entity's Kubernetes workloads in the portal: an overview card, a Deployment tab
 * and confirmed actions (promote, abort, roll back, ...) on top of the rollouts backend.
 *
 * @packageDocumentation
 */
export {
  rolloutsPlugin,
  EntityRolloutCard,
  EntityRolloutsContent,
} from './plugin';
export type { EntityRolloutCardProps } from './components/EntityRolloutCard';
export { rolloutsApiRef, RolloutsClient } from './api';
export type { MutationAnswer, RolloutsApi } from './api';
export { isRolloutsAvailable } from './isRolloutsAvailable';
export { ReleasePipeline } from './components/ReleasePipeline';
export type { ReleasePipelineProps } from './components/ReleasePipeline';
export {
  useRollouts,
  useRolloutHistory,
  rolloutsSignalChannel,
} from './hooks/useRollouts';
export type {
  UseRolloutsResult,
  UseRolloutHistoryResult,
} from './hooks/useRollouts';
