import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  rolloutFreezeOverridePermission,
  rolloutAbortPermission,
  rolloutPromotePermission,
  rolloutReadPermission,
  rolloutRollbackPermission,
  rolloutStartPermission,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  kubernetesClustersReadPermission,
  kubernetesProxyPermission,
  kubernetesResourcesReadPermission,
} from '@backstage/plugin-kubernetes-common';
import { RolloutsPermissionPolicy } from './RolloutsPermissionPolicy';

describe('RolloutsPermissionPolicy', () => {
  const policy = new RolloutsPermissionPolicy(
    mockServices.userInfo({
      userEntityRef: 'user:default/guest',
      ownershipEntityRefs: ['user:default/guest', 'group:default/team-rust'],
    }),
  );
  const guest = {
    credentials: mockCredentials.user('user:default/guest'),
    info: { userEntityRef: 'user:default/guest', ownershipEntityRefs: [] },
  };

  it('lets everyone read rollouts', async () => {
    expect(
      await policy.handle({ permission: rolloutReadPermission }, guest),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(await policy.handle({ permission: rolloutReadPermission })).toEqual({
      result: AuthorizeResult.ALLOW,
    });
  });

  it('leaves permissions of other plugins allowed', async () => {
    expect(
      await policy.handle({ permission: catalogEntityReadPermission }, guest),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(
      await policy.handle(
        { permission: catalogLocationCreatePermission },
        guest,
      ),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it("lets only the owners delete an entity, so nobody frees another team's entity ref", async () => {
    expect(
      await policy.handle({ permission: catalogEntityDeletePermission }, guest),
    ).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: {
          claims: ['user:default/guest', 'group:default/team-rust'],
        },
      },
    });
    expect(
      await policy.handle(
        { permission: catalogLocationDeletePermission },
        guest,
      ),
    ).toEqual({ result: AuthorizeResult.DENY });
  });

  it.each([
    rolloutPromotePermission,
    rolloutAbortPermission,
    rolloutRollbackPermission,
  ])(
    'makes $name conditional on owning the entity, with the claims the catalog resolved',
    async permission => {
      expect(await policy.handle({ permission }, guest)).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: {
            claims: ['user:default/guest', 'group:default/team-rust'],
          },
        },
      });
    },
  );

  it('lets a service principal (CI) start a rollout but nothing else', async () => {
    expect(await policy.handle({ permission: rolloutStartPermission })).toEqual(
      { result: AuthorizeResult.ALLOW },
    );
    expect(
      await policy.handle({ permission: rolloutPromotePermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
    expect(
      await policy.handle({ permission: rolloutRollbackPermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
  });
});

describe('RolloutsPermissionPolicy and the Kubernetes proxy', () => {
  const userIn = (...refs: string[]) => ({
    credentials: mockCredentials.user(refs[0]),
    info: { userEntityRef: refs[0], ownershipEntityRefs: refs },
  });
  const policyFor = (refs: string[], groups?: string[]) =>
    new RolloutsPermissionPolicy(
      mockServices.userInfo({
        userEntityRef: refs[0],
        ownershipEntityRefs: refs,
      }),
      { platformGroups: groups },
    );

  it('denies the proxy to a user outside the platform group', async () => {
    const refs = ['user:default/guest', 'group:default/team-rust'];
    expect(
      await policyFor(refs).handle(
        { permission: kubernetesProxyPermission },
        userIn(...refs),
      ),
    ).toEqual({ result: AuthorizeResult.DENY });
  });

  it('lets members of the configured groups use it, unregister locations and delete any entity', async () => {
    const refs = ['user:default/pat', 'group:default/Platform'];
    for (const permission of [
      kubernetesProxyPermission,
      catalogLocationDeletePermission,
      catalogEntityDeletePermission,
    ]) {
      expect(
        await policyFor(refs).handle({ permission }, userIn(...refs)),
      ).toEqual({ result: AuthorizeResult.ALLOW });
    }
    const sre = ['user:default/sam', 'group:default/sre'];
    expect(
      await policyFor(sre, ['group:default/sre']).handle(
        { permission: kubernetesProxyPermission },
        userIn(...sre),
      ),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it('keeps the Kubernetes tab readable for everyone', async () => {
    const refs = ['user:default/guest'];
    for (const permission of [
      kubernetesResourcesReadPermission,
      kubernetesClustersReadPermission,
    ]) {
      expect(
        await policyFor(refs).handle({ permission }, userIn(...refs)),
      ).toEqual({ result: AuthorizeResult.ALLOW });
    }
  });

  it('lets only the platform team override a freeze window, never a service', async () => {
    const owner = ['user:default/guest', 'group:default/team-rust'];
    const platform = ['user:default/pat', 'group:default/platform'];
    const permission = rolloutFreezeOverridePermission;
    expect(
      await policyFor(owner).handle({ permission }, userIn(...owner)),
    ).toEqual({ result: AuthorizeResult.DENY });
    expect(
      await policyFor(platform).handle({ permission }, userIn(...platform)),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(await policyFor(platform).handle({ permission })).toEqual({
      result: AuthorizeResult.DENY,
    });
  });
});
