import type { Entity } from '@backstage/catalog-model';
import type {
  AnalysisMeasurement,
  AnalysisMetricView,
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';

export const paymentsApi: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments-api',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'payments-api' },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-payments' },
};

export const unannotated: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'legacy-batch', namespace: 'default' },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-payments' },
};

/** The entity the fixtures' workloads are bound to on the cluster side. */
const BOUND_ENTITY = 'component:default/payments-api';

const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * 60_000).toISOString();

/** A canary paused at its second step (20%), waiting for a promote. */
export function pausedCanary(
  overrides: Partial<RolloutView> = {},
): RolloutView {
  return {
    cluster: 'local',
    namespace: 'payments',
    workload: 'payments-api',
    strategy: 'Canary',
    phase: 'Paused',
    message: 'Waiting for a promote at 20% traffic',
    step: { index: 1, total: 5 },
    steps: [
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: { duration: '60s' } },
      { setWeight: 100 },
    ],
    weight: { desired: 20, actual: 20, method: 'replica-ratio' },
    revisions: [
      {
        revision: 3,
        image: 'ghcr.io/acme/payments-api:1.3.0',
        role: 'stable',
        replicas: 4,
        ready: 4,
      },
      {
        revision: 4,
        image: 'ghcr.io/acme/payments-api:1.4.0',
        role: 'canary',
        replicas: 1,
        ready: 1,
      },
      {
        revision: 2,
        image: 'ghcr.io/acme/payments-api:1.2.0',
        role: 'old',
        replicas: 0,
        ready: 0,
      },
    ],
    stableImage: 'ghcr.io/acme/payments-api:1.3.0',
    targetImage: 'ghcr.io/acme/payments-api:1.4.0',
    pause: {
      reason: 'Canary step 2 waits for a promote',
      since: minutesAgo(5),
    },
    revision: 4,
    binding: { status: 'bound', entityRefs: [BOUND_ENTITY] },
    allowedActions: [
      'promote',
      'promote-full',
      'abort',
      'rollback',
      'restart',
      'start',
    ],
    updatedAt: minutesAgo(1),
    ...overrides,
  };
}

/** A blue-green rollout whose preview is ready and waits for promotion. */
export function blueGreenAwaitingPromotion(): RolloutView {
  return {
    cluster: 'staging',
    namespace: 'payments',
    workload: 'payments-web',
    strategy: 'BlueGreen',
    phase: 'Paused',
    message: 'Preview is ready; promote to switch the active service',
    step: { index: 1, total: 3 },
    steps: [],
    weight: { desired: 0, actual: 0, method: 'service-switch' },
    revisions: [
      {
        revision: 7,
        image: 'ghcr.io/acme/payments-web:2.0.0',
        role: 'active',
        replicas: 3,
        ready: 3,
      },
      {
        revision: 8,
        image: 'ghcr.io/acme/payments-web:2.1.0',
        role: 'preview',
        replicas: 3,
        ready: 3,
      },
    ],
    stableImage: 'ghcr.io/acme/payments-web:2.0.0',
    targetImage: 'ghcr.io/acme/payments-web:2.1.0',
    pause: { reason: 'Awaiting promotion', since: minutesAgo(12) },
    revision: 8,
    binding: { status: 'bound', entityRefs: [BOUND_ENTITY] },
    allowedActions: ['promote', 'abort', 'restart', 'start'],
    updatedAt: minutesAgo(2),
  };
}

/** A rolling update half-way through replacing pods. */
export function progressingRollingUpdate(): RolloutView {
  return {
    cluster: 'local',
    namespace: 'payments',
    workload: 'payments-worker',
    strategy: 'RollingUpdate',
    phase: 'Progressing',
    message: '2 of 4 pods updated',
    step: { index: 0, total: 1 },
    steps: [],
    weight: { desired: 100, actual: 50, method: 'rolling' },
    revisions: [
      {
        revision: 5,
        image: 'ghcr.io/acme/payments-worker:0.9.0',
        role: 'stable',
        replicas: 2,
        ready: 2,
      },
      {
        revision: 6,
        image: 'ghcr.io/acme/payments-worker:1.0.0',
        role: 'canary',
        replicas: 2,
        ready: 2,
      },
    ],
    stableImage: 'ghcr.io/acme/payments-worker:0.9.0',
    targetImage: 'ghcr.io/acme/payments-worker:1.0.0',
    revision: 6,
    binding: { status: 'bound', entityRefs: [BOUND_ENTITY] },
    allowedActions: ['pause', 'abort', 'restart'],
    updatedAt: minutesAgo(0),
  };
}

