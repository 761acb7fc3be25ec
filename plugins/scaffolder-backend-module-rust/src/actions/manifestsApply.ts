import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import fs from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ClusterApplier } from '../clusters/ClusterApplier';
import { MANIFESTS_DIRECTORY } from '../manifests/writeManifests';
import { DNS_LABEL_PATTERN } from '../params/serviceParams';
import { yaml } from './examples';

/** Reads every manifest of a workspace folder (not `kustomization.yaml`), in file order. */
export async function readManifests(
  folder: string,
): Promise<KubernetesObject[]> {
  const files = (await fs.readdir(folder))
    .filter(file => /\.ya?ml$/.test(file) && !file.startsWith('kustomization.'))
    .sort();
  const objects: KubernetesObject[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(
      await fs.readFile(resolveSafeChildPath(folder, file), 'utf8'),
    )) {
      if (document.errors.length) {
        throw new InputError(`${file}: ${document.errors[0].message}`);
      }
      const object = document.toJS() as KubernetesObject | null;
      if (!object) continue;
      if (!object.apiVersion || !object.kind || !object.metadata?.name) {
        throw new InputError(
          `${file}: every document needs apiVersion, kind and metadata.name`,
        );
      }
      objects.push(object);
    }
  }
  // ServiceAccounts and ConfigMaps before the workloads that use them.
  const order = [
    'Namespace',
    'ServiceAccount',
    'ConfigMap',
    'Service',
    'Deployment',
  ];
  const rank = (o: KubernetesObject) =>
    order.includes(o.kind!) ? order.indexOf(o.kind!) : order.length;
  return objects.sort((a, b) => rank(a) - rank(b));
}

/**
 * `rust:manifests:apply`: applies the workspace's manifests to a cluster of
 * `kubernetes.clusterLocatorMethods` (create or replace), so the service runs right away.
 */
export function createManifestsApplyAction(options: {
  clusters: ClusterApplier;
}) {
  const { clusters } = options;
  return createTemplateAction({
    id: 'rust:manifests:apply',
    description:
      'Applies the Kubernetes manifests of the workspace to a configured cluster (create or replace), creating the namespace if needed.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Apply the rendered manifests to the local cluster',
        example: yaml({
          steps: [
            {
              id: 'apply',
              action: 'rust:manifests:apply',
              input: { cluster: 'local', namespace: 'default' },
            },
          ],
        }),
      },
    ],
    schema: {
      input: {
        cluster: z =>
          z
            .string()
            .describe('Cluster name from kubernetes.clusterLocatorMethods'),
        namespace: z =>
          z.string().describe('Namespace every object must belong to'),
        directory: z =>
          z
            .string()
            .optional()
            .describe(
              `Workspace folder of the manifests (default ${MANIFESTS_DIRECTORY})`,
            ),
      },
      output: {
        applied: z =>
          z
            .array(z.string())
            .describe(
              'Objects applied, as "created Deployment default/orders"',
            ),
      },
    },
    async handler(ctx) {
      const { cluster, namespace } = ctx.input;
      clusters.requireCluster(cluster);
      if (!DNS_LABEL_PATTERN.test(namespace)) {
        throw new InputError(`Invalid namespace ${JSON.stringify(namespace)}`);
      }
      const folder = resolveSafeChildPath(
        ctx.workspacePath,
        ctx.input.directory ?? MANIFESTS_DIRECTORY,
      );
      const objects = await readManifests(folder);
      for (const object of objects) {
        const objectNamespace = object.metadata?.namespace ?? namespace;
        if (objectNamespace !== namespace) {
          throw new InputError(
            `${object.kind} ${object.metadata?.name} is in namespace "${objectNamespace}", expected "${namespace}"`,
          );
        }
      }
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would apply ${objects.length} objects to ${cluster}/${namespace}`,
        );
        ctx.output('applied', []);
        return;
      }
      const applied = await clusters.apply(cluster, namespace, objects);
      const lines = applied.map(
        o => `${o.operation} ${o.kind} ${o.namespace}/${o.name}`,
      );
      ctx.logger.info(`Applied to ${cluster}: ${lines.join(', ')}`);
      for (const object of applied.filter(o => o.operation === 'skipped')) {
        ctx.logger.warn(
          `Cluster ${cluster} does not serve ${object.apiVersion} ${object.kind}: ${object.name} was not applied`,
        );
      }
      ctx.output('applied', lines);
    },
  });
}
