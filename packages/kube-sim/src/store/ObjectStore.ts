import { randomUUID } from 'node:crypto';
import { ResourceType, groupVersion, storageKey } from '../api/resources';
import { ApiError, errors } from '../api/status';
import { validateObject } from './validation';
import { applyDefaults } from './defaults';

/**
 * The object store: one global resourceVersion counter (as etcd's revision), objects indexed by
 * resource, namespace and name so that a namespaced list never scans other namespaces, a bounded
 * history of changes for watches that resume from a resourceVersion, and a uid index for owners.
 */

/** @public */
export interface StoredObject {
  readonly obj: any;
  /** The object serialized once per write, so reads cost no JSON.stringify. */
  readonly json: string;
  readonly rv: number;
}

/** @public */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** @public */
export interface ChangeEvent {
  type: WatchEventType;
  key: string;
  namespace: string;
  rv: number;
  object: StoredObject;
  previous?: StoredObject;
}

/** @public */
export interface WriteOptions {
  /** `status`: writes only `status` (the status subresource); `all`: writes everything given, for controllers. */
  subresource?: 'status' | 'all';
  /** Fails with 409 when the body carries another resourceVersion than the stored one. */
  checkResourceVersion?: boolean;
}

/** @public */
export type Listener = (event: ChangeEvent) => void;

const NAMESPACE_TYPE: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  verbs: [],
};

/** @public */
export class ObjectStore {
  private revision = 1;
  private readonly data = new Map<
    string,
    Map<string, Map<string, StoredObject>>
  >();
  private readonly uids = new Map<
    string,
    { type: ResourceType; namespace: string; name: string }
  >();
  private readonly history: ChangeEvent[] = [];
  private historyStart = 0;
  /** Watches that ask for events older than this get 410 Gone. */
  private oldestRetained = 1;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly anyListeners = new Set<Listener>();

  constructor(private readonly historySize = 10000) {}

  get resourceVersion(): number {
    return this.revision;
  }

  get oldestResourceVersion(): number {
    return this.oldestRetained;
  }

  private bucket(type: ResourceType, namespace: string, create: boolean) {
    const key = storageKey(type);
    let byNs = this.data.get(key);
    if (!byNs) {
      if (!create) return undefined;
      byNs = new Map();
      this.data.set(key, byNs);
    }
    let byName = byNs.get(namespace);
    if (!byName && create) {
      byName = new Map();
      byNs.set(namespace, byName);
    }
    return byName;
  }

  get(
    type: ResourceType,
    namespace: string,
    name: string,
  ): StoredObject | undefined {
    return this.bucket(type, type.namespaced ? namespace : '', false)?.get(
      name,
    );
  }

  getByUid(uid: string): StoredObject | undefined {
    const ref = this.uids.get(uid);
    if (!ref) return undefined;
    return this.get(ref.type, ref.namespace, ref.name);
  }

  /** Objects of a type, in one namespace or all; sorted by namespace then name as the API lists them. */
  list(type: ResourceType, namespace?: string): StoredObject[] {
    const byNs = this.data.get(storageKey(type));
    if (!byNs) return [];
    if (namespace !== undefined && type.namespaced) {
      const byName = byNs.get(namespace);
      if (!byName) return [];
      return [...byName.keys()].sort().map(n => byName.get(n)!);
    }
    const out: StoredObject[] = [];
    for (const ns of [...byNs.keys()].sort()) {
      const byName = byNs.get(ns)!;
      for (const n of [...byName.keys()].sort()) out.push(byName.get(n)!);
    }
    return out;
  }

  /** Objects of a type in no particular order: for controllers, which need no sorting. */
  all(type: ResourceType, namespace?: string): StoredObject[] {
    const byNs = this.data.get(storageKey(type));
    if (!byNs) return [];
    if (namespace !== undefined && type.namespaced)
      return [...(byNs.get(namespace)?.values() ?? [])];
    const out: StoredObject[] = [];
    for (const byName of byNs.values())
      for (const v of byName.values()) out.push(v);
    return out;
  }

