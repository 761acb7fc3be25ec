import { z } from 'zod';
import type { RolloutPhase } from './types';

/**
 * Release pipelines: the order of an entity's environments (stages), and which release (one
 * image) is where. A release starts in the first stage with a normal start; the next stage may
 * start it only once the previous stage has been Healthy on that same image for its soak time.
 */

/** How a stage receives the previous stage's release. @public */
export type PipelinePromotion = 'auto' | 'manual';

/** One stage as declared (the entity's annotation, or the portal's default order). @public */
export interface PipelineStage {
  /** Shown to people; defaults to the cluster's name (and namespace). */
  name: string;
  cluster: string;
  /** The namespace of the stage's workload, when the stages differ by namespace. */
  namespace?: string;
  /** How long the stage must be Healthy on a release before the next stage may start it. */
  soakSeconds: number;
  /** `auto`: the pipeline starts the previous stage's release here once it has soaked. */
  promotion: PipelinePromotion;
}

/**
 * What keeps a stage from starting the previous stage's release, each with a sentence:
 * - `previous-stage`: the previous stage has no healthy release yet (still rolling out, paused);
 * - `soak`: it is Healthy on the release, but not yet for the previous stage's soak time;
 * - `analysis`: its analysis has not passed;
 * - `failed`: the release failed in the previous stage and stops there;
 * - `approval`, `freeze`: the rules of the start path for this stage;
 * - `permission`: the caller may not start rollouts here (or the cluster does not bind the workload).
 * @public
 */
export interface PipelineWait {
  kind:
    | 'previous-stage'
    | 'soak'
    | 'analysis'
    | 'failed'
    | 'approval'
    | 'freeze'
    | 'permission';
  message: string;
  /** `soak` (and `freeze`): when the wait ends (ISO 8601). */
  until?: string;
  /** `soak`: seconds left. */
  remainingSeconds?: number;
}

/** The release a stage runs or is rolling out. @public */
export interface PipelineRelease {
  image: string;
  phase: RolloutPhase;
  /**
   * Healthy: since when it is Healthy on this image (the engine's `completed` event of it);
   * otherwise since when the stage's rollout last changed.
   */
  since: string;
}

/** One stage of an entity's pipeline, as it stands now. @public */
export interface PipelineStageView extends PipelineStage {
  /** The stage's workload, when the entity has one there. */
  workload?: string;
  /** What the stage runs (or is rolling out); absent when it has no workload. */
  release?: PipelineRelease;
  /** For every stage after the first: the previous stage's release, the one this stage would start. */
  candidate?: string;
  /** Why the candidate cannot be started here now; empty when it can. */
  waitingFor: PipelineWait[];
  /** True when the candidate may be started here by the caller now (the server decides again). */
  canPromote: boolean;
  /** Starting here needs another owner's approval: a promotion asks for it (202) instead of acting. */
  approvalRequired?: boolean;
}

/** @public */
export interface PipelineView {
  entityRef: string;
  /** Where the stages come from: the entity's annotation, or the portal's default order. */
  source: 'annotation' | 'config';
  stages: PipelineStageView[];
  /** An annotation that cannot be read: starts in its clusters are refused until it is fixed. */
  error?: string;
}

/** Body of `POST /entities/:kind/:namespace/:name/pipeline/promote`. @public */
export const promoteReleaseRequestSchema = z
  .object({
    /** The stage to start the previous stage's release in (its name). */
    stage: z.string().min(1).max(253),
    /** The release the caller saw; refused with 409 when the previous stage moved on. */
    image: z.string().min(1).max(512).optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict();

/** @public */
export type PromoteReleaseRequest = z.infer<typeof promoteReleaseRequestSchema>;