/** A canary whose new pods crash-loop. */
export function degradedCanary(): RolloutView {
  return pausedCanary({
    phase: 'Degraded',
    message:
      'Canary pods are crash-looping (ghcr.io/acme/payments-api:1.5.0-broken)',
    step: { index: 0, total: 5 },
    weight: { desired: 20, actual: 0, method: 'replica-ratio' },
    targetImage: 'ghcr.io/acme/payments-api:1.5.0-broken',
    pause: undefined,
    revision: 5,
    binding: { status: 'bound', entityRefs: [BOUND_ENTITY] },
    allowedActions: ['abort', 'rollback', 'restart', 'start'],
  });
}

export function historyOf(rollout: RolloutView): RolloutHistoryEvent[] {
  return [
    {
      id: 'h1',
      entityRef: 'component:default/payments-api',
      cluster: rollout.cluster,
      namespace: rollout.namespace,
      workload: rollout.workload,
      action: 'start',
      actor: 'user:default/alice',
      reason: 'Ship the new fraud rules',
      outcome: 'succeeded',
      revision: rollout.revision,
      image: rollout.targetImage,
      createdAt: minutesAgo(30),
    },
    {
      id: 'h2',
      entityRef: 'component:default/payments-api',
      cluster: rollout.cluster,
      namespace: rollout.namespace,
      workload: rollout.workload,
      action: 'promote',
      actor: 'user:default/bob',
      reason: 'Try to skip the canary',
      outcome: 'denied',
      stepIndex: 1,
      createdAt: minutesAgo(10),
    },
  ];
}

/**
 * A component whose author claims another team's workload (its kubernetes-id and namespace point
 * at search-indexer), as anyone who can register an entity could.
 */
export const evilClaim: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'evil-claim',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'search-indexer',
      'backstage.io/kubernetes-namespace': 'search',
    },
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'user:guest' },
};

/** search-indexer as evil-claim's page sees it: the cluster binds it to its own entity. */
export function boundElsewhere(): RolloutView {
  return {
    cluster: 'local',
    namespace: 'search',
    workload: 'search-indexer',
    strategy: 'RollingUpdate',
    phase: 'Healthy',
    message: '',
    step: { index: 1, total: 1 },
    steps: [],
    weight: { desired: 100, actual: 100, method: 'rolling' },
    revisions: [
      {
        revision: 2,
        image: 'ghcr.io/acme/search-indexer:0.9.0',
        role: 'stable',
        replicas: 2,
        ready: 2,
      },
    ],
    stableImage: 'ghcr.io/acme/search-indexer:0.9.0',
    revision: 2,
    binding: {
      status: 'elsewhere',
      entityRefs: ['component:default/search-indexer'],
      message:
        "Workload search/search-indexer belongs to component:default/search-indexer, not to component:default/evil-claim: only its own entity's owners may act on it",
    },
    allowedActions: [],
    updatedAt: minutesAgo(1),
  };
}

/** payments-api before anyone annotated it: the cluster names no entity for it. */
export function unboundCanary(): RolloutView {
  return pausedCanary({
    binding: {
      status: 'unbound',
      entityRefs: [],
      message:
        'Workload payments/payments-api does not name the entity it belongs to (annotation rollouts.backstage.io/entity on the Deployment or its namespace), so it is read-only in the portal',
    },
    allowedActions: [],
  });
}

/** payments-api named by its Deployment and disowned by its namespace. */
export function contestedCanary(): RolloutView {
  return pausedCanary({
    binding: {
      status: 'contested',
      entityRefs: ['component:default/payments-api'],
      message:
        'Workload payments/payments-api names component:default/payments-api, but its namespace holds only the workloads of component:default/billing',
    },
    allowedActions: [],
  });
}