  namespaces(type: ResourceType): string[] {
    return [...(this.data.get(storageKey(type))?.keys() ?? [])];
  }

  private entry(obj: any, rv: number): StoredObject {
    return { obj, json: JSON.stringify(obj), rv };
  }

  private record(event: ChangeEvent) {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.historySize) {
      const dropped = this.history[this.historyStart];
      this.historyStart++;
      this.oldestRetained = dropped.rv + 1;
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const l of this.listeners.get(event.key) ?? []) l(event);
    for (const l of this.anyListeners) l(event);
  }

  /** Changes after a resourceVersion, or undefined when that version is no longer retained. */
  changesSince(key: string, rv: number): ChangeEvent[] | undefined {
    if (rv + 1 < this.oldestRetained) return undefined;
    const out: ChangeEvent[] = [];
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const e = this.history[i];
      if (e.rv <= rv) break;
      if (e.key === key) out.push(e);
    }
    return out.reverse();
  }

  subscribe(key: string, listener: Listener): () => void {
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(listener);
    return () => set!.delete(listener);
  }

  subscribeAll(listener: Listener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  private validate(type: ResourceType, obj: any) {
    const causes = validateObject(type, obj);
    if (causes.length) {
      throw errors.invalid(
        type.kind,
        type.group,
        String(obj?.metadata?.name ?? ''),
        causes,
      );
    }
  }

  create(type: ResourceType, input: any): StoredObject {
    const obj = structuredClone(input ?? {});
    obj.apiVersion = groupVersion(type);
    obj.kind = type.kind;
    obj.metadata = obj.metadata ?? {};
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) {
      meta.name = `${meta.generateName}${randomSuffix(5)}`;
    }
    const namespace = type.namespaced ? meta.namespace || 'default' : '';
    if (type.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    delete meta.deletionTimestamp;
    // As the API's create strategies do: status is the controllers' to write, never the creator's.
    if (type.statusSubresource) delete obj.status;
    pruneNulls(obj);
    applyDefaults(type, obj);
    this.validate(type, obj);
    if (type.namespaced && namespace) {
      const nsType = NAMESPACE_TYPE;
      const ns = this.get(nsType, '', namespace);
      if (!ns) throw errors.notFound('namespaces', '', namespace);
      if (ns.obj.status?.phase === 'Terminating') {
        throw new ApiError(
          403,
          'Forbidden',
          `${type.plural} "${meta.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        );
      }
    }
    const bucket = this.bucket(type, namespace, true)!;
    if (bucket.has(meta.name))
      throw errors.alreadyExists(type.plural, type.group, meta.name);
    const rv = ++this.revision;
    meta.uid = randomUUID();
    meta.resourceVersion = String(rv);
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (type.generation) meta.generation = 1;
    const stored = this.entry(obj, rv);
    bucket.set(meta.name, stored);
    this.uids.set(meta.uid, { type, namespace, name: meta.name });
    this.record({
      type: 'ADDED',
      key: storageKey(type),
      namespace,
      rv,
      object: stored,
    });
    return stored;
  }

  update(
    type: ResourceType,
    input: any,
    options: WriteOptions = {},
  ): StoredObject {
    const meta = input?.metadata ?? {};
    const namespace = type.namespaced ? meta.namespace || 'default' : '';
    const name = meta.name;
    const current = name ? this.get(type, namespace, name) : undefined;
    if (!current)
      throw errors.notFound(type.plural, type.group, String(name ?? ''));
    if (
      options.checkResourceVersion &&
      meta.resourceVersion &&
      meta.resourceVersion !== current.obj.metadata.resourceVersion
    ) {
      throw errors.conflict(type.plural, type.group, name);
    }
    if (meta.uid && meta.uid !== current.obj.metadata.uid) {
      throw errors.conflict(type.plural, type.group, name);
    }
    let obj: any;
    if (options.subresource === 'status') {
      obj = structuredClone(current.obj);
      obj.status = structuredClone(input.status);
    } else if (options.subresource === 'all') {
      obj = structuredClone(input);
    } else {
      obj = structuredClone(input);
      if (type.statusSubresource) {
        obj.status = structuredClone(current.obj.status);
        if (obj.status === undefined) delete obj.status;
      }
    }
    obj.apiVersion = groupVersion(type);
    obj.kind = type.kind;
    const prevMeta = current.obj.metadata;
    obj.metadata.uid = prevMeta.uid;
    obj.metadata.creationTimestamp = prevMeta.creationTimestamp;
    obj.metadata.name = prevMeta.name;
    if (type.namespaced) obj.metadata.namespace = namespace;
    if (prevMeta.deletionTimestamp)
      obj.metadata.deletionTimestamp = prevMeta.deletionTimestamp;
    else if (options.subresource !== 'all')
      delete obj.metadata.deletionTimestamp;
    pruneNulls(obj);
    applyDefaults(type, obj);
    if (type.generation) {
      const specChanged =
        options.subresource !== 'status' &&
        JSON.stringify(obj.spec) !== JSON.stringify(current.obj.spec);
      obj.metadata.generation =
        (prevMeta.generation ?? 1) + (specChanged ? 1 : 0);
    } else if (prevMeta.generation !== undefined) {
      obj.metadata.generation = prevMeta.generation;
    }
    this.validate(type, obj);
    // A write that changes nothing keeps its resourceVersion and emits no event, as in etcd3's store.
    obj.metadata.resourceVersion = prevMeta.resourceVersion;
    if (JSON.stringify(obj) === current.json) return current;
    const rv = ++this.revision;
    obj.metadata.resourceVersion = String(rv);
    const stored = this.entry(obj, rv);
    this.bucket(type, namespace, true)!.set(name, stored);
    this.record({
      type: 'MODIFIED',
      key: storageKey(type),
      namespace,
      rv,
      object: stored,
      previous: current,
    });
    return stored;
  }

  delete(
    type: ResourceType,
    namespace: string,
    name: string,
    preconditions?: { uid?: string; resourceVersion?: string },
  ): StoredObject {
    const ns = type.namespaced ? namespace : '';
    const current = this.get(type, ns, name);
    if (!current) throw errors.notFound(type.plural, type.group, name);
    if (
      (preconditions?.uid && preconditions.uid !== current.obj.metadata.uid) ||
      (preconditions?.resourceVersion &&
        preconditions.resourceVersion !== current.obj.metadata.resourceVersion)
    ) {
      throw errors.conflict(type.plural, type.group, name);
    }
    const bucket = this.bucket(type, ns, false)!;
    bucket.delete(name);
    this.uids.delete(current.obj.metadata.uid);
    const rv = ++this.revision;
    const obj = structuredClone(current.obj);
    obj.metadata.resourceVersion = String(rv);
    const stored = this.entry(obj, rv);
    this.record({
      type: 'DELETED',
      key: storageKey(type),
      namespace: ns,
      rv,
      object: stored,
      previous: current,
    });
    return stored;
  }
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Random name suffix in the alphabet Kubernetes uses for generated names. */
export function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++)
    s += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return s;
}

/**
 * Drops null fields outside `status`, as decoding into Go types does (kubectl sends, for example,
 * `creationTimestamp: null` inside pod templates).
 */
function pruneNulls(obj: any) {
  const walk = (v: any) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (v[k] === null) delete v[k];
        else walk(v[k]);
      }
    }
  };
  for (const k of Object.keys(obj)) {
    if (k === 'status') continue;
    if (obj[k] === null) delete obj[k];
    else walk(obj[k]);
  }
}
