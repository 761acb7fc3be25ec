import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleGithub from '@backstage/plugin-scaffolder-backend-module-github';
import scaffolderModuleRust from '@rust-delivery-portal/plugin-scaffolder-backend-module-rust';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';

/** The repository's template folder. */
export const TEMPLATE_DIR = resolvePackagePath(
  '@internal/reliability-tests',
  '../../templates/rust-service',
);

function directoryContents(root: string) {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : [full];
    });
  return walk(root).map(file => ({
    path: path.relative(root, file).split(path.sep).join('/'),
    base64Content: fs.readFileSync(file).toString('base64'),
  }));
}

export interface DryRun {
  status: number;
  /** The error message when the scaffolder refused the values (400) or a step failed. */
  error?: string;
  /** Generated files by path (paths exactly as the scaffolder returned them). */
  files: Map<string, string>;
}

/**
 * The real scaffolder backend with the Rust module, running the real template.yaml and skeleton
 * through the dry-run API: parameters validated against the template's JSON schema, every step
 * run in a temporary workspace (steps without dry-run support are skipped by the scaffolder).
 */
export async function startScaffolder(options: {
  workingDirectory: string;
  localDirectory: string;
}) {
  fs.mkdirSync(options.workingDirectory, { recursive: true });
  const backend = await startTestBackend({
    features: [
      scaffolderPlugin,
      scaffolderModuleGithub,
      scaffolderModuleRust,
      mockServices.rootConfig.factory({
        data: {
          backend: { workingDirectory: options.workingDirectory },
          rustTemplate: { localTarget: { directory: options.localDirectory } },
          integrations: {
            github: [{ host: 'github.com', token: 'dry-run-token-not-used' }],
          },
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [
                  {
                    name: 'local',
                    url: 'http://127.0.0.1:1',
                    authProvider: 'serviceAccount',
                  },
                ],
              },
            ],
          },
        },
      }),
      mockServices.rootLogger.factory({ level: 'none' }),
      catalogServiceMock.factory(),
    ],
  });
  const template = parse(
    fs.readFileSync(path.join(TEMPLATE_DIR, 'template.yaml'), 'utf8'),
  );
  const contents = directoryContents(TEMPLATE_DIR);

  async function dryRun(values: Record<string, unknown>): Promise<DryRun> {
    const response = await request(backend.server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', mockCredentials.user.header())
      .send({ template, values, directoryContents: contents });
    const files = new Map<string, string>();
    for (const file of response.body.directoryContents ?? []) {
      files.set(
        file.path,
        Buffer.from(file.base64Content, 'base64').toString('utf8'),
      );
    }
    const failedStep = (response.body.steps ?? []).find(
      (s: any) => s.status === 'failed',
    );
    const error =
      response.body.error?.message ??
      (failedStep
        ? (response.body.log ?? [])
            .map((e: any) => String(e.body?.message ?? ''))
            .filter((m: string) => /error|invalid|refus/i.test(m))
            .join('\n') || `step ${failedStep.id} failed`
        : undefined);
    return { status: response.status, error, files };
  }

  return { dryRun, stop: () => backend.stop() };
}

/** Values that make a valid run of the template; tests replace one at a time. */
export const VALID_VALUES: Record<string, unknown> = {
  name: 'orders-api',
  description: 'Takes orders',
  owner: 'group:default/team-a',
  port: 8080,
  strategy: 'Canary',
  canarySteps: [20, 50],
  cluster: 'local',
  namespace: 'shop',
  target: 'local',
};
