import { readFileSync } from 'fs';
import { resolve } from 'path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ConfigSources } from '@backstage/config-loader';
import type { Config } from '@backstage/config';

/** The repository root, where the app-config files live. */
export const REPO_ROOT = resolve(resolvePackagePath('backend'), '../..');

/** The files the backend image runs with, in the order of its CMD (later wins). */
export const PRODUCTION_CONFIG_FILES = [
  'app-config.yaml',
  'app-config.production.yaml',
];

/**
 * The environment variables app-config.production.yaml requires: every `${NAME}` without a
 * `:-default`. The deployment page and the checks derive their lists from here.
 */
export function requiredProductionEnv(): string[] {
  const text = readFileSync(
    resolve(REPO_ROOT, 'app-config.production.yaml'),
    'utf8',
  );
  const names = new Set<string>();
  for (const match of text.matchAll(/\$\{([A-Z0-9_]+)\}/g)) {
    names.add(match[1]);
  }
  return [...names].sort();
}

/** The merged production config as the backend reads it, with `env` for the substitutions. */
export async function loadProductionConfig(
  env: Record<string, string>,
): Promise<Config & { close(): void }> {
  const source = ConfigSources.default({
    rootDir: REPO_ROOT,
    argv: PRODUCTION_CONFIG_FILES.flatMap(file => [
      '--config',
      resolve(REPO_ROOT, file),
    ]),
    env: {},
    substitutionFunc: async name => env[name],
  });
  return ConfigSources.toConfig(source);
}
