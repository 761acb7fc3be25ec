import { ControllerContext, TYPES } from './types';
import { RESOURCE_TYPES } from '../api/resources';

/** Removes objects whose owners are gone (background cascading deletion) and finishes namespace deletion. */
export function collectGarbage(ctx: ControllerContext) {
  for (const type of RESOURCE_TYPES) {
    if (type.version === 'v1' && type.group === 'autoscaling') continue; // same storage as autoscaling/v2
    for (const s of ctx.store.all(type)) {
      const refs: any[] = s.obj.metadata.ownerReferences ?? [];
      if (!refs.length) continue;
      if (refs.some(r => ctx.store.getByUid(r.uid))) continue;
      try {
        ctx.store.delete(
          type,
          s.obj.metadata.namespace ?? '',
          s.obj.metadata.name,
        );
        if (type === TYPES.pods) ctx.pods.forget(s.obj.metadata.uid);
      } catch {
        // Deleted meanwhile.
      }
    }
  }
  for (const ns of ctx.store.all(TYPES.namespaces)) {
    if (!ns.obj.metadata.deletionTimestamp) continue;
    const name = ns.obj.metadata.name;
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
}