/** Twelve denied promotes by one actor, collapsed by the backend into one row. */
export function repeatedDenials(rollout: RolloutView): RolloutHistoryEvent {
  return {
    id: 'h3',
    entityRef: 'component:default/payments-api',
    cluster: rollout.cluster,
    namespace: rollout.namespace,
    workload: rollout.workload,
    action: 'promote',
    actor: 'user:default/mallory',
    reason: 'let me in',
    outcome: 'denied',
    message:
      'user:default/mallory may not promote rollouts of component:default/payments-api',
    stepIndex: 1,
    createdAt: minutesAgo(180),
    count: 12,
    lastAt: minutesAgo(2),
  };
}

/** An Argo Rollouts canary fully promoting: abort is not offered (Argo would ignore it). */
export function argoCanaryPromotingFull(
  overrides: Partial<RolloutView> = {},
): RolloutView {
  return pausedCanary({
    workload: 'payments-api',
    controller: 'argo-rollouts',
    phase: 'Progressing',
    message: 'more replicas need to be updated',
    pause: undefined,
    weight: { desired: 100, actual: 40, method: 'traffic-router' },
    warning:
      'A full promotion is under way: Argo Rollouts ignores an abort until it completes (argo-rollouts#4461); roll back afterwards instead',
    allowedActions: ['promote', 'promote-full', 'rollback'],
    ...overrides,
  });
}

/** A canary between steps: the engine is scaling the canary up to 50% on its own. */
export function progressingCanary(): RolloutView {
  return pausedCanary({
    phase: 'Progressing',
    message: 'Scaling the canary to 50%',
    step: { index: 2, total: 5 },
    weight: { desired: 50, actual: 20, method: 'replica-ratio' },
    pause: undefined,
    allowedActions: ['pause', 'abort', 'promote-full', 'restart'],
  });
}

/** A canary the engine's health gate aborted: traffic is back on stable, the canary kept for a look. */
export function healthGateAborted(): RolloutView {
  return pausedCanary({
    phase: 'Aborted',
    message: 'Health gate: 1 canary pod(s) crash-looping for over 120s',
    step: { index: 0, total: 5 },
    weight: { desired: 0, actual: 0, method: 'replica-ratio' },
    targetImage: 'ghcr.io/acme/payments-api:1.5.0-broken',
    pause: undefined,
    revision: 5,
    allowedActions: ['retry', 'rollback', 'restart', 'start'],
  });
}

/** Measurements every 30 s up to `minutesAgo(0)`, oldest first, from canary/stable value pairs. */
function measurements(
  values: Array<
    [number | undefined, number | undefined, AnalysisMeasurement['phase']]
  >,
  message?: (canary: number | undefined) => string,
): AnalysisMeasurement[] {
  return values.map(([canary, stable, phase], i) => ({
    at: minutesAgo((values.length - 1 - i) / 2),
    stepIndex: 0,
    canary,
    stable,
    phase,
    ...(message ? { message: message(canary) } : {}),
  }));
}

/** The template's two metrics: the 5xx share and the p99 latency. */
export function errorRatioMetric(
  overrides: Partial<AnalysisMetricView> = {},
): AnalysisMetricView {
  return {
    name: 'error-ratio',
    successCondition: 'result < 0.01',
    failureCondition: 'result >= 0.05',
    threshold: 0.01,
    intervalSeconds: 30,
    failureLimit: 1,
    inconclusiveLimit: 0,
    phase: 'Running',
    successful: 3,
    failed: 0,
    inconclusive: 0,
    measurements: measurements([
      [0.002, 0.001, 'Successful'],
      [0.004, 0.002, 'Successful'],
      [0.003, 0.001, 'Successful'],
    ]),
    ...overrides,
  };
}

