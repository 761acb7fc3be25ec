import {
  AllowedAction,
  RolloutAction,
  RolloutStrategy,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import { WorkloadClient } from '../clusters/WorkloadClient';
import { RolloutState } from './state';
import { MetricsQuerier } from '../analysis/PrometheusClient';

export interface StrategyContext {
  cache: ClusterCache;
  client: WorkloadClient;
  /** The primary Deployment (fresh from the API server for actions, from the cache for reconciles). */
  primary: V1Deployment;
  state?: RolloutState;
  now: Date;
  defaults: { unreadyThresholdMs: number };
  /** The cluster's metrics backend for analysis (`rollouts.clusters[].prometheus.url`), if any. */
  analysis?: { clusterName: string; prometheus?: MetricsQuerier };
  /**
   * Asks for another reconcile of this rollout in `ms`, when a time-based condition (a pause
   * duration, a scale-down delay, the health gate's threshold) will have elapsed. Without it the
   * next scheduled pass would notice, up to a reconcile interval late.
   */
  requeueAfter?(ms: number): void;
}

/** A change of the rollout's state: written to the primary Deployment in one guarded update. */
export interface Transition {
  state: RolloutState;
  /** Spec changes of the primary that belong to the same update (image, replicas, paused, template). */
  mutate?: (primary: V1Deployment) => void;
  /** History action for engine-made transitions (`step`, `completed`, `health-gate-abort`, ...); none for bookkeeping. */
  event?: string;
  message?: string;
  /** History rows recorded before `event` (one per analysis measurement). */
  events?: Array<{ event: string; message: string }>;
  /** Tell the entity's owners. */
  notify?: 'paused' | 'degraded' | 'aborted';
}

export type RolloutViewBase = Omit<
  RolloutView,
  'cluster' | 'allowedActions' | 'binding'
>;

export interface ActionInput {
  reason?: string;
  toRevision?: number;
}

/** How one delivery strategy shows, moves and drives a rollout. */
export interface RolloutStrategyHandler {
  readonly name: RolloutStrategy;
  view(ctx: StrategyContext): RolloutViewBase;
  /** What the current phase allows, before permissions. */
  phaseActions(ctx: StrategyContext, view: RolloutViewBase): AllowedAction[];
  start(ctx: StrategyContext, image: string): Transition;
  act(
    ctx: StrategyContext,
    action: RolloutAction,
    input: ActionInput,
  ): Transition;
  /**
   * Brings the cluster's objects in line with the state (idempotent) and returns the next state
   * when time, readiness or health says the rollout moves on.
   */
  reconcile(ctx: StrategyContext): Promise<Transition | undefined>;
}
