import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { ROLLOUT_ENTITY_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';

/** A CI job signed in with its repository's GitHub Actions OIDC token. */
export interface GitHubActionsIdentity {
  /** `owner/repo`, from the token's subject. */
  repository: string;
  /** What the job ran for: `environment:production`, `ref:refs/heads/main`, `pull_request`, ... */
  context: string;
}

/** The contexts a deploy job runs in when config does not say: the generated job's environment. */
export const DEFAULT_DEPLOY_CONTEXTS = ['environment:production'];

/**
 * The GitHub Actions identity of a service principal, if it is one. Backstage's `jwks` external
 * access turns a verified token into the subject `external:<subjectPrefix>:<sub>`, and GitHub's
 * `sub` is `repo:OWNER/REPO:<context>` (`environment:production`, `ref:refs/heads/main`, ...).
 * A subject under the prefix that does not parse is an identity that may start nothing.
 */
export function githubActionsIdentityOf(
  credentials: BackstageCredentials,
  subjectPrefix: string,
): GitHubActionsIdentity | 'unparsable' | undefined {
  const principal = credentials.principal as { type: string; subject?: string };
  if (principal.type !== 'service' || !principal.subject) return undefined;
  const prefix = `external:${subjectPrefix}:`;
  if (!principal.subject.startsWith(prefix)) return undefined;
  const m = /^repo:([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+):(.+)$/.exec(
    principal.subject.slice(prefix.length),
  );
  return m ? { repository: m[1], context: m[2] } : 'unparsable';
}

const sameRepository = (a: string, b: string) =>
  a.toLocaleLowerCase('en-US') === b.toLocaleLowerCase('en-US');

/** What must follow an image repository: a tag, a digest, or both (never the implied `latest`). */
const TAG_OR_DIGEST =
  /^(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64}|:[\w][\w.-]{0,127}@sha256:[a-f0-9]{64})$/;

/**
 * Why a GitHub Actions identity may not start this rollout, or `undefined` when it may: only from
 * a deploy context (the job's environment), only on the entity whose `github.com/project-slug` is
 * the token's repository, and (when an image is given) only a tagged or digested image of the
 * entity's `rollouts.backstage.io/image-repository`. Both annotations
 * are the catalog's, which is why the cluster-side binding is checked as well: a registered entity
 * that names somebody's repository still reaches no workload that is not its own.
 */
export function githubActionsRefusal(
  identity: GitHubActionsIdentity | 'unparsable',
  entity: Entity,
  options: { image?: string; deployContexts: string[] },
): string | undefined {
  const { image, deployContexts } = options;
  if (identity === 'unparsable') {
    return 'The GitHub Actions token names no repository (subject repo:OWNER/REPO:...)';
  }
  // A pull request's or a feature branch's job must not deploy: only the deploy job's context
  // (a protected environment by default) may.
  if (!deployContexts.includes(identity.context)) {
    return `GitHub Actions of ${
      identity.repository
    } may start rollouts only from ${deployContexts.join(
      ' or ',
    )} (rollouts.githubActions.deployContexts), not from ${identity.context}`;
  }
  const entityRef = stringifyEntityRef(entity);
  const annotations = entity.metadata.annotations ?? {};
  const slug = annotations[ROLLOUT_ENTITY_ANNOTATIONS.githubProjectSlug];
  if (!slug || !sameRepository(slug, identity.repository)) {
    return `GitHub Actions of ${
      identity.repository
    } may start rollouts only of the entity whose ${
      ROLLOUT_ENTITY_ANNOTATIONS.githubProjectSlug
    } is ${identity.repository}; ${entityRef} names ${slug ?? 'no repository'}`;
  }
  if (image === undefined) return undefined;
  const repository = annotations[ROLLOUT_ENTITY_ANNOTATIONS.imageRepository];
  if (!repository) {
    return `${entityRef} names no image repository (${ROLLOUT_ENTITY_ANNOTATIONS.imageRepository}), so its CI may start no image`;
  }
  if (
    !image.startsWith(repository) ||
    !TAG_OR_DIGEST.test(image.slice(repository.length))
  ) {
    return `GitHub Actions of ${identity.repository} may start only images of ${repository} with a tag or digest, not ${image}`;
  }
  return undefined;
}
