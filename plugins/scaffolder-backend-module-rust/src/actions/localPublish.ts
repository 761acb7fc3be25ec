import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import path from 'node:path';
import { LocalTarget } from '../local/LocalTarget';
import { checkServiceName } from '../params/serviceParams';
import { yaml } from './examples';

/**
 * `rust:local:publish`: the `local` target's stand-in for a Git host. Copies the workspace to
 * `<rustTemplate.localTarget.directory>/<name>`, refusing any path outside that folder.
 * @public
 */
export function createLocalPublishAction(options: {
  localTarget: LocalTarget;
}) {
  const { localTarget } = options;
  return createTemplateAction({
    id: 'rust:local:publish',
    description: `Copies the workspace to a folder of this machine (config ${'rustTemplate.localTarget.directory'}), for trying the template without any external account.`,
    supportsDryRun: true,
    examples: [
      {
        description: 'Publish the generated service locally',
        example: yaml({
          steps: [
            {
              id: 'publish',
              action: 'rust:local:publish',
              input: { name: 'orders' },
            },
          ],
        }),
      },
    ],
    schema: {
      input: {
        name: z =>
          z
            .string()
            .describe(
              'Service name; the folder created under the local directory',
            ),
      },
      output: {
        directory: z =>
          z.string().describe('Absolute path of the published service'),
        catalogInfoPath: z =>
          z.string().describe('Absolute path of its catalog-info.yaml'),
        remoteUrl: z =>
          z.string().describe('file:// URL of the published service'),
      },
    },
    async handler(ctx) {
      const name = checkServiceName(ctx.input.name);
      const target = localTarget.serviceDirectory(name);
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would copy the workspace to ${target}`);
      } else {
        await localTarget.publish(ctx.workspacePath, name);
        ctx.logger.info(`Copied the service to ${target}`);
      }
      ctx.output('directory', target);
      ctx.output('catalogInfoPath', path.join(target, 'catalog-info.yaml'));
      ctx.output('remoteUrl', `file://${target}`);
    },
  });
}
