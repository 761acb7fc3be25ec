import { RestClient } from './RestClient';

/** A kind the mirror keeps: its API version, kind, and REST names (from discovery). */
interface MirroredKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** What tests look at: the workload kinds, and what the controllers make of them. */
export const MIRRORED_KINDS: Array<[apiVersion: string, kind: string]> = [
  ['v1', 'Namespace'],
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['v1', 'Endpoints'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'ReplicaSet'],
];

const key = (apiVersion: string, kind: string, ns: string, name: string) =>
  `${apiVersion}/${kind}/${ns}/${name}`;

/** `a=b,c!=d,e,!f`: the equality-based selectors the suites use. */
function matches(labels: Record<string, string>, selector?: string): boolean {
  if (!selector) return true;
  return selector
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
    .every(term => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return labels[ne[1]] !== ne[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels[eq[1]] === eq[2];
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}

/** The states a recorded stretch of changes went through, in the server's order (see recordChanges). */
export class ChangeReplay {
  constructor(
    private readonly base: Map<string, any>,
    private readonly changes: Array<{ obj: any; deleted: boolean }>,
  ) {}

  get length() {
    return this.changes.length;
  }

  /**
   * Calls `check` with the cluster as it was when recording began, then after each change; the
   * state reads as `control.get`/`list` do.
   */
  forEachState(
    check: (state: {
      get(
        apiVersion: string,
        kind: string,
        namespace: string,
        name: string,
      ): any;
      list(
        apiVersion: string,
        kind: string,
        namespace?: string,
        labelSelector?: string,
      ): any[];
    }) => void,
  ) {
    const objects = new Map(this.base);
    const rv = (o: any) => BigInt(o.metadata.resourceVersion ?? 0);
    const ordered = [...this.changes].sort((a, b) => {
      const d = rv(a.obj) - rv(b.obj);
      return d < 0n ? -1 : Number(d > 0n);
    });
    const state = {
      get: (
        apiVersion: string,
        kind: string,
        namespace: string,
        name: string,
      ) => objects.get(key(apiVersion, kind, namespace, name)),
      list: (
        apiVersion: string,
        kind: string,
        namespace?: string,
        labelSelector?: string,
      ) => {
        const prefix = `${apiVersion}/${kind}/${
          namespace === undefined ? '' : `${namespace}/`
        }`;
        return [...objects.entries()]
          .filter(([k]) => k.startsWith(prefix))
          .map(([, o]) => o)
          .filter(o => matches(o.metadata?.labels ?? {}, labelSelector));
      },
    };
    check(state);
    for (const { obj, deleted } of ordered) {
      const k = key(
        obj.apiVersion,
        obj.kind,
        obj.metadata.namespace ?? '',
        obj.metadata.name,
      );
      const before = objects.get(k);
      // A write's answer and its watch event carry the same version: apply once, never go back.
      if (!deleted && before && rv(before) >= rv(obj)) continue;
      if (deleted) objects.delete(k);
      else objects.set(k, obj);
      check(state);
    }
  }
}

/**
 * A list+watch copy of a real API server's objects of the mirrored kinds, so that tests read the
 * cluster synchronously, as they read kube-sim's store through `control.get` / `control.list`.
 * A watch that ends or fails is resumed from the last resourceVersion, or re-listed after 410.
 * Reads lag the server by a watch event; `waitFor` and `apply` (which waits for its own writes
 * to be mirrored) hide that.
 */
export class ClusterMirror {
  private readonly objects = new Map<string, any>();
  private readonly kinds = new Map<string, MirroredKind>();
  private stopped = false;
  private readonly open = new Set<{ destroy(): void }>();
  /** Watches that ended with 410 Gone and were re-listed: what only a compacting server does. */
  relists = 0;
  private readonly mirrored = new Set<string>();
  private readonly listeners = new Set<(obj: any, deleted: boolean) => void>();

  constructor(private readonly client: RestClient) {}

  async start(kinds = MIRRORED_KINDS): Promise<void> {
    for (const [apiVersion, kind] of kinds) {
      const k = await this.resolve(apiVersion, kind);
      this.mirrored.add(`${apiVersion}/${kind}`);
      await this.relist(k);
    }
  }

  /** The REST names of a kind, from the server's discovery document. */
  async resolve(apiVersion: string, kind: string): Promise<MirroredKind> {
    const known = this.kinds.get(`${apiVersion}/${kind}`);
    if (known) return known;
    const path = apiVersion.includes('/')
      ? `/apis/${apiVersion}`
      : `/api/${apiVersion}`;
    const res = await this.client.request('GET', path);
    if (res.status !== 200) {
      throw new Error(`discovery of ${apiVersion} answered ${res.status}`);
    }
    for (const r of res.body.resources ?? []) {
      if (r.name.includes('/')) continue;
      this.kinds.set(`${apiVersion}/${r.kind}`, {
        apiVersion,
        kind: r.kind,
        plural: r.name,
        namespaced: r.namespaced,
      });
    }
    const found = this.kinds.get(`${apiVersion}/${kind}`);
    if (!found) throw new Error(`${apiVersion} serves no kind ${kind}`);
    return found;
  }

  /** The collection path of a kind, in one namespace or all. */
  static collection(k: MirroredKind, namespace?: string): string {
    const base = k.apiVersion.includes('/')
      ? `/apis/${k.apiVersion}`
      : `/api/${k.apiVersion}`;
    return k.namespaced && namespace
      ? `${base}/namespaces/${namespace}/${k.plural}`
      : `${base}/${k.plural}`;
  }

  /** Called with every object the mirror takes in (or, deleted, lets go of). */
  onChange(listener: (obj: any, deleted: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(obj: any, deleted = false) {
    for (const l of this.listeners) l(obj, deleted);
  }

  /**
   * Records every change from now on, for a check of an invariant in the server's own order of
   * changes: replaying them sorted by resourceVersion (etcd's revision, one sequence for all kinds)
   * gives each state the cluster went through, which sampling a mirror fed by one watch per kind
   * (each with its own lag) cannot. `stop()` returns the replay.
   */
  recordChanges(): { stop(): ChangeReplay } {
    const base = new Map(this.objects);
    const changes: Array<{ obj: any; deleted: boolean }> = [];
    const unsubscribe = this.onChange((obj, deleted) =>
      changes.push({ obj: structuredClone(obj), deleted }),
    );
    return {
      stop: () => {
        unsubscribe();
        return new ChangeReplay(base, changes);
      },
    };
  }

  /**
   * Takes in what a write answered, ahead of its watch event, unless the mirror already holds a
   * newer version: a controller reads its own writes at once.
   */
  observe(obj: any) {
    const k = this.kinds.get(`${obj.apiVersion}/${obj.kind}`);
    if (!k || !this.mirrored.has(`${k.apiVersion}/${k.kind}`)) return;
    if (this.has(obj)) return;
    this.put(k, obj);
  }

  private put(k: MirroredKind, obj: any) {
    obj.apiVersion ??= k.apiVersion;
    obj.kind ??= k.kind;
    this.objects.set(
      key(
        k.apiVersion,
        k.kind,
        obj.metadata.namespace ?? '',
        obj.metadata.name,
      ),
      obj,
    );
    this.changed(obj);
  }

  private async relist(k: MirroredKind) {
    const res = await this.client.request('GET', ClusterMirror.collection(k));
    if (res.status !== 200) {
      throw new Error(
        `listing ${k.plural} answered ${res.status}: ${JSON.stringify(
          res.body,
        )}`,
      );
    }
    const prefix = `${k.apiVersion}/${k.kind}/`;
    for (const existing of [...this.objects.keys()]) {
      if (existing.startsWith(prefix)) this.objects.delete(existing);
    }
    for (const item of res.body.items ?? []) this.put(k, item);
    this.watch(k, res.body.metadata.resourceVersion);
  }

  private watch(k: MirroredKind, resourceVersion: string) {
    if (this.stopped) return;
    let rv = resourceVersion;
    let buffer = '';
    let gone = false;
    const req = this.client.open(
      'GET',
      `${ClusterMirror.collection(
        k,
      )}?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
      res => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          const lines = buffer.split('\n');
          buffer = lines.pop()!;
          for (const raw of lines) {
            const line = raw.trim();
            if (!line) continue;
            const event = JSON.parse(line);
            if (event.type === 'ERROR') {
              if (event.object?.code === 410) gone = true;
              continue;
            }
            rv = event.object?.metadata?.resourceVersion ?? rv;
            if (event.type === 'BOOKMARK') continue;
            const o = event.object;
            if (event.type === 'DELETED') {
              this.changed(
                { ...o, apiVersion: k.apiVersion, kind: k.kind },
                true,
              );
              this.objects.delete(
                key(
                  k.apiVersion,
                  k.kind,
                  o.metadata.namespace ?? '',
                  o.metadata.name,
                ),
              );
            } else this.put(k, o);
          }
        });
        res.on('end', () => this.resume(k, rv, gone));
        res.on('error', () => this.resume(k, rv, gone));
      },
    );
    req.on('error', () => this.resume(k, rv, gone));
    req.end();
    this.open.add(req);
    req.on('close', () => this.open.delete(req));
  }

  private resume(k: MirroredKind, rv: string, gone: boolean) {
    if (this.stopped) return;
    if (!gone) {
      setTimeout(() => this.watch(k, rv), 50).unref();
      return;
    }
    this.relists++;
    const again = () =>
      this.relist(k).catch(() => {
        if (!this.stopped) setTimeout(again, 200).unref();
      });
    again();
  }

  get(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): any | undefined {
    return this.objects.get(key(apiVersion, kind, namespace, name));
  }

  list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): any[] {
    const prefix = `${apiVersion}/${kind}/${
      namespace === undefined ? '' : `${namespace}/`
    }`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, o]) => o)
      .filter(o => matches(o.metadata?.labels ?? {}, labelSelector));
  }

  /** True once the mirror holds this object at this resourceVersion or later. */
  has(obj: any): boolean {
    const seen = this.get(
      obj.apiVersion,
      obj.kind,
      obj.metadata.namespace ?? '',
      obj.metadata.name,
    );
    return (
      !!seen &&
      BigInt(seen.metadata.resourceVersion) >=
        BigInt(obj.metadata.resourceVersion)
    );
  }

  isMirrored(apiVersion: string, kind: string): boolean {
    return this.mirrored.has(`${apiVersion}/${kind}`);
  }

  stop() {
    this.stopped = true;
    for (const req of this.open) req.destroy();
    this.client.close();
  }
}
