import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { ROLLOUT_ANNOTATIONS } from '@internal/plugin-rollouts-common';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Entity refs compare case-insensitively, as the catalog compares them (the rollouts engine's
 * `normalizeEntityRef` does the same, so both read the binding annotation alike).
 */
export function normalizeEntityRef(ref: string): string {
  return stringifyEntityRef(parseEntityRef(ref.trim())).toLocaleLowerCase(
    'en-US',
  );
}

/** The catalog's name rules for kind, namespace and name (`kind:namespace/name`, all written out). */
const FULL_ENTITY_REF_PATTERN =
  /^[a-zA-Z][a-zA-Z0-9]*:[a-z0-9]+(?:-[a-z0-9]+)*\/[a-zA-Z0-9](?:[-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;

/**
 * The `entityRef` input of the actions, normalized (`component:default/orders`). Kind and namespace
 * must be written out, and nothing but one ref is accepted: the annotation it becomes is also read
 * as a comma-separated list.
 */
export function requireEntityRef(ref: string): string {
  if (!FULL_ENTITY_REF_PATTERN.test(ref)) {
    throw new InputError(
      `Invalid entityRef ${JSON.stringify(
        ref,
      )}: expected one entity ref of the form kind:namespace/name, e.g. component:default/orders`,
    );
  }
  return normalizeEntityRef(ref);
}

/**
 * What an object's `rollouts.backstage.io/entity` annotation says: the normalized entity refs it
 * names, `undefined` without one, `invalid` when it is not a list of entity refs.
 */
export function boundEntityRefs(
  object: KubernetesObject | undefined,
): string[] | 'invalid' | undefined {
  const value = object?.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.entity];
  if (value === undefined) return undefined;
  const parts = value
    .split(',')
    .map(part => part.trim())
    .filter(Boolean);
  if (parts.length === 0) return 'invalid';
  try {
    return [...new Set(parts.map(normalizeEntityRef))];
  } catch {
    return 'invalid';
  }
}

/** Namespaces of the cluster itself, never a service's (`kube-system`, `kube-public`, ...). */
export function isSystemNamespace(namespace: string): boolean {
  return namespace.startsWith('kube-');
}

/** Throws the InputError users read when they name a `kube-*` namespace. */
export function requireServiceNamespace(namespace: string): void {
  if (isSystemNamespace(namespace)) {
    throw new InputError(
      `Namespace "${namespace}" belongs to the cluster itself: services are not deployed to kube-* namespaces`,
    );
  }
}
