import type { ApprovalView, FreezeWindowView } from './gates';

/** @public */
export type RolloutStrategy = 'RollingUpdate' | 'Canary' | 'BlueGreen';

/** @public */
export type RolloutPhase =
  | 'Healthy'
  | 'Progressing'
  | 'Paused'
  | 'Degraded'
  | 'Aborted';

/** @public */
export const ROLLOUT_ACTIONS = [
  'promote',
  'promote-full',
  'abort',
  'retry',
  'rollback',
  'pause',
  'resume',
  'restart',
] as const;

/** @public */
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

/** What the calling user may do: every action plus starting a rollout of a new image. @public */
export type AllowedAction = RolloutAction | 'start';

/**
 * A canary step in Argo Rollouts' vocabulary.
 * `pause: {}` waits for a promote; `pause: { duration: '60s' }` waits that long.
 * @public
 */
export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: string } };

/** @public */
export type RevisionRole = 'stable' | 'canary' | 'active' | 'preview' | 'old';

/** @public */
export interface RevisionView {
  /**
   * The primary Deployment's Kubernetes revision (`deployment.kubernetes.io/revision`); a canary or
   * preview shows the revision the primary gets when it is promoted, so the rows sort in order.
   */
  revision: number;
  image: string;
  role: RevisionRole;
  replicas: number;
  ready: number;
}

/**
 * Whether the cluster confirms that a workload belongs to the entity whose page shows it:
 * - `bound`: the workload (or its namespace) names this entity; its owners may act on it;
 * - `unbound`: it names no entity, so nobody acts on it from the portal until it is annotated;
 * - `elsewhere`: it names another entity (the one in `entityRefs`), whose owners act on it;
 * - `contested`: the workload and its namespace disagree, or it names several entities.
 * Anything but `bound` is shown read-only, with `message` saying why.
 * @public
 */
export interface WorkloadBinding {
  status: 'bound' | 'unbound' | 'elsewhere' | 'contested';
  /** The entity refs the cluster names for the workload. */
  entityRefs: string[];
  /** Why the workload is read-only here; absent when bound. */
  message?: string;
}

/**
 * The HTTPRoute a canary's traffic goes through, as the cluster shows it.
 * @public
 */
export interface TrafficRouteView {
  router: 'gateway-api';
  /** `namespace/name` of the HTTPRoute. */
  route: string;
  /** The rule's index in `spec.rules`, or its name. */
  rule: string;
  /** The weights of the stable and canary backendRefs in the cluster (absent when not found). */
  weights?: { stable: number; canary: number };
  /**
   * Whether the route's Gateways accept it (`status.parents[].conditions` Accepted and
   * ResolvedRefs): `true`, `false`, or `undefined` while no Gateway has reported on this generation.
   */
  accepted?: boolean;
  /** What is wrong or pending, in words. */
  message?: string;
}

/** @public */
export interface RolloutView {
  cluster: string;
  namespace: string;
  /** Name of the primary Deployment. */
  workload: string;
  strategy: RolloutStrategy;
  phase: RolloutPhase;
  message: string;
  /** Current step (0-based index) of `total` steps; for RollingUpdate, total is 1. */
  step: { index: number; total: number };
  steps: CanaryStep[];
  /** Traffic weight (0-100) of the new version. */
  weight: {
    desired: number;
    actual: number;
    /**
     * How weight is achieved: without a traffic router it is a replica ratio; with the Gateway
     * API it is the HTTPRoute's backendRef weights, and `actual` is read from the route;
     * `traffic-router` is an Argo Rollout's router (Istio, NGINX, Gateway API...) reporting its
     * weights.
     */
    method:
      | 'replica-ratio'
      | 'service-switch'
      | 'rolling'
      | 'gateway-api'
      | 'traffic-router';
  };
  /** The traffic router, when the workload declares one (`gateway-api`: an HTTPRoute). */
  traffic?: TrafficRouteView;
  revisions: RevisionView[];
  /** Image running as stable / active. */
  stableImage: string;
  /** Image being rolled out, when a rollout is in flight. */
  targetImage?: string;
  pause?: { reason: string; since: string };
  /** The revision the rollout is aimed at; actions carry it back to guard against stale views. */
  revision: number;
  /** Whether the cluster says this workload belongs to the entity; actions need `bound`. */
  binding: WorkloadBinding;
  allowedActions: AllowedAction[];
  updatedAt: string;
  /**
   * Who drives the rollout: the portal's own engine (the default when absent), or Argo Rollouts
   * (an `argoproj.io/v1alpha1` Rollout, which the portal only reads and patches as the
   * kubectl-argo-rollouts plugin does).
   */
  controller?: RolloutController;
  /**
   * The analysis of the rollout in flight: the portal engine's own (metrics measured against
   * Prometheus at each canary step, in the background while the canary runs, and before a
   * blue-green promotion), or the analysis run of an Argo Rollout as Argo reports it.
   */
  analysis?: AnalysisView;
  /** A caveat the user should see before acting (for example Argo's ignored abort after promote-full). */
  warning?: string;
  /** The freeze window in force for this target, or the next one to come (see `freezeWindows`). */
  freeze?: FreezeWindowView;
  /** The approval request waiting for another owner on this target, if any. */
  pendingApproval?: ApprovalView;
}

