import { requiredProductionEnv } from './productionConfig';

/**
 * A value for every variable app-config.production.yaml requires, shaped like the real ones.
 * Every URL is loopback or never connected to: the checks must not leave this machine.
 */
export function dummyProductionEnv(
  overrides: Record<string, string> = {},
): Record<string, string> {
  const shaped: Record<string, string> = {
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: '5432',
    AUTH_OIDC_METADATA_URL:
      'http://127.0.0.1:9/.well-known/openid-configuration',
    K8S_CLUSTER_URL: 'https://127.0.0.1:6443',
  };
  return Object.fromEntries(
    requiredProductionEnv().map(name => [
      name,
      overrides[name] ??
        shaped[name] ??
        `dummy-${name.toLocaleLowerCase('en-US')}`,
    ]),
  );
}
