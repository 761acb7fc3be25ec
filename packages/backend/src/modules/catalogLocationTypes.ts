import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogLocationsExtensionPoint } from '@backstage/plugin-catalog-node';

/**
 * Which location types may be registered through the catalog API, from `catalog.allowedLocationTypes`
 * (default `[url]`, the catalog's own default). `make start` adds `file`, so the Rust template's local
 * target can register the services it writes to this machine.
 */
export default createBackendModule({
  pluginId: 'catalog',
  moduleId: 'location-types',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        locations: catalogLocationsExtensionPoint,
      },
      async init({ config, locations }) {
        locations.setAllowedLocationTypes(
          config.getOptionalStringArray('catalog.allowedLocationTypes') ?? [
            'url',
          ],
        );
      },
    });
  },
});
