import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { rolloutsApiRef } from './api/RolloutsApi';
import {
  lazyRolloutsClient,
  preloadRolloutsClient,
} from './api/lazyRolloutsClient';
import { rootRouteRef } from './routes';
import type { EntityRolloutCardProps } from './components/EntityRolloutCard';

/**
 * The rollouts plugin for apps on the legacy frontend system.
 * @public
 */
export const rolloutsPlugin = createPlugin({
  id: 'rollouts',
  apis: [
    createApiFactory({
      api: rolloutsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      // A stand-in that loads RolloutsClient on first use: the app's entry imports this module.
      factory: ({ discoveryApi, fetchApi }) =>
        lazyRolloutsClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: {
    root: rootRouteRef,
  },
});

/**
 * The overview card: each rollout's strategy, phase, step, weights and images.
 * @public
 */
export const EntityRolloutCard: (
  props: EntityRolloutCardProps,
) => JSX.Element | null = rolloutsPlugin.provide(
  createComponentExtension({
    name: 'EntityRolloutCard',
    component: {
      lazy: () => {
        preloadRolloutsClient();
        return import('./components/EntityRolloutCard').then(
          m => m.EntityRolloutCard,
        );
      },
    },
  }),
);

/**
 * The Deployment tab: steps, revisions, history and actions per cluster and workload.
 * @public
 */
export const EntityRolloutsContent: () => JSX.Element | null =
  rolloutsPlugin.provide(
    createRoutableExtension({
      name: 'EntityRolloutsContent',
      component: () => {
        preloadRolloutsClient();
        return import('./components/EntityRolloutsContent').then(
          m => m.EntityRolloutsContent,
        );
      },
      mountPoint: rootRouteRef,
    }),
  );
