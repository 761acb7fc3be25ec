import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { buildManifests } from '../manifests/buildManifests';
import {
  MANIFESTS_DIRECTORY,
  writeManifests,
} from '../manifests/writeManifests';
import { validateServiceParams } from '../params/serviceParams';
import { yaml } from './examples';
import { serviceParamsFields } from './paramsFields';

/**
 * `rust:manifests:render`: builds the Kubernetes objects of the chosen strategy from typed
 * `kubernetes-models` objects, validates them against the Kubernetes schemas and writes them as
 * YAML into the workspace. No text templating: a value cannot change the documents' structure.
 * @public
 */
export function createManifestsRenderAction() {
  return createTemplateAction({
    id: 'rust:manifests:render',
    description:
      'Writes the Kubernetes manifests of a Rust service for its delivery strategy (Deployment with the rollouts annotations, Services, ConfigMap, ServiceAccount, PodDisruptionBudget, HorizontalPodAutoscaler), validated against the Kubernetes schemas.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Blue-green manifests with manual promotion',
        example: yaml({
          steps: [
            {
              id: 'manifests',
              action: 'rust:manifests:render',
              input: {
                name: 'orders',
                port: 8080,
                strategy: 'BlueGreen',
                autoPromotion: false,
                scaleDownDelay: '30s',
                cluster: 'local',
                namespace: 'shop',
                imageRepository: 'ghcr.io/acme/orders',
              },
            },
          ],
        }),
      },
    ],
    schema: {
      input: {
        ...serviceParamsFields,
        imageTag: z =>
          z
            .string()
            .optional()
            .describe(
              'Tag of the initial image in imageRepository (default main)',
            ),
        directory: z =>
          z
            .string()
            .optional()
            .describe(
              `Workspace folder for the manifests (default ${MANIFESTS_DIRECTORY})`,
            ),
      },
      output: {
        files: z =>
          z
            .array(z.string())
            .describe('Files written, relative to the workspace'),
      },
    },
    async handler(ctx) {
      const params = validateServiceParams(ctx.input);
      const manifests = buildManifests(params, {
        image: ctx.input.imageTag
          ? `${params.imageRepository}:${checkImageTag(ctx.input.imageTag)}`
          : undefined,
      });
      const files = await writeManifests(
        ctx.workspacePath,
        ctx.input.directory ?? MANIFESTS_DIRECTORY,
        manifests,
      );
      ctx.logger.info(
        `Wrote ${files.length} manifests for ${params.strategy}: ${files.join(
          ', ',
        )}`,
      );
      ctx.output('files', files);
    },
  });
}

/** Only a tag may be chosen for the initial image; the repository comes from the validated params. */
function checkImageTag(tag: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new InputError(
      `Invalid image tag ${JSON.stringify(
        tag,
      )}: letters, digits, '_', '.' and '-', at most 128`,
    );
  }
  return tag;
}
