import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
} from '@backstage/plugin-auth-node';

/** The header the app's sign-in page sends with the chosen demo user's name. */
export const DEMO_USER_HEADER = 'x-demo-user';

/**
 * `demo`: sign in as one of the demo organisation's users named in `auth.providers.demo.users`
 * (examples/org.yaml), so one person can play two owners on the local portal, as the four-eyes
 * approval needs. Like the guest provider it is for development only: outside
 * `NODE_ENV=development` every sign-in is refused, and a name outside the list is refused.
 */
const demoUserAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async (result: { user: string }) => ({
    profile: { displayName: result.user },
  }),
  initialize({ config }) {
    return {
      enabled: process.env.NODE_ENV === 'development',
      users: config.getOptionalStringArray('users') ?? [],
    };
  },
  async authenticate({ req }, { enabled, users }) {
    if (!enabled) {
      throw new NotAllowedError(
        'The demo users provider signs in only in a development environment',
      );
    }
    const user = req.header(DEMO_USER_HEADER) ?? '';
    if (!users.includes(user)) {
      throw new NotAllowedError(
        `"${user}" is not one of the demo users (auth.providers.demo.users)`,
      );
    }
    return { result: { user } };
  },
});

export default createBackendModule({
  pluginId: 'auth',
  moduleId: 'demo-users',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers, config }) {
        if (!config.has('auth.providers.demo')) return;
        providers.registerProvider({
          providerId: 'demo',
          factory: createProxyAuthProviderFactory({
            authenticator: demoUserAuthenticator,
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: { name: result.user } }),
          }),
        });
      },
    });
  },
});
