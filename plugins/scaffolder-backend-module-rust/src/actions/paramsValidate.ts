import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { ClusterApplier } from '../clusters/ClusterApplier';
import { validateServiceParams } from '../params/serviceParams';
import { serviceParamsFields } from './paramsFields';
import { yaml } from './examples';

/**
 * `rust:params:validate`: checks the form's values on the server and completes them with
 * defaults; the template's later steps read the normalised values from its output.
 * @public
 */
export function createParamsValidateAction(options: {
  clusters: ClusterApplier;
}) {
  return createTemplateAction({
    id: 'rust:params:validate',
    description:
      'Validates the parameters of a Rust service (name, port, strategy and canary steps, cluster, namespace, image) and outputs them normalised, with defaults applied.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Validate a canary service',
        example: yaml({
          steps: [
            {
              id: 'params',
              action: 'rust:params:validate',
              input: {
                name: 'orders',
                port: 8080,
                strategy: 'Canary',
                canarySteps: [20, 50],
                cluster: 'local',
                namespace: 'default',
                imageOrganization: 'acme',
              },
            },
          ],
        }),
      },
    ],
    schema: {
      input: serviceParamsFields,
      output: {
        name: z => z.string(),
        crateName: z =>
          z.string().describe('The crate name (dashes become underscores)'),
        port: z => z.number(),
        strategy: z => z.string(),
        canarySteps: z =>
          z.array(z.record(z.unknown())).describe('Argo Rollouts steps'),
        canaryStepsJson: z => z.string(),
        autoPromotion: z => z.boolean(),
        scaleDownDelay: z => z.string(),
        trafficRouting: z =>
          z.string().describe('replica-ratio or gateway-api (Canary)'),
        gatewayName: z => z.string().describe('Empty without the Gateway API'),
        gatewayNamespace: z =>
          z.string().describe('Empty without the Gateway API'),
        cluster: z => z.string(),
        namespace: z => z.string(),
        imageRepository: z => z.string(),
        imageRegistry: z => z.string(),
        rustVersion: z => z.string(),
      },
    },
    async handler(ctx) {
      const params = validateServiceParams(ctx.input);
      // When the portal knows clusters, the one named must be among them (the deploy job and
      // the local target both address it by that name).
      if (options.clusters.clusterNames().length > 0) {
        options.clusters.requireCluster(params.cluster);
      }
      ctx.logger.info(
        `Parameters of ${params.name} are valid: ${params.strategy} on ${params.cluster}/${params.namespace}, image ${params.imageRepository}`,
      );
      ctx.output('name', params.name);
      ctx.output('crateName', params.crateName);
      ctx.output('port', params.port);
      ctx.output('strategy', params.strategy);
      ctx.output('canarySteps', params.canarySteps);
      ctx.output('canaryStepsJson', JSON.stringify(params.canarySteps));
      ctx.output('autoPromotion', params.autoPromotion);
      ctx.output('scaleDownDelay', params.scaleDownDelay);
      ctx.output('trafficRouting', params.trafficRouting);
      ctx.output('gatewayName', params.gateway?.name ?? '');
      ctx.output('gatewayNamespace', params.gateway?.namespace ?? '');
      ctx.output('cluster', params.cluster);
      ctx.output('namespace', params.namespace);
      ctx.output('imageRepository', params.imageRepository);
      ctx.output('imageRegistry', params.imageRegistry);
      ctx.output('rustVersion', params.rustVersion);
    },
  });
}
