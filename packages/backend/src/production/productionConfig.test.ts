import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parse } from 'yaml';
import { ConfigSources } from '@backstage/config-loader';
import {
  loadProductionConfig,
  PRODUCTION_CONFIG_FILES,
  REPO_ROOT,
  requiredProductionEnv,
} from './__testUtils__/productionConfig';
import { dummyProductionEnv } from './__testUtils__/dummyProductionEnv';

function configCheck(env: Record<string, string>) {
  const withoutProductionEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !requiredProductionEnv().includes(name),
    ),
  );
  return spawnSync(
    'yarn',
    [
      'backstage-cli',
      'config:check',
      // Without --strict, config:check reports only missing values, not wrong types or keys.
      '--strict',
      ...PRODUCTION_CONFIG_FILES.flatMap(file => ['--config', file]),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...withoutProductionEnv, ...env },
      encoding: 'utf8',
      timeout: 240_000,
    },
  );
}

/** Every key path of a JSON value, with its value. */
function* entries(
  value: unknown,
  path: string[] = [],
): Generator<[string[], unknown]> {
  yield [path, value];
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      yield* entries(child, [...path, key]);
    }
  }
}

const productionYaml = readFileSync(
  resolve(REPO_ROOT, 'app-config.production.yaml'),
  'utf8',
);

describe('app-config.production.yaml', () => {
  it('validates strictly against the config schema of every package, with the environment set', () => {
    const result = configCheck(dummyProductionEnv());
    expect(result.stderr + result.stdout).not.toMatch(/Error/);
    expect(result.status).toBe(0);
  }, 300_000);

  it('fails the schema check when a sign-in secret is not set', () => {
    const { AUTH_GITHUB_CLIENT_ID: _unset, ...env } = dummyProductionEnv();
    const result = configCheck(env);
    expect(result.status).not.toBe(0);
    expect(result.stderr + result.stdout).toMatch(
      /missingProperty=clientId.*\/auth\/providers\/github\/production/,
    );
  }, 300_000);

  it('signs in with GitHub and OIDC only, matching users of the catalog', async () => {
    const config = await loadProductionConfig(dummyProductionEnv());
    try {
      expect(config.getString('auth.environment')).toBe('production');
      expect(config.getConfig('auth.providers').keys().sort()).toEqual([
        'github',
        'oidc',
      ]);
      const resolvers = (provider: string) =>
        config
          .getConfigArray(
            `auth.providers.${provider}.production.signIn.resolvers`,
          )
          .map(r => r.getString('resolver'));
      expect(resolvers('github')).toEqual(['usernameMatchingUserEntityName']);
      expect(resolvers('oidc')).toEqual([
        'emailMatchingUserEntityProfileEmail',
      ]);
      expect(config.getString('auth.session.secret')).toBe(
        dummyProductionEnv().AUTH_SESSION_SECRET,
      );
    } finally {
      config.close();
    }
  });

  it('keeps the guest and demo providers of app-config.yaml out (it is there, so the removal is real)', async () => {
    const development = await ConfigSources.toConfig(
      ConfigSources.default({
        rootDir: REPO_ROOT,
        argv: ['--config', resolve(REPO_ROOT, 'app-config.yaml')],
        env: {},
        substitutionFunc: async () => 'dev-value',
      }),
    );
    const production = await loadProductionConfig(dummyProductionEnv());
    try {
      expect(development.has('auth.providers.guest')).toBe(true);
      expect(production.has('auth.providers.guest')).toBe(false);
      // The development-only demo users (sign in as a second owner for four-eyes approval).
      expect(development.has('auth.providers.demo')).toBe(true);
      expect(production.has('auth.providers.demo')).toBe(false);
    } finally {
      development.close();
      production.close();
    }
  });

  it('opens no dangerous door: no dangerouslyAllow* key, no static token, PostgreSQL', async () => {
    expect(productionYaml).not.toMatch(/dangerously/i);
    const config = await loadProductionConfig(dummyProductionEnv());
    try {
      const dangerous = [...entries(config.get())]
        .map(([path]) => path.join('.'))
        .filter(path => /dangerously/i.test(path));
      expect(dangerous).toEqual([]);
      const externalAccess = config.getConfigArray(
        'backend.auth.externalAccess',
      );
      expect(externalAccess.map(a => a.getString('type'))).toEqual(['jwks']);
      expect(config.getString('backend.database.client')).toBe('pg');
    } finally {
      config.close();
    }
  });

  it('takes every secret from the environment, none written in the file', () => {
    const secretKey = /secret|password|token$|clientid|cadata/i;
    const literal = [...entries(parse(productionYaml))]
      .filter(
        ([path, value]) =>
          typeof value === 'string' &&
          secretKey.test(path[path.length - 1] ?? '') &&
          !/^\$\{[A-Z0-9_]+\}$/.test(value),
      )
      .map(([path]) => path.join('.'));
    expect(literal).toEqual([]);
  });

  it('names every variable it needs on the deployment page', () => {
    const page = readFileSync(resolve(REPO_ROOT, 'docs/deploying.md'), 'utf8');
    const missing = requiredProductionEnv().filter(
      name => !page.includes(name),
    );
    expect(missing).toEqual([]);
  });
});
