import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import githubModule from '@backstage/plugin-scaffolder-backend-module-github';
import scaffolderModuleRust from '../../index';

/** The template folder of the repository. */
export const TEMPLATE_DIR = resolvePackagePath(
  '@rust-delivery-portal/plugin-scaffolder-backend-module-rust',
  '../../templates/rust-service',
);

/** Every file of a folder, as the dry-run API takes them. */
export function directoryContents(
  root: string,
): { path: string; base64Content: string }[] {
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

export const TEST_CONFIG = {
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
};

export interface DryRunResult {
  status: number;
  body: any;
  /** Generated files by path, decoded (only when the run succeeded). */
  files: Map<string, string>;
  /** Log messages of the run. */
  log: string[];
}

/** A backend with the real scaffolder and this module, for dry runs of the real template. */
export async function startScaffolder(config: object = TEST_CONFIG) {
  const backend = await startTestBackend({
    features: [
      scaffolderPlugin,
      scaffolderModuleRust,
      githubModule,
      mockServices.rootConfig.factory({ data: config }),
      catalogServiceMock.factory(),
    ],
  });
  const template = parse(
    fs.readFileSync(path.join(TEMPLATE_DIR, 'template.yaml'), 'utf8'),
  );
  const contents = directoryContents(TEMPLATE_DIR);

  async function dryRun(
    values: Record<string, unknown>,
  ): Promise<DryRunResult> {
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
    const log = (response.body.log ?? []).map((entry: any) =>
      String(entry.body?.message),
    );
    return { status: response.status, body: response.body, files, log };
  }

  return { backend, dryRun, stop: () => backend.stop() };
}

/** Writes dry-run output to a folder (for tools that read files, like cargo). */
export function writeFiles(files: Map<string, string>, dir: string) {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [file, content] of files) {
    const target = path.join(dir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}
