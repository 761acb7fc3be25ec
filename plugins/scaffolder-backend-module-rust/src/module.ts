import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createCatalogRegisterFileAction } from './actions/catalogRegisterFile';
import { createLocalPublishAction } from './actions/localPublish';
import { createManifestsApplyAction } from './actions/manifestsApply';
import { createManifestsCheckAction } from './actions/manifestsCheck';
import { createManifestsRenderAction } from './actions/manifestsRender';
import { createParamsValidateAction } from './actions/paramsValidate';
import { ClusterApplier } from './clusters/ClusterApplier';
import { LocalTarget } from './local/LocalTarget';

/**
 * The scaffolder actions of the Rust service template.
 *
 * @public
 */
export const scaffolderModuleRust = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'rust',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        config: coreServices.rootConfig,
        catalog: catalogServiceRef,
        auth: coreServices.auth,
        userInfo: coreServices.userInfo,
      },
      async init({ scaffolder, config, catalog, auth, userInfo }) {
        const clusters = ClusterApplier.fromConfig(config);
        const localTarget = LocalTarget.fromConfig(config);
        scaffolder.addActions(
          createParamsValidateAction({ clusters }),
          createManifestsRenderAction(),
          createLocalPublishAction({ localTarget }),
          createCatalogRegisterFileAction({ catalog, localTarget }),
          createManifestsCheckAction({ clusters, catalog, auth, userInfo }),
          createManifestsApplyAction({ clusters }),
        );
      },
    });
  },
});
