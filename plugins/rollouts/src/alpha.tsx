import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import type { Entity } from '@backstage/catalog-model';
// Everything imported here lands in the app's initial chunk (`app.packages: all` puts this module in
// the entry): only the API ref, the stand-in client and the filter; the rest loads on demand.
import { rolloutsApiRef } from './api/RolloutsApi';
import {
  lazyRolloutsClient,
  preloadRolloutsClient,
} from './api/lazyRolloutsClient';
import { isRolloutsAvailable } from './isRolloutsAvailable';

/** Components whose workloads the Kubernetes plugin can find. */
function isComponentWithWorkloads(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'component' &&
    isRolloutsAvailable(entity)
  );
}

/** @alpha */
export const rolloutsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: rolloutsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        lazyRolloutsClient({ discoveryApi, fetchApi }),
    }),
});

/** The overview card; the component loads on demand, outside the app's initial chunk. @alpha */
export const entityRolloutCard = EntityCardBlueprint.make({
  name: 'rollouts',
  params: {
    filter: isComponentWithWorkloads,
    loader: async () => {
      preloadRolloutsClient();
      const m = await import('./components/EntityRolloutCard');
      return <m.EntityRolloutCard />;
    },
  },
});

/** The Deployment tab, grouped with the Kubernetes plugin's tab. @alpha */
export const entityRolloutsContent = EntityContentBlueprint.make({
  name: 'deployment',
  params: {
    path: '/deployment',
    title: 'Deployment',
    group: 'deployment',
    filter: isComponentWithWorkloads,
    loader: async () => {
      preloadRolloutsClient();
      const m = await import('./components/EntityRolloutsContent');
      return <m.EntityRolloutsContent />;
    },
  },
});

/**
 * The rollouts plugin for apps on the new frontend system.
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'rollouts',
  title: 'Rollouts',
  extensions: [rolloutsApi, entityRolloutCard, entityRolloutsContent],
});
