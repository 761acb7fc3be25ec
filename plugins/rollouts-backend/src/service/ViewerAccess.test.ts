import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { ViewerAccess } from './ViewerAccess';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments', namespace: 'default' },
  spec: { owner: 'group:default/team-a', type: 'service' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-a' }],
};
const ref = { kind: 'Component', namespace: 'default', name: 'payments' };

const ownerOnly = (claims: string[]): PolicyDecision => ({
  result: AuthorizeResult.CONDITIONAL,
  pluginId: 'catalog',
  resourceType: 'catalog-entity',
  conditions: {
    rule: 'IS_ENTITY_OWNER',
    resourceType: 'catalog-entity',
    params: { claims },
  },
});

/** A policy like the portal's: everyone reads, owners of the entity act. */
function setup(
  options: { ttlMs?: number; actionDecision?: PolicyDecision } = {},
) {
  const catalog = catalogServiceMock({ entities: [entity] });
  const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
  const permissions = mockServices.permissions.mock();
  permissions.authorizeConditional.mockImplementation(
    async (queries, { credentials }) => {
      const user = (credentials.principal as { userEntityRef?: string })
        .userEntityRef;
      const claims =
        user === 'user:default/ada' ? [user, 'group:default/team-a'] : [user!];
      return queries.map(q =>
        q.permission.attributes.action === 'read'
          ? { result: AuthorizeResult.ALLOW }
          : options.actionDecision ?? ownerOnly(claims),
      );
    },
  );
  permissions.authorize.mockImplementation(async requests =>
    requests.map(() => ({ result: AuthorizeResult.ALLOW })),
  );
  const access = new ViewerAccess({
    catalog,
    permissions,
    auth: mockServices.auth(),
    ttlMs: options.ttlMs ?? 5000,
  });
  return { access, permissions, getEntityByRef };
}

const ada = mockCredentials.user('user:default/ada');
const bob = mockCredentials.user('user:default/bob');

describe('ViewerAccess', () => {
  it('applies an owner condition to the entity itself: the owner may act, others only look', async () => {
    const { access, permissions } = setup();
    const owner = await access.resolve(ref, ada);
    expect(owner.entity.metadata.name).toBe('payments');
    expect([...owner.granted].sort()).toEqual(
      [
        'abort',
        'pause',
        'promote',
        'promote-full',
        'restart',
        'resume',
        'retry',
        'rollback',
        'start',
      ].sort(),
    );
    const other = await access.resolve(ref, bob);
    expect([...other.granted]).toEqual([]);
    // Decided here, without the permission backend asking the catalog to apply the conditions.
    expect(permissions.authorize).not.toHaveBeenCalled();
  });

  it('reuses the entity for every viewer and the decisions per viewer within the time to live', async () => {
    const { access, permissions, getEntityByRef } = setup();
    await Promise.all([
      access.resolve(ref, ada),
      access.resolve(ref, ada),
      access.resolve(ref, bob),
    ]);
    await access.resolve(ref, ada);
    expect(getEntityByRef).toHaveBeenCalledTimes(1);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);
  });

  it('does not keep an entity that is missing: once registered it shows at once', async () => {
    const { access, getEntityByRef } = setup();
    const later = { ...ref, name: 'later' };
    await expect(access.resolve(later, ada)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    getEntityByRef.mockResolvedValueOnce({
      ...entity,
      metadata: { name: 'later', namespace: 'default' },
    });
    expect((await access.resolve(later, ada)).entity.metadata.name).toBe(
      'later',
    );
  });

  it('asks every time when the time to live is 0', async () => {
    const { access, permissions, getEntityByRef } = setup({ ttlMs: 0 });
    await access.resolve(ref, ada);
    await access.resolve(ref, ada);
    expect(getEntityByRef).toHaveBeenCalledTimes(2);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);
  });

  it('sends conditions with rules the catalog does not ship to the permission backend', async () => {
    const { access, permissions } = setup({
      actionDecision: {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ON_CALL',
          resourceType: 'catalog-entity',
          params: {},
        },
      },
    });
    const { granted } = await access.resolve(ref, bob);
    expect(granted.has('promote')).toBe(true);
    expect(permissions.authorize).toHaveBeenCalledWith(
      [
        expect.objectContaining({
          resourceRef: 'component:default/payments',
        }),
      ],
      { credentials: bob },
    );
  });

  it('answers 404 for an entity that is missing or the viewer may not read, 403 when rollouts are hidden', async () => {
    const { access, permissions } = setup();
    await expect(
      access.resolve({ ...ref, name: 'nope' }, ada),
    ).rejects.toBeInstanceOf(NotFoundError);

    permissions.authorizeConditional.mockImplementation(async queries =>
      queries.map(q => ({
        result:
          q.permission.name === 'catalog.entity.read'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
      })),
    );
    const carol = mockCredentials.user('user:default/carol');
    await expect(access.resolve(ref, carol)).rejects.toBeInstanceOf(
      NotFoundError,
    );

    permissions.authorizeConditional.mockImplementation(async queries =>
      queries.map(q => ({
        result:
          q.permission.name === 'rollouts.rollout.read'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
      })),
    );
    const dan = mockCredentials.user('user:default/dan');
    await expect(access.resolve(ref, dan)).rejects.toBeInstanceOf(
      NotAllowedError,
    );
  });

  it('lets a service principal start rollouts and nothing else', async () => {
    const { access, permissions } = setup();
    permissions.authorizeConditional.mockImplementation(async queries =>
      queries.map(() => ({ result: AuthorizeResult.ALLOW })),
    );
    const { granted } = await access.resolve(ref, mockCredentials.service());
    expect([...granted]).toEqual(['start']);
  });
});
