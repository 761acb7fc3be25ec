import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogEntityDeletePermission } from '@backstage/plugin-catalog-common/alpha';
import {
  rolloutAbortPermission,
  rolloutPromotePermission,
  rolloutReadPermission,
  rolloutRollbackPermission,
  rolloutStartPermission,
} from '@internal/plugin-rollouts-common';
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
    expect(await policy.handle({ permission: rolloutReadPermission })).toEqual(
      { result: AuthorizeResult.ALLOW },
    );
  });

  it('leaves permissions of other plugins allowed', async () => {
    expect(
      await policy.handle({ permission: catalogEntityDeletePermission }, guest),
    ).toEqual({ result: AuthorizeResult.ALLOW });
  });

  it.each([rolloutPromotePermission, rolloutAbortPermission, rolloutRollbackPermission])(
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
    expect(
      await policy.handle({ permission: rolloutStartPermission }),
    ).toEqual({ result: AuthorizeResult.ALLOW });
    expect(
      await policy.handle({ permission: rolloutPromotePermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
    expect(
      await policy.handle({ permission: rolloutRollbackPermission }),
    ).toEqual({ result: AuthorizeResult.DENY });
  });
});
