import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Entity refs compare case-insensitively, as the catalog compares them.
 * @public
 */
export function normalizeEntityRef(ref: string): string {
  return stringifyEntityRef(parseEntityRef(ref.trim())).toLocaleLowerCase(
    'en-US',
  );
}

/**
 * What an object's binding annotation (`rollouts.backstage.io/entity`) says: the normalized entity
 * refs it names, `undefined` without one, `invalid` when it is not a list of entity refs (a value
 * that names nobody we could trust). Read alike by the rollouts engine and the template's apply
 * step.
 * @public
 */
export function boundEntityRefs(
  obj: KubernetesObject | undefined,
): string[] | 'invalid' | undefined {
  const value = obj?.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.entity];
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