export function latencyMetric(
  overrides: Partial<AnalysisMetricView> = {},
): AnalysisMetricView {
  return {
    name: 'latency-p99',
    successCondition: 'result < 0.5',
    threshold: 0.5,
    intervalSeconds: 30,
    failureLimit: 1,
    inconclusiveLimit: 0,
    phase: 'Running',
    successful: 3,
    failed: 0,
    inconclusive: 0,
    measurements: measurements([
      [0.21, 0.19, 'Successful'],
      [0.24, 0.2, 'Successful'],
      [0.22, 0.18, 'Successful'],
    ]),
    ...overrides,
  };
}

/** A canary at 20% whose analysis is running, every measurement passing so far. */
export function canaryWithAnalysis(
  overrides: Partial<RolloutView> = {},
): RolloutView {
  return pausedCanary({
    phase: 'Progressing',
    message: 'Canary at 20%: analysis running',
    step: { index: 0, total: 5 },
    pause: undefined,
    analysis: {
      name: 'payments-api-analysis',
      phase: 'Running',
      message: '2 metrics measured every 30s',
      metrics: [errorRatioMetric(), latencyMetric()],
    },
    ...overrides,
  });
}

/** The canary answered 6% errors twice: past the failure limit of 1, aborted. */
export function canaryFailedAnalysis(): RolloutView {
  return canaryWithAnalysis({
    phase: 'Aborted',
    message: 'Aborted by analysis: error-ratio failed',
    weight: { desired: 0, actual: 0, method: 'replica-ratio' },
    allowedActions: ['retry', 'rollback', 'restart', 'start'],
    analysis: {
      name: 'payments-api-analysis',
      phase: 'Failed',
      message: 'error-ratio failed 2 times (limit 1): 0.062 >= 0.05',
      metrics: [
        errorRatioMetric({
          phase: 'Failed',
          successful: 1,
          failed: 2,
          measurements: measurements(
            [
              [0.003, 0.001, 'Successful'],
              [0.058, 0.001, 'Failed'],
              [0.062, 0.002, 'Failed'],
            ],
            canary => `result = ${canary}`,
          ),
        }),
        latencyMetric({ phase: 'Successful' }),
      ],
    },
  });
}

/** Prometheus answered nothing for the canary: inconclusive, paused for a person. */
export function canaryInconclusiveAnalysis(): RolloutView {
  return canaryWithAnalysis({
    phase: 'Paused',
    message: 'Analysis inconclusive: paused',
    pause: {
      reason:
        'Analysis inconclusive: error-ratio returned no data for the canary (1 inconclusive, limit 0)',
      since: minutesAgo(1),
    },
    allowedActions: ['promote', 'abort', 'rollback', 'restart', 'start'],
    analysis: {
      name: 'payments-api-analysis',
      phase: 'Inconclusive',
      message: 'error-ratio is inconclusive',
      metrics: [
        errorRatioMetric({
          phase: 'Inconclusive',
          successful: 1,
          inconclusive: 1,
          measurements: [
            ...measurements([[0.002, 0.001, 'Successful']]).map(m => ({
              ...m,
              at: minutesAgo(0.5),
            })),
            {
              at: minutesAgo(0),
              stepIndex: 0,
              phase: 'Inconclusive',
              stable: 0.001,
              message: 'empty result',
            },
          ],
        }),
        latencyMetric(),
      ],
    },
  });
}

/** The engine's analysis events: one measurement and the abort it caused. */
export function analysisHistory(rollout: RolloutView): RolloutHistoryEvent[] {
  const base = {
    entityRef: 'component:default/payments-api',
    cluster: rollout.cluster,
    namespace: rollout.namespace,
    workload: rollout.workload,
    actor: 'system',
    stepIndex: 0,
  };
  return [
    {
      ...base,
      id: 'a1',
      action: 'analysis',
      outcome: 'failed',
      message: 'error-ratio: canary 0.062, stable 0.002: Failed',
      createdAt: minutesAgo(1),
    },
    {
      ...base,
      id: 'a2',
      action: 'analysis-abort',
      outcome: 'succeeded',
      message: 'error-ratio failed 2 times (limit 1): 0.062 >= 0.05',
      createdAt: minutesAgo(0.5),
    },
  ];
}
