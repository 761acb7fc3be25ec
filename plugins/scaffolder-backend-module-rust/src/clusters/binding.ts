import { InputError } from '@backstage/errors';
import { normalizeEntityRef } from '@rust-delivery-portal/plugin-rollouts-node';

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
