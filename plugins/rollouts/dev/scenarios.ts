import type { Entity } from '@backstage/catalog-model';
import type {
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import type { RolloutsApi } from '../src/api';
import { backendError } from '../src/testing/backendError';
import {
  argoCanaryPromotingFull,
  blueGreenAwaitingPromotion,
  boundElsewhere,
  contestedCanary,
  degradedCanary,
  evilClaim,
  healthGateAborted,
  historyOf,
  pausedCanary,
  paymentsApi,
  progressingCanary,
  progressingRollingUpdate,
  repeatedDenials,
  unannotated,
  unboundCanary,
} from '../src/testing/fixtures';

/** One state a rollouts card (and the Deployment tab) can be in, with the backend that causes it. */
export interface RolloutsDevScenario {
  id: string;
  title: string;
  /** What a reviewer should see, in a sentence. */
  description: string;
  entity: Entity;
  api: RolloutsApi;
}

/** A backend whose views never change; actions succeed unless `refuse` says how they fail. */
function fixedBackend(options: {
  rollouts: () => Promise<RolloutView[]>;
  history?: RolloutHistoryEvent[];
  refuse?: () => Promise<Error>;
}): RolloutsApi {
  const act = async () => {
    if (options.refuse) {
      throw await options.refuse();
    }
  };
  return {
    getRollouts: () => options.rollouts(),
    getHistory: async () => options.history ?? [],
    startRollout: act,
    runAction: act,
    // The dev app shows the card's states, not the four-eyes flow: no approval requests.
    getApprovals: async () => [],
    approve: async () => {
      throw new Error('The dev app has no approval requests to decide');
    },
    deny: async () => {
      throw new Error('The dev app has no approval requests to decide');
    },
    // Nor a release pipeline: its states are in the ReleasePipeline tests.
    getPipeline: async () => ({ entityRef: '', source: 'config', stages: [] }),
    promoteRelease: act,
  };
}

function showing(...rollouts: RolloutView[]) {
  return fixedBackend({
    rollouts: async () => rollouts,
    history: rollouts.flatMap(historyOf),
  });
}

/** Every state, in the order the dev app lists them. */
export const rolloutsDevScenarios: RolloutsDevScenario[] = [
  {
    id: 'no-annotation',
    title: 'No kubernetes-id annotation',
    description:
      'The entity has no backstage.io/kubernetes-id: the card says which annotation to add and never calls the backend.',
    entity: unannotated,
    api: fixedBackend({
      rollouts: () =>
        Promise.reject(
          new Error(
            'the card called the backend for an entity without workloads',
          ),
        ),
    }),
  },
  {
    id: 'loading',
    title: 'Loading',
    description: 'The backend has not answered yet.',
    entity: paymentsApi,
    api: fixedBackend({ rollouts: () => new Promise(() => {}) }),
  },
  {
    id: 'error',
    title: 'Error loading',
    description:
      "The backend answered 503: the card shows the server's message.",
    entity: paymentsApi,
    api: fixedBackend({
      rollouts: () =>
        backendError(
          503,
          'ServiceUnavailableError',
          'Cluster local is unreachable: connect ECONNREFUSED 127.0.0.1:6550',
        ).then(error => Promise.reject(error)),
    }),
  },
  {
    id: 'no-workloads',
    title: 'No workloads found',
    description:
      'The entity is annotated but no cluster has a Deployment labelled for it.',
    entity: paymentsApi,
    api: showing(),
  },
  {
    id: 'progressing-canary',
    title: 'Progressing canary',
    description: 'A canary moving from 20% to 50% on its own.',
    entity: paymentsApi,
    api: showing(progressingCanary()),
  },
  {
    id: 'progressing-rolling',
    title: 'Progressing rolling update',
    description: 'A rolling update half-way through replacing pods.',
    entity: paymentsApi,
    api: showing(progressingRollingUpdate()),
  },
  {
    id: 'paused',
    title: 'Paused canary',
    description: 'A canary at 20% waiting for a promote.',
    entity: paymentsApi,
    api: showing(pausedCanary()),
  },
  {
    id: 'degraded',
    title: 'Degraded canary',
    description: 'The new pods crash-loop; the health gate has not fired yet.',
    entity: paymentsApi,
    api: showing(degradedCanary()),
  },
  {
    id: 'health-gate-abort',
    title: 'Aborted by the health gate',
    description:
      "The engine's health gate aborted the canary: traffic is back on stable.",
    entity: paymentsApi,
    api: showing(healthGateAborted()),
  },
  {
    id: 'blue-green',
    title: 'Blue-green awaiting promotion',
    description: 'The preview is ready; promote switches the active service.',
    entity: paymentsApi,
    api: showing(blueGreenAwaitingPromotion()),
  },
  {
    id: 'argo',
    title: 'Argo Rollouts',
    description:
      'An Argo-driven canary fully promoting: abort is not offered while Argo would ignore it.',
    entity: paymentsApi,
    api: showing(argoCanaryPromotingFull()),
  },
  {
    id: 'several-clusters',
    title: 'Two clusters',
    description: 'The same entity on two clusters: one card section each.',
    entity: paymentsApi,
    api: showing(pausedCanary(), blueGreenAwaitingPromotion()),
  },
  {
    id: 'unbound',
    title: 'Workload not bound',
    description:
      'The Deployment names no entity (rollouts.backstage.io/entity): read-only, with the reason.',
    entity: paymentsApi,
    api: showing(unboundCanary()),
  },
  {
    id: 'bound-elsewhere',
    title: 'Workload bound elsewhere',
    description:
      "An entity claims another team's workload: the cluster binds it to its own entity, so read-only here.",
    entity: evilClaim,
    api: showing(boundElsewhere()),
  },
  {
    id: 'contested',
    title: 'Contested binding',
    description:
      'The Deployment and its namespace name different entities: read-only until they agree.',
    entity: paymentsApi,
    api: showing(contestedCanary()),
  },
  {
    id: 'not-an-owner',
    title: 'Not an owner',
    description:
      'The signed-in user may read but not act: every action is disabled with the reason.',
    entity: paymentsApi,
    api: showing(pausedCanary({ allowedActions: [] })),
  },
  {
    id: 'forbidden',
    title: 'Action forbidden (403)',
    description:
      'The view offers promote, but the server refuses the action with 403 (permissions changed since the page loaded).',
    entity: paymentsApi,
    api: fixedBackend({
      rollouts: async () => [pausedCanary()],
      history: [...historyOf(pausedCanary()), repeatedDenials(pausedCanary())],
      refuse: () =>
        backendError(
          403,
          'NotAllowedError',
          'user:default/guest may not promote rollouts of component:default/payments-api',
        ),
    }),
  },
];
