import { KubernetesObject } from '@kubernetes/client-node';

/** `namespace/name`, the key objects are stored under (`/name` for cluster-scoped ones). */
export function objectKey(obj: KubernetesObject) {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
}

/**
 * Objects of one kind by namespace/name, indexed by namespace and by the uid of their controlling
 * owner. Views and reconciles look up "the ReplicaSets of this Deployment" and "the pods of this
 * ReplicaSet" for every rollout; with a thousand rollouts a scan per lookup made a reconcile pass
 * quadratic in the cluster's size.
 */
export class ObjectIndex<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly byOwner = new Map<string, Map<string, T>>();

  get size() {
    return this.objects.size;
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.objects.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  /** The objects whose controlling owner (ownerReferences[].controller) has this uid. */
  ownedBy(uid: string): T[] {
    return [...(this.byOwner.get(uid)?.values() ?? [])];
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  put(obj: T) {
    const key = objectKey(obj);
    this.delete(key);
    this.objects.set(key, obj);
    this.bucket(this.byNamespace, obj.metadata?.namespace ?? '').set(key, obj);
    const owner = ownerUid(obj);
    if (owner) this.bucket(this.byOwner, owner).set(key, obj);
  }

  /** Removes by `namespace/name`. */
  delete(key: string) {
    const existing = this.objects.get(key);
    if (!existing) return;
    this.objects.delete(key);
    this.unbucket(this.byNamespace, existing.metadata?.namespace ?? '', key);
    const owner = ownerUid(existing);
    if (owner) this.unbucket(this.byOwner, owner, key);
  }

  private bucket(index: Map<string, Map<string, T>>, name: string) {
    let bucket = index.get(name);
    if (!bucket) {
      bucket = new Map();
      index.set(name, bucket);
    }
    return bucket;
  }

  private unbucket(
    index: Map<string, Map<string, T>>,
    name: string,
    key: string,
  ) {
    const bucket = index.get(name);
    bucket?.delete(key);
    if (bucket?.size === 0) index.delete(name);
  }
}

function ownerUid(obj: KubernetesObject): string | undefined {
  return obj.metadata?.ownerReferences?.find(o => o.controller)?.uid;
}
