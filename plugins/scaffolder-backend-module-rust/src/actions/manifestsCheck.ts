import type {
  AuthService,
  BackstageCredentials,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { RELATION_OWNED_BY } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { ClusterApplier } from '../clusters/ClusterApplier';
import { normalizeEntityRef } from '@rust-delivery-portal/plugin-rollouts-node';
import { yaml } from './examples';
import { manifestsTargetFields, readManifestsTarget } from './manifestsApply';

/**
 * The entity ref is free for the initiator: not in the catalog, or owned by one of the
 * initiator's ownership refs (running the template again for one's own service). Without this,
 * a new service that takes an existing entity's name would also take its cluster binding.
 */
async function requireOwnOrFreeEntity(
  deps: {
    catalog: CatalogService;
    auth: AuthService;
    userInfo: UserInfoService;
  },
  entityRef: string,
  credentials: BackstageCredentials,
) {
  const entity = await deps.catalog.getEntityByRef(entityRef, { credentials });
  if (!entity) return;
  const owners = (entity.relations ?? [])
    .filter(relation => relation.type === RELATION_OWNED_BY)
    .map(relation => normalizeEntityRef(relation.targetRef));
  const mine = deps.auth.isPrincipal(credentials, 'user')
    ? (await deps.userInfo.getUserInfo(credentials)).ownershipEntityRefs.map(
        normalizeEntityRef,
      )
    : [];
  if (owners.some(owner => mine.includes(owner))) return;
  throw new InputError(
    `${entityRef} is already in the catalog and belongs to ${
      owners.length ? owners.join(', ') : 'no owner'
    }: choose another name`,
  );
}

/**
 * `rust:manifests:check`: everything `rust:manifests:apply` will check, and nothing written, run
 * before the repository is published and the entity registered, so a refusal reaches the user
 * while nothing exists anywhere yet. The cluster rule is `ClusterApplier.plan`, the one apply
 * runs again when it writes.
 * @public
 */
export function createManifestsCheckAction(options: {
  clusters: ClusterApplier;
  catalog: CatalogService;
  auth: AuthService;
  userInfo: UserInfoService;
}) {
  const { clusters } = options;
  return createTemplateAction({
    id: 'rust:manifests:check',
    description:
      "Checks, without writing, that the manifests of the workspace can be applied by rust:manifests:apply: the entity ref is not another owner's in the catalog, and every object is of a kind the template applies, outside kube-* namespaces, and either missing on the cluster or bound to the same entity.",
    supportsDryRun: true,
    examples: [
      {
        description:
          'Check before publishing that the service takes nothing over',
        example: yaml({
          steps: [
            {
              id: 'check',
              action: 'rust:manifests:check',
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
        planned: z =>
          z
            .array(z.string())
            .describe(
              'What apply would do, as "create Deployment default/orders"',
            ),
      },
    },
    async handler(ctx) {
      const { cluster, namespace, entityRef, objects } =
        await readManifestsTarget(clusters, ctx.input, ctx.workspacePath);
      if (ctx.isDryRun) {
        clusters.checkManifests(namespace, entityRef, objects);
        ctx.logger.info(
          `Dry run: the manifests of ${entityRef} are fit to apply; the catalog and cluster ${cluster} were not consulted`,
        );
        ctx.output('planned', []);
        return;
      }
      await requireOwnOrFreeEntity(
        options,
        entityRef,
        await ctx.getInitiatorCredentials(),
      );
      const plan = await clusters.plan(cluster, namespace, entityRef, objects);
      const verbs = { created: 'create', replaced: 'replace', skipped: 'skip' };
      const lines = [
        ...(plan.createNamespace ? [`create Namespace ${namespace}`] : []),
        ...plan.objects.map(
          o => `${verbs[o.operation]} ${o.kind} ${o.namespace}/${o.name}`,
        ),
      ];
      ctx.logger.info(
        `${entityRef} can be applied to ${cluster}/${namespace}: ${lines.join(
          ', ',
        )}`,
      );
      ctx.output('planned', lines);
    },
  });
}
