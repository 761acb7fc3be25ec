import { SignInPage } from '@backstage/core-components';
import { configApiRef, useApi } from '@backstage/core-plugin-api';
import { createFrontendModule } from '@backstage/frontend-plugin-api';
import {
  SignInPageBlueprint,
  type SignInPageProps,
} from '@backstage/plugin-app-react';
import { oidcAuthApi } from './oidcAuthApi';
import { signInProvidersFor } from './signInProviders';

/**
 * In development, guest sign-in against the backend's guest provider, at once, so every request
 * carries a real Backstage token for user:default/guest. In production, GitHub or OIDC; the
 * backend's resolvers admit only users of the catalog.
 */
export function PortalSignInPage(props: SignInPageProps) {
  const environment =
    useApi(configApiRef).getOptionalString('auth.environment');
  const providers = signInProvidersFor(environment);
  return (
    <SignInPage
      {...props}
      auto={providers.length === 1 && providers[0] === 'guest'}
      providers={providers}
    />
  );
}

const signInPage = SignInPageBlueprint.make({
  params: {
    loader: async () => PortalSignInPage,
  },
});

export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [signInPage, oidcAuthApi],
});
