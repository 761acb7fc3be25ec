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
import { RolloutsClient, rolloutsApiRef } from './api';
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
        new RolloutsClient({ discoveryApi, fetchApi }),
    }),
});

/** The overview card; the component loads on demand, outside the app's initial chunk. @alpha */
export const entityRolloutCard = EntityCardBlueprint.make({
  name: 'rollouts',
  params: {
    filter: isComponentWithWorkloads,
    loader: async () =>
      import('./components/EntityRolloutCard').then(m => (
        <m.EntityRolloutCard />
      )),
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
    loader: async () =>
      import('./components/EntityRolloutsContent').then(m => (
        <m.EntityRolloutsContent />
      )),
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
