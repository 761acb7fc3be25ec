import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import {
  RESOURCE_TYPE_CATALOG_ENTITY,
  catalogEntityReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PolicyDecision,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionRule,
  createConditionAuthorizer,
} from '@backstage/plugin-permission-node';
import {
  AllowedAction,
  rolloutReadPermission,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { ACTING, grantedActions, permissionOf } from './acting';
import { TtlCache } from './TtlCache';
import { callOwnBackend } from './unreachable';

/** What a viewer may see and do on one entity. */
export interface ViewerGrant {
  entity: Entity;
  granted: Set<AllowedAction>;
}

/** Everything a view needs decided, asked in one call per viewer. */
const QUERIED: ResourcePermission[] = [
  catalogEntityReadPermission,
  rolloutReadPermission,
  ...new Set(ACTING.map(permissionOf)),
];

const catalogRules = new Map<string, PermissionRule<Entity, unknown, string>>(
  Object.values(permissionRules).map(rule => [
    rule.name,
    rule as PermissionRule<Entity, unknown, string>,
  ]),
);

/** Applies catalog-entity conditions to an entity; throws for a rule the catalog does not ship. */
const applyCatalogConditions = createConditionAuthorizer<Entity>({
  getRuleByName(name: string) {
    const rule = catalogRules.get(name);
    if (!rule) throw new Error(`Unknown catalog permission rule ${name}`);
    return rule as any;
  },
});

/** One cache key per principal and token lifetime: a new sign-in asks the policy afresh. */
function principalKey(credentials: BackstageCredentials): string {
  return JSON.stringify([
    credentials.principal,
    credentials.expiresAt?.getTime() ?? null,
  ]);
}

/**
 * Answers, for the endpoints a page polls, "may this viewer see this entity's rollouts, and which
 * actions may they take?" in about the time of a cache lookup:
 *
 * - the entity is read with the plugin's own credentials and reused for `ttlMs` by every viewer;
 * - the viewer's decisions come from one `authorizeConditional` call per principal per `ttlMs`;
 *   a conditional decision on catalog entities (a policy's usual "owners of the entity") is
 *   applied to the entity in hand with the catalog's own permission rules, where `authorize`
 *   would have the permission backend ask the catalog to load the entity and apply it;
 * - the catalog's read permission is decided the same way, since the entity was not read as the
 *   viewer: an entity the viewer may not read is not found, as the catalog would answer.
 *
 * Conditions naming rules the catalog does not ship (added by a catalog module) are sent to the
 * permission backend as before. Actions never use this class: they are authorized afresh.
 */
export class ViewerAccess {
  private readonly entities: TtlCache<Entity | undefined>;
  private readonly decisions: TtlCache<PolicyDecision[]>;

  constructor(
    private readonly options: {
      catalog: CatalogService;
      permissions: PermissionsService;
      auth: AuthService;
      /** How long an entity and a viewer's decisions are reused; 0 asks every time. */
      ttlMs: number;
    },
  ) {
    this.entities = new TtlCache(options.ttlMs);
    this.decisions = new TtlCache(options.ttlMs);
  }

  /** The entity and what the viewer may do; 404 when it is not there for them, 403 when its rollouts are hidden. */
  async resolve(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<ViewerGrant> {
    const { catalog, permissions, auth } = this.options;
    const entityRef = stringifyEntityRef(ref);
    const entityKey = entityRef.toLocaleLowerCase('en-US');
    const [entity, decisions] = await Promise.all([
      this.entities.get(entityKey, () =>
        callOwnBackend('The catalog', async () =>
          catalog.getEntityByRef(ref, {
            credentials: await auth.getOwnServiceCredentials(),
          }),
        ),
      ),
      this.decisions.get(principalKey(credentials), () =>
        callOwnBackend('The permission backend', () =>
          permissions.authorizeConditional(
            QUERIED.map(permission => ({ permission })),
            { credentials },
          ),
        ),
      ),
    ]);
    if (!entity) {
      // Not kept: an entity registered a moment later must show at once.
      this.entities.delete(entityKey);
      throw new NotFoundError(`No entity ${entityRef}`);
    }
    // Every decision at once (conditions applied here; unknown rules asked for in parallel).
    const verdicts = await Promise.all(
      QUERIED.map((permission, i) =>
        this.allowed(decisions[i], permission, entity, credentials),
      ),
    );
    const may = (permission: ResourcePermission) =>
      verdicts[QUERIED.indexOf(permission)];
    if (!may(catalogEntityReadPermission)) {
      throw new NotFoundError(`No entity ${entityRef}`);
    }
    if (!may(rolloutReadPermission)) {
      throw new NotAllowedError(`You may not see the rollouts of ${entityRef}`);
    }
    const granted = grantedActions(
      auth.isPrincipal(credentials, 'service'),
      action => may(permissionOf(action)),
    );
    return { entity, granted };
  }

  private async allowed(
    decision: PolicyDecision,
    permission: ResourcePermission,
    entity: Entity,
    credentials: BackstageCredentials,
  ): Promise<boolean> {
    if (decision.result !== AuthorizeResult.CONDITIONAL) {
      return decision.result === AuthorizeResult.ALLOW;
    }
    if (decision.resourceType === RESOURCE_TYPE_CATALOG_ENTITY) {
      try {
        return applyCatalogConditions(decision, entity);
      } catch {
        // A rule of a catalog module: the catalog applies it.
      }
    }
    const [remote] = await this.options.permissions.authorize(
      [{ permission, resourceRef: stringifyEntityRef(entity) }],
      { credentials },
    );
    return remote.result === AuthorizeResult.ALLOW;
  }
}
