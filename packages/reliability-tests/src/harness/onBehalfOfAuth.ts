import {
  AuthService,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';

const SERVICE_TOKEN_PREFIX = 'mock-service-token:';

/**
 * The mock auth service, except that a plugin-to-plugin token issued on behalf of a user
 * authenticates as that user *with a service actor*, as real Backstage tokens do. Without the
 * actor, the permission backend takes the catalog's conditional authorize call for a direct user
 * request and refuses it, so real catalog + real permission backend cannot run together.
 */
export const onBehalfOfAuthFactory = createServiceFactory({
  service: coreServices.auth,
  deps: { pluginMetadata: coreServices.pluginMetadata },
  factory({ pluginMetadata }): AuthService {
    const inner = mockServices.auth({ pluginId: pluginMetadata.getId() });
    return {
      getNoneCredentials: () => inner.getNoneCredentials(),
      getOwnServiceCredentials: () => inner.getOwnServiceCredentials(),
      isPrincipal: inner.isPrincipal.bind(inner) as AuthService['isPrincipal'],
      getPluginRequestToken: o => inner.getPluginRequestToken(o),
      getLimitedUserToken: c => inner.getLimitedUserToken(c),
      listPublicServiceKeys: () => inner.listPublicServiceKeys(),
      async authenticate(token, options) {
        const credentials = await inner.authenticate(token, options);
        const principal = credentials.principal as {
          type: string;
          userEntityRef?: string;
        };
        if (
          principal.type === 'user' &&
          token.startsWith(SERVICE_TOKEN_PREFIX)
        ) {
          return mockCredentials.user(principal.userEntityRef, {
            actor: { subject: 'plugin:on-behalf-of' },
          });
        }
        return credentials;
      },
    };
  },
});
