import {
  AuthorizeResult,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { UserInfoService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { kubernetesProxyPermission } from '@backstage/plugin-kubernetes-common';
import {
  catalogEntityDeletePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  rolloutFreezeOverridePermission,
  rolloutReadPermission,
  rolloutStartPermission,
  rolloutsPermissions,
} from '@rust-delivery-portal/plugin-rollouts-common';

const rolloutPermissionNames = new Set(rolloutsPermissions.map(p => p.name));

/** The platform team when config does not say. */
export const DEFAULT_PLATFORM_GROUPS = ['group:default/platform'];

/**
 * The portal's policy: everyone may read; the owners of an entity act on its rollouts.
 *
 * - The Kubernetes plugin's proxy (`kubernetes.proxy`) is for the platform team only (config
 *   `portal.permissions.platformGroups`): it sends any request with the cluster credential,
 *   so anybody else could change any workload through it. The Kubernetes tab does not need it.
 * - An entity is deleted by its owners or the platform team, and a location is unregistered by
 *   the platform team: a workload's cluster-side binding names an entity ref, so whoever could
 *   delete an entity could register one of the same ref as their own and inherit its workloads.
 * - Any other permission that is not a rollout action (catalog, scaffolder, ...) is allowed, as
 *   the Backstage defaults for a guest-friendly portal.
 * - Overriding a freeze window (`rollouts.freeze.override`) is for the platform team only: the
 *   owners are the ones a freeze holds back, so the emergency exit is somebody else's call (the
 *   owner still needs the action's own permission; the override lifts only the freeze).
 * - Rollout reads are allowed for everyone.
 * - Rollout actions are allowed when the user's ownership claims include the entity's owner
 *   (a conditional decision the catalog evaluates against the entity).
 * - Service principals never reach a policy (Backstage decides them from their token's access
 *   restrictions); the rollouts backend keeps their rules itself. The decisions below for a
 *   query without a user stand for that: start, but promote, abort and rollback stay with people.
 */
export class RolloutsPermissionPolicy implements PermissionPolicy {
  private readonly platformGroups: Set<string>;

  constructor(
    private readonly userInfo: UserInfoService,
    options: { platformGroups?: string[] } = {},
  ) {
    this.platformGroups = new Set(
      (options.platformGroups ?? DEFAULT_PLATFORM_GROUPS).map(g =>
        g.toLocaleLowerCase('en-US'),
      ),
    );
  }

  static fromConfig(config: Config, userInfo: UserInfoService) {
    return new RolloutsPermissionPolicy(userInfo, {
      platformGroups: config.getOptionalStringArray(
        'portal.permissions.platformGroups',
      ),
    });
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (
      permission.name === kubernetesProxyPermission.name ||
      permission.name === catalogLocationDeletePermission.name ||
      permission.name === rolloutFreezeOverridePermission.name
    ) {
      return this.platformOnly(user);
    }
    if (permission.name === catalogEntityDeletePermission.name) {
      return this.ownersOrPlatform(request, user);
    }
    if (!rolloutPermissionNames.has(permission.name)) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (permission.name === rolloutReadPermission.name) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) {
      return {
        result:
          permission.name === rolloutStartPermission.name
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      };
    }
    if (!isResourcePermission(permission, 'catalog-entity')) {
      return { result: AuthorizeResult.DENY };
    }
    const { ownershipEntityRefs } = await this.userInfo.getUserInfo(
      user.credentials,
    );
    return createCatalogConditionalDecision(
      permission,
      catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
    );
  }

  private async claimsOf(user: PolicyQueryUser) {
    return (await this.userInfo.getUserInfo(user.credentials))
      .ownershipEntityRefs;
  }

  private inPlatform(claims: string[]) {
    return claims.some(ref =>
      this.platformGroups.has(ref.toLocaleLowerCase('en-US')),
    );
  }

  private async platformOnly(user?: PolicyQueryUser): Promise<PolicyDecision> {
    if (!user) return { result: AuthorizeResult.DENY };
    return {
      result: this.inPlatform(await this.claimsOf(user))
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY,
    };
  }

  private async ownersOrPlatform(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (!user) return { result: AuthorizeResult.DENY };
    const claims = await this.claimsOf(user);
    if (this.inPlatform(claims)) return { result: AuthorizeResult.ALLOW };
    if (!isResourcePermission(request.permission, 'catalog-entity')) {
      return { result: AuthorizeResult.DENY };
    }
    return createCatalogConditionalDecision(
      request.permission,
      catalogConditions.isEntityOwner({ claims }),
    );
  }
}
