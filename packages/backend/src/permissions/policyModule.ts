import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { RolloutsPermissionPolicy } from './RolloutsPermissionPolicy';

/** Installs the portal's permission policy into the permission backend. */
export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'rollouts-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        userInfo: coreServices.userInfo,
        config: coreServices.rootConfig,
      },
      async init({ policy, userInfo, config }) {
        policy.setPolicy(RolloutsPermissionPolicy.fromConfig(config, userInfo));
      },
    });
  },
});
