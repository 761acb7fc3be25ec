import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parseAllDocuments } from 'yaml';
import { loadConfigSchema } from '@backstage/config-loader';
import {
  REPO_ROOT,
  requiredProductionEnv,
} from './__testUtils__/productionConfig';

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema | Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};

/** Whether a JSON schema declares the value at `path` (array indices walk into `items`). */
function declares(schema: Schema | undefined, path: string[]): boolean {
  if (!schema) return false;
  if (path.length === 0) return true;
  const branches = [
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
    ...(schema.allOf ?? []),
  ];
  if (branches.some(branch => declares(branch, path))) return true;
  const [key, ...rest] = path;
  if (/^\d+$/.test(key) && schema.items) {
    const items = Array.isArray(schema.items) ? schema.items : [schema.items];
    return items.some(item => declares(item, rest));
  }
  if (schema.properties?.[key]) return declares(schema.properties[key], rest);
  return (
    typeof schema.additionalProperties === 'object' &&
    declares(schema.additionalProperties, rest)
  );
}

/** The path of every leaf value. */
function leaves(value: unknown, path: string[] = []): string[][] {
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) =>
      leaves(child, [...path, key]),
    );
  }
  return [path];
}

/** The keys of each `kubectl create secret generic NAME` command of the page (continued lines). */
function documentedSecretKeys(markdown: string): Map<string, string[]> {
  const secrets = new Map<string, string[]>();
  const lines = markdown.split('\n');
  lines.forEach((line, i) => {
    const name = line.match(/^kubectl create secret generic ([\w-]+)/)?.[1];
    if (!name) return;
    const keys: string[] = [];
    for (let j = i; j < lines.length; j++) {
      for (const m of lines[j].matchAll(/--from-(?:literal|file)=(\w+)=/g)) {
        keys.push(m[1]);
      }
      if (!lines[j].trimEnd().endsWith('\\')) break;
    }
    secrets.set(name, keys);
  });
  return secrets;
}

const valuesText = readFileSync(
  resolve(REPO_ROOT, 'deploy/helm/values.yaml'),
  'utf8',
);
const page = readFileSync(resolve(REPO_ROOT, 'docs/deploying.md'), 'utf8');

describe('deploy/helm/values.yaml', () => {
  const documents = parseAllDocuments(valuesText);
  const values = (documents as any)[0]?.toJS?.() ?? {};

  it('is one YAML document without errors', () => {
    expect(documents).toHaveLength(1);
    expect((documents as any)[0].errors).toEqual([]);
    expect(values.backstage.image.repository).toBeTruthy();
  });

  it('sets only config keys that some package of the portal declares in its schema', async () => {
    const schema = await loadConfigSchema({
      dependencies: ['backend', 'app'],
      packagePaths: [resolve(REPO_ROOT, 'package.json')],
    });
    const { schemas } = schema.serialize() as unknown as {
      schemas: Array<{ path: string; value: Schema }>;
    };
    expect(schemas.length).toBeGreaterThan(10);
    const paths = leaves(values.backstage.appConfig);
    expect(paths.length).toBeGreaterThan(0);
    const undeclared = paths
      .filter(path => !schemas.some(s => declares(s.value, path)))
      .map(path => path.join('.'));
    expect(undeclared).toEqual([]);
    // The walk can fail: a key no package declares is reported.
    expect(schemas.some(s => declares(s.value, ['catalog', 'locationz']))).toBe(
      false,
    );
  });

  it('passes the config files to the backend (the chart would otherwise drop the CMD)', () => {
    expect(values.backstage.args).toEqual([
      '--config',
      'app-config.yaml',
      '--config',
      'app-config.production.yaml',
    ]);
  });

  it('provides every variable app-config.production.yaml requires, from values or a documented Secret', () => {
    const fromValues: string[] = values.backstage.extraEnvVars.map(
      (e: { name: string }) => e.name,
    );
    // The chart sets these itself when its PostgreSQL is enabled.
    const fromChart = values.postgresql.enabled
      ? ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_PASSWORD']
      : [];
    const secretKeys = documentedSecretKeys(page);
    const secrets: string[] = values.backstage.extraEnvVarsSecrets;
    expect(secrets.filter(name => !secretKeys.has(name))).toEqual([]);
    const fromSecrets = secrets.flatMap(name => secretKeys.get(name) ?? []);
    const provided = new Set([...fromValues, ...fromChart, ...fromSecrets]);
    expect(requiredProductionEnv().filter(name => !provided.has(name))).toEqual(
      [],
    );
    // Secrets stay secrets: no credential is a plain value of the chart.
    expect(
      fromValues.filter(name => /SECRET|TOKEN|PASSWORD|CA_DATA/.test(name)),
    ).toEqual([]);
  });
});
