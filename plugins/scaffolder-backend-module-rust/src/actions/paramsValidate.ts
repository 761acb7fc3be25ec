import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { ClusterApplier } from '../clusters/ClusterApplier';
import type { AnalysisParams } from '../params/analysisParams';
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
                analysis: true,
                analysisMaxErrorPercent: 1,
                analysisFailErrorPercent: 5,
                analysisMaxLatencyMs: 500,
                analysisInterval: '30s',
                analysisFailureLimit: 1,
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
        analysis: z =>
          z.boolean().describe('Whether the canary is judged by its metrics'),
        analysisSummary: z =>
          z
            .string()
            .describe(
              'The analysis in words, for the README; empty without analysis',
            ),
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
      ctx.output('analysis', params.analysis !== undefined);
      ctx.output('analysisSummary', describeAnalysis(params.analysis));
      ctx.output('cluster', params.cluster);
      ctx.output('namespace', params.namespace);
      ctx.output('imageRepository', params.imageRepository);
      ctx.output('imageRegistry', params.imageRegistry);
      ctx.output('rustVersion', params.rustVersion);
    },
  });
}

/** "5xx share below 1% (fails at 5%), p99 latency below 500 ms, every 30s, 1 failure tolerated". */
function describeAnalysis(analysis: AnalysisParams | undefined): string {
  if (!analysis) return '';
  const percent = (ratio: number) =>
    `${Number((ratio * 100).toPrecision(12))}%`;
  const failures =
    analysis.failureLimit === 1
      ? '1 failed measurement tolerated'
      : `${analysis.failureLimit} failed measurements tolerated`;
  return `5xx share below ${percent(
    analysis.maxErrorRatio,
  )} (fails at ${percent(
    analysis.failErrorRatio,
  )}), p99 latency below ${Math.round(
    analysis.maxLatencySeconds * 1000,
  )} ms, measured every ${analysis.interval}, ${failures} per metric`;
}
