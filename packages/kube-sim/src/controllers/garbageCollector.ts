import { ControllerContext, TYPES } from './types';
import { RESOURCE_TYPES, ResourceType } from '../api/resources';

/**
 * The garbage collector, per object: removes an object whose owners are all gone (background
 * cascading deletion), and finishes the deletion of a terminating namespace.
 */

/** Removes `namespace/name` of `type` when it has owner references and none of its owners exists. */
export function collectGarbage(
  ctx: ControllerContext,
  type: ResourceType,
  namespace: string,
  name: string,
) {
  const s = ctx.store.get(type, namespace, name);
  if (!s) return;
  const refs: any[] = s.obj.metadata.ownerReferences ?? [];
  if (!refs.length) return;
  if (refs.some(r => ctx.store.getByUid(r.uid))) return;
  try {
    ctx.store.delete(type, namespace, name);
    if (type === TYPES.pods) ctx.pods.forget(s.obj.metadata.uid);
  } catch {
    // Deleted meanwhile.
  }
}

/** Deletes everything in a namespace marked for deletion, then the namespace. */
export function finishNamespace(ctx: ControllerContext, name: string) {
  const ns = ctx.store.get(TYPES.namespaces, '', name);
  if (!ns?.obj.metadata.deletionTimestamp) return;
  for (const type of RESOURCE_TYPES) {
    if (!type.namespaced) continue;
    for (const s of ctx.store.all(type, name)) {
      try {
        ctx.store.delete(type, name, s.obj.metadata.name);
      } catch {
        // Deleted meanwhile.
      }
    }
  }
  ctx.store.delete(TYPES.namespaces, '', name);
}
