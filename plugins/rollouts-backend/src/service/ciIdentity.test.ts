import { mockCredentials } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { githubActionsIdentityOf, githubActionsRefusal } from './ciIdentity';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-api',
    annotations: {
      'github.com/project-slug': 'Acme/orders-api',
      'rollouts.backstage.io/image-repository': 'ghcr.io/acme/orders-api',
    },
  },
};
const DIGEST = `sha256:${'b'.repeat(64)}`;
const ci = (sub: string) =>
  githubActionsIdentityOf(
    mockCredentials.service(`external:github-actions:${sub}`),
    'github-actions',
  );

describe('githubActionsIdentityOf', () => {
  it('reads the repository from the subject of a jwks principal', () => {
    expect(ci('repo:acme/orders-api:environment:production')).toEqual({
      repository: 'acme/orders-api',
      context: 'environment:production',
    });
    expect(ci('repo:acme/orders-api:ref:refs/heads/main')).toEqual({
      repository: 'acme/orders-api',
      context: 'ref:refs/heads/main',
    });
  });

  it('is no identity for other principals, and an unparsable one under the prefix', () => {
    expect(
      githubActionsIdentityOf(
        mockCredentials.service('ci-deployer'),
        'github-actions',
      ),
    ).toBeUndefined();
    expect(
      githubActionsIdentityOf(
        mockCredentials.user('user:default/ada'),
        'github-actions',
      ),
    ).toBeUndefined();
    expect(ci('organization:acme')).toBe('unparsable');
  });
});

describe('githubActionsRefusal', () => {
  const own = {
    repository: 'acme/orders-api',
    context: 'environment:production',
  };
  const deployContexts = ['environment:production'];
  const refusal = (
    identity: Parameters<typeof githubActionsRefusal>[0],
    on: Entity,
    image?: string,
  ) => githubActionsRefusal(identity, on, { image, deployContexts });

  it.each([
    'ghcr.io/acme/orders-api:sha-1',
    `ghcr.io/acme/orders-api:sha-1@${DIGEST}`,
    `ghcr.io/acme/orders-api@${DIGEST}`,
  ])('lets a repository start its own entity with %s', image => {
    expect(refusal(own, entity, image)).toBeUndefined();
  });

  it('refuses another repository', () => {
    expect(
      refusal({ ...own, repository: 'mallory/tools' }, entity, 'x:1'),
    ).toMatch(
      /may start rollouts only of the entity whose github.com\/project-slug is mallory\/tools/,
    );
  });

  it.each([
    'ghcr.io/acme/orders-api-evil:1',
    'evil.example/pwn:2',
    'ghcr.io/acme/orders-api:evil/x',
    'ghcr.io/acme/orders:1',
    'ghcr.io/acme/orders-api',
  ])(
    'refuses the image %s: not a tagged or digested image of the repository',
    image => {
      expect(refusal(own, entity, image)).toMatch(
        /may start only images of ghcr.io\/acme\/orders-api/,
      );
    },
  );

  it.each(['pull_request', 'ref:refs/heads/feature-x', 'environment:staging'])(
    'refuses a job that ran for %s: only the deploy context may deploy',
    context => {
      expect(
        refusal({ ...own, context }, entity, 'ghcr.io/acme/orders-api:1'),
      ).toMatch(
        new RegExp(`only from environment:production .* not from ${context}`),
      );
    },
  );

  it('refuses every image of an entity that names no image repository', () => {
    const bare = {
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: { 'github.com/project-slug': 'acme/orders-api' },
      },
    };
    expect(refusal(own, bare, 'ghcr.io/acme/orders-api:1')).toMatch(
      /names no image repository/,
    );
    expect(refusal('unparsable', entity)).toMatch(/names no repository/);
  });
});
