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
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  rolloutReadPermission,
  rolloutStartPermission,
  rolloutsPermissions,
} from '@internal/plugin-rollouts-common';

const rolloutPermissionNames = new Set(rolloutsPermissions.map(p => p.name));

/** Who may use the Kubernetes plugin's proxy when config does not say. */
export const DEFAULT_KUBERNETES_PROXY_GROUPS = ['group:default/platform'];

/**
 * The portal's policy: everyone may read; the owners of an entity act on its rollouts.
 *
 * - The Kubernetes plugin's proxy (`kubernetes.proxy`) is for the platform team only (config
 *   `portal.permissions.kubernetesProxyGroups`): it sends any request with the cluster credential,
 *   so anybody else could change any workload through it. The Kubernetes tab does not need it.
 * - Any other permission that is not a rollout action (catalog, scaffolder, ...) is allowed, as
 *   the Backstage defaults for a guest-friendly portal.
 * - Rollout reads are allowed for everyone.
 * - Rollout actions are allowed when the user's ownership claims include the entity's owner
 *   (a conditional decision the catalog evaluates against the entity).
 * - Service principals (no user, e.g. a CI job with a static token) may start a rollout of a new
 *   image, the CI/CD deploy path, but promote, abort and rollback stay with people.
 */
export class RolloutsPermissionPolicy implements PermissionPolicy {
  private readonly proxyGroups: Set<string>;

  constructor(
    private readonly userInfo: UserInfoService,
    options: { kubernetesProxyGroups?: string[] } = {},
  ) {
    this.proxyGroups = new Set(
      (options.kubernetesProxyGroups ?? DEFAULT_KUBERNETES_PROXY_GROUPS).map(
        g => g.toLocaleLowerCase('en-US'),
      ),
    );
  }

  static fromConfig(config: Config, userInfo: UserInfoService) {
    return new RolloutsPermissionPolicy(userInfo, {
      kubernetesProxyGroups: config.getOptionalStringArray(
        'portal.permissions.kubernetesProxyGroups',
      ),
    });
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (permission.name === kubernetesProxyPermission.name) {
      return this.proxyDecision(user);
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

  private async proxyDecision(user?: PolicyQueryUser): Promise<PolicyDecision> {
    if (!user) return { result: AuthorizeResult.DENY };
    const { ownershipEntityRefs } = await this.userInfo.getUserInfo(
      user.credentials,
    );
    const member = ownershipEntityRefs.some(ref =>
      this.proxyGroups.has(ref.toLocaleLowerCase('en-US')),
    );
    return { result: member ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
  }
}
