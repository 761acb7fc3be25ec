import { InputError } from '@backstage/errors';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LocalTarget } from '../local/LocalTarget';
import { yaml } from './examples';

/**
 * `rust:catalog:register-file`: registers a `file` location in the catalog, for services
 * published with the local target. Only files inside the local directory are accepted.
 * @public
 */
export function createCatalogRegisterFileAction(options: {
  catalog: CatalogService;
  localTarget: LocalTarget;
}) {
  const { catalog, localTarget } = options;
  return createTemplateAction({
    id: 'rust:catalog:register-file',
    description:
      'Registers a catalog-info.yaml of the local target folder as a file location in the catalog.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Register the service published by rust:local:publish',
        example: yaml({
          steps: [
            {
              id: 'register',
              action: 'rust:catalog:register-file',
              input: { path: '${{ steps.publish.output.catalogInfoPath }}' },
            },
          ],
        }),
      },
    ],
    schema: {
      input: {
        path: z =>
          z
            .string()
            .describe('Absolute path of the catalog-info.yaml to register'),
      },
      output: {
        entityRef: z =>
          z.string().describe('Reference of the first entity in the file'),
        locationTarget: z => z.string(),
      },
    },
    async handler(ctx) {
      const file = path.resolve(ctx.input.path);
      if (
        path.relative(localTarget.directory, file).startsWith('..') ||
        !path.isAbsolute(ctx.input.path)
      ) {
        throw new InputError(
          `Refusing to register ${JSON.stringify(
            ctx.input.path,
          )}: only files under ${localTarget.directory} can be registered`,
        );
      }
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would register ${file}`);
        ctx.output('entityRef', 'component:default/dry-run');
        ctx.output('locationTarget', file);
        return;
      }
      const [document] = parseAllDocuments(await fs.readFile(file, 'utf8'));
      const entity = document?.toJS() as
        | { kind?: string; metadata?: { name?: string; namespace?: string } }
        | undefined;
      if (!entity?.kind || !entity.metadata?.name) {
        throw new InputError(`${file} does not start with a catalog entity`);
      }
      const entityRef = stringifyEntityRef({
        kind: entity.kind,
        namespace: entity.metadata.namespace ?? 'default',
        name: entity.metadata.name,
      });
      const result = await catalog.addLocation(
        { type: 'file', target: file },
        { credentials: await ctx.getInitiatorCredentials() },
      );
      ctx.logger.info(
        `Registered location ${result.location.id} (${file}) for ${entityRef}`,
      );
      ctx.output('entityRef', entityRef);
      ctx.output('locationTarget', file);
    },
  });
}