/**
 * Verdict of an analysis, a metric or one measurement, in Argo Rollouts' vocabulary.
 * @public
 */
export type AnalysisPhase =
  | 'Pending'
  | 'Running'
  | 'Successful'
  | 'Failed'
  | 'Inconclusive'
  | 'Error';

/**
 * One measurement of one metric: the canary's value (the one the conditions judge) and, for
 * comparison, the stable pods' value measured by the same query at the same time.
 * @public
 */
export interface AnalysisMeasurement {
  /** When it was measured (ISO 8601). */
  at: string;
  /** The canary step it belongs to (index into `steps`), or absent for a blue-green pre-promotion. */
  stepIndex?: number;
  /** The canary (or preview) pods' value; absent when the query returned nothing or failed. */
  canary?: number;
  /** The stable (or active) pods' value, for the chart; never judged. */
  stable?: number;
  phase: Exclude<AnalysisPhase, 'Pending' | 'Running'>;
  /** Why: the condition that held, or the Prometheus error / empty result for `Error`/`Inconclusive`. */
  message?: string;
}

/**
 * One metric of an analysis, as the workload declares it (Argo Rollouts' AnalysisTemplate metric
 * fields), with its measurements so far.
 * @public
 */
export interface AnalysisMetricView {
  name: string;
  /** e.g. `result < 0.01`; `result` is the canary's value. */
  successCondition?: string;
  failureCondition?: string;
  /** The number the conditions compare against, when they compare against one (drawn on the chart). */
  threshold?: number;
  /** Seconds between measurements. */
  intervalSeconds: number;
  /** Measurements to take per analysis (absent: until the canary ends). */
  count?: number;
  failureLimit: number;
  inconclusiveLimit: number;
  phase: AnalysisPhase;
  /** Counts so far in the current analysis. */
  successful: number;
  failed: number;
  inconclusive: number;
  /** The most recent measurements, oldest first (bounded). */
  measurements: AnalysisMeasurement[];
}

/**
 * The analysis of a rollout in flight.
 * @public
 */
export interface AnalysisView {
  /** The analysis' name (the ConfigMap that declares it, or Argo's AnalysisRun). */
  name?: string;
  phase: AnalysisPhase;
  /** Human-readable reason for the phase (for example which metric failed and at what value). */
  message?: string;
  /** The portal engine's metrics; Argo-driven rollouts report only phase and message. */
  metrics?: AnalysisMetricView[];
}

/** @public */
export type RolloutController = 'rollouts-engine' | 'argo-rollouts';

/** @public */
export interface RolloutHistoryEvent {
  id: string;
  entityRef: string;
  cluster: string;
  namespace: string;
  workload: string;
  /** `start`, an action, or an engine event (`step`, `health-gate-abort`, `completed`, `degraded`). */
  action: string;
  /** `user:default/guest`, or `system` for the engine. */
  actor: string;
  reason?: string;
  outcome: 'succeeded' | 'denied' | 'failed';
  message?: string;
  stepIndex?: number;
  revision?: number;
  image?: string;
  createdAt: string;
  /**
   * Repeated denials of one actor on one target are one row: how many there were, and when the
   * last one came (`createdAt` is the first).
   */
  count?: number;
  lastAt?: string;
}

/** @public */
export interface RolloutsListResponse {
  items: RolloutView[];
}

/** @public */
export interface RolloutHistoryResponse {
  items: RolloutHistoryEvent[];
}
