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
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  rolloutReadPermission,
  rolloutStartPermission,
  rolloutsPermissions,
} from '@internal/plugin-rollouts-common';

const rolloutPermissionNames = new Set(rolloutsPermissions.map(p => p.name));

/**
 * The portal's policy: everyone may read; the owners of an entity act on its rollouts.
 *
 * - Any permission that is not a rollout action (catalog, scaffolder, ...) is allowed, as the
 *   Backstage defaults for a guest-friendly portal.
 * - Rollout reads are allowed for everyone.
 * - Rollout actions are allowed when the user's ownership claims include the entity's owner
 *   (a conditional decision the catalog evaluates against the entity).
 * - Service principals (no user, e.g. a CI job with a static token) may start a rollout of a new
 *   image, the CI/CD deploy path, but promote, abort and rollback stay with people.
 */
export class RolloutsPermissionPolicy implements PermissionPolicy {
  constructor(private readonly userInfo: UserInfoService) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
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
}
