import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import fs from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ClusterApplier } from '../clusters/ClusterApplier';
import { requireEntityRef } from '../clusters/binding';
import { MANIFESTS_DIRECTORY } from '../manifests/writeManifests';
import { DNS_LABEL_PATTERN } from '../params/serviceParams';
import { yaml } from './examples';
import type { FieldsOf, Zod } from './paramsFields';

/**
 * Reads every manifest of a workspace folder (not `kustomization.yaml`), in file order.
 * @public
 */
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
  const order = ['ServiceAccount', 'ConfigMap', 'Service', 'Deployment'];
  const rank = (o: KubernetesObject) =>
    order.includes(o.kind!) ? order.indexOf(o.kind!) : order.length;
  return objects.sort((a, b) => rank(a) - rank(b));
}

/** The inputs `rust:manifests:check` and `rust:manifests:apply` share. */
interface ManifestsTargetInput {
  cluster: string;
  namespace: string;
  entityRef: string;
  directory?: string;
}

export const manifestsTargetFields: FieldsOf<ManifestsTargetInput> = {
  cluster: (z: Zod) =>
    z.string().describe('Cluster name from kubernetes.clusterLocatorMethods'),
  namespace: (z: Zod) =>
    z
      .string()
      .describe('Namespace every object must belong to (not a kube-* one)'),
  entityRef: (z: Zod) =>
    z
      .string()
      .describe(
        'Entity ref of the service (component:default/orders): the objects must name it in their rollouts.backstage.io/entity annotation, and only objects that already name it are replaced',
      ),
  directory: (z: Zod) =>
    z
      .string()
      .optional()
      .describe(
        `Workspace folder of the manifests (default ${MANIFESTS_DIRECTORY})`,
      ),
};

/** Validates the shared inputs and reads the manifests of the workspace. */
export async function readManifestsTarget(
  clusters: ClusterApplier,
  input: {
    cluster: string;
    namespace: string;
    entityRef: string;
    directory?: string;
  },
  workspacePath: string,
) {
  clusters.requireCluster(input.cluster);
  if (!DNS_LABEL_PATTERN.test(input.namespace)) {
    throw new InputError(
      `Invalid namespace ${JSON.stringify(input.namespace)}`,
    );
  }
  const entityRef = requireEntityRef(input.entityRef);
  const folder = resolveSafeChildPath(
    workspacePath,
    input.directory ?? MANIFESTS_DIRECTORY,
  );
  const objects = await readManifests(folder);
  return {
    cluster: input.cluster,
    namespace: input.namespace,
    entityRef,
    objects,
  };
}

/**
 * `rust:manifests:apply`: applies the workspace's manifests to a cluster of
 * `kubernetes.clusterLocatorMethods` with the rollouts engine's credential, so the service runs
 * right away. It takes nothing over: see `ClusterApplier`.
 * @public
 */
export function createManifestsApplyAction(options: {
  clusters: ClusterApplier;
}) {
  const { clusters } = options;
  return createTemplateAction({
    id: 'rust:manifests:apply',
    description:
      'Applies the Kubernetes manifests of the workspace to a configured cluster: creates what is missing (and the namespace), replaces only objects bound to the same entity, refuses everything else before writing anything.',
    supportsDryRun: true,
    examples: [
      {
        description: 'Apply the rendered manifests to the local cluster',
        example: yaml({
          steps: [
            {
              id: 'apply',
              action: 'rust:manifests:apply',
              input: {
                cluster: 'local',
                namespace: 'default',
                entityRef: 'component:default/orders',
              },
            },
          ],
        }),
      },
    ],
    schema: {
      input: manifestsTargetFields,
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
      const { cluster, namespace, entityRef, objects } =
        await readManifestsTarget(clusters, ctx.input, ctx.workspacePath);
      if (ctx.isDryRun) {
        clusters.checkManifests(namespace, entityRef, objects);
        ctx.logger.info(
          `Dry run: would apply ${objects.length} objects of ${entityRef} to ${cluster}/${namespace}`,
        );
        ctx.output('applied', []);
        return;
      }
      const applied = await clusters.apply(
        cluster,
        namespace,
        entityRef,
        objects,
      );
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
