import type { SignInProviderConfig } from '@backstage/core-components';
import { githubAuthApiRef } from '@backstage/core-plugin-api';
import { oidcAuthApiRef } from './oidcAuthApi';

export const githubProvider: SignInProviderConfig = {
  id: 'github-auth-provider',
  title: 'GitHub',
  message: 'Sign in with your GitHub account',
  apiRef: githubAuthApiRef,
};

export const oidcProvider: SignInProviderConfig = {
  id: 'oidc-auth-provider',
  title: 'Single sign-on',
  message: "Sign in with your organisation's identity provider (OIDC)",
  apiRef: oidcAuthApiRef,
};

/**
 * What the sign-in page offers for the backend's `auth.environment`: guest sign-in only in
 * development (app-config.yaml is the only file that configures it), the real providers elsewhere.
 */
export function signInProvidersFor(
  environment: string | undefined,
): Array<'guest' | SignInProviderConfig> {
  return (environment ?? 'development') === 'development'
    ? ['guest']
    : [githubProvider, oidcProvider];
}
