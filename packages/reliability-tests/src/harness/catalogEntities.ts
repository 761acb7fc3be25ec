import { createBackendModule } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import {
  EntityProvider,
  EntityProviderConnection,
  catalogProcessingExtensionPoint,
} from '@backstage/plugin-catalog-node';

/**
 * A catalog module that puts fixed entities into the real catalog backend, so the permission
 * backend's conditional decisions (IS_ENTITY_OWNER) are evaluated by the catalog itself.
 */
export function catalogEntitiesModule(entities: Entity[]) {
  const provider: EntityProvider = {
    getProviderName: () => 'reliability-tests',
    async connect(connection: EntityProviderConnection) {
      await connection.applyMutation({
        type: 'full',
        entities: entities.map(entity => ({
          entity: {
            ...entity,
            metadata: {
              ...entity.metadata,
              annotations: {
                'backstage.io/managed-by-location':
                  'url:http://localhost/reliability-tests',
                'backstage.io/managed-by-origin-location':
                  'url:http://localhost/reliability-tests',
                ...entity.metadata.annotations,
              },
            },
          },
          locationKey: 'reliability-tests',
        })),
      });
    },
  };
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'reliability-test-entities',
    register(reg) {
      reg.registerInit({
        deps: { catalog: catalogProcessingExtensionPoint },
        async init({ catalog }) {
          catalog.addEntityProvider(provider);
        },
      });
    },
  });
}

/** A Component owned by `owner` whose workloads carry `backstage.io/kubernetes-id: <name>`. */
export function serviceEntity(
  name: string,
  owner: string,
  namespace = 'default',
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': namespace,
      },
    },
    spec: { type: 'service', lifecycle: 'production', owner },
  };
}

export function userEntity(name: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'default' },
    spec: { memberOf: [] },
  };
}
