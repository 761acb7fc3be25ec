import { LoggerService } from '@backstage/backend-plugin-api';
import {
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  Watch,
} from '@kubernetes/client-node';
import { ObjectIndex, objectKey } from './ObjectIndex';

/** The object kinds a cluster cache watches. */
export type WatchedKind =
  | 'deployments'
  | 'replicasets'
  | 'pods'
  | 'services'
  | 'namespaces'
  | 'rollouts'
  | 'httproutes';

/** Told of every object a watch reports added, changed or deleted. */
export type ClusterChangeListener = (
  kind: WatchedKind,
  obj: KubernetesObject,
) => void;

/** How one kind is listed and watched, and what of each object is kept. */
export interface KindSource<T extends KubernetesObject> {
  kind: WatchedKind;
  /** The collection's path for watches, e.g. `/api/v1/pods`. */
  path: string;
  /** Lists the collection (with the same label selector as the watch). */
  list(): Promise<KubernetesListObject<T>>;
  /** Only the objects with these labels are listed and watched (the API server filters). */
  labelSelector?: string;
  /** What is kept of each object as it arrives. */
  slim(obj: T): T;
  /**
   * A kind the cluster may not serve (a CRD: Argo Rollouts', the Gateway API's HTTPRoutes):
   * `synced` resolves after the first attempt whatever it gave, and a list that finds the kind
   * missing or unreadable is retried once a minute, said once.
   */
  optional?: boolean;
}

/** A list or watch of a kind the cluster does not serve (404) or lets nobody here read (403). */
function isMissingKind(e: unknown): boolean {
  const err = e as { code?: number; statusCode?: number };
  const code = err?.code ?? err?.statusCode;
  return code === 404 || code === 403;
}

/**
 * Keeps one object kind of one cluster in memory, fed by a list and then a watch from the list's
 * resourceVersion (what client-go's reflector does). The slimmed objects live in the index and
 * nowhere else: no informer keeps a second, full copy. A watch the server ends is resumed from
 * the last resourceVersion seen; a watch that fails, or whose version expired (410), lists again
 * after a short back-off, so the cache heals itself. Objects the engine wrote itself are put in at
 * once (write-through), so the caller's next view shows its own action before the watch event.
 */
export class KindCache<T extends KubernetesObject> {
  private readonly objects = new ObjectIndex<T>();
  private readonly watcher: Watch;
  private resourceVersion = '';
  private request?: AbortController;
  private stopped = false;
  readonly synced: Promise<void>;

  constructor(
    kubeConfig: KubeConfig,
    private readonly source: KindSource<T>,
    private readonly logger: LoggerService,
    private readonly onChange: ClusterChangeListener,
  ) {
    this.watcher = new Watch(kubeConfig);
    this.synced = source.optional ? this.startOptional() : this.start();
  }

  get kind() {
    return this.source.kind;
  }

  /** How many objects are held (the benchmark's memory per object divides by it). */
  get size() {
    return this.objects.size;
  }

  /** An optional kind was found missing or unreadable: said once, listed again in a minute. */
  private toldMissing = false;
  private nextLook?: NodeJS.Timeout;

  private async startOptional(): Promise<void> {
    try {
      await this.listAndWatch();
    } catch (e) {
      if (this.stopped) return;
      if (isMissingKind(e)) {
        this.lookAgainLater(e);
      } else {
        // A failing cluster, not a missing kind: the usual back-off, without holding up views.
        this.start().catch(() => {});
      }
    }
  }

  private lookAgainLater(e: unknown) {
    if (!this.toldMissing) {
      this.toldMissing = true;
      const code = (e as { code?: number; statusCode?: number })?.code;
      this.logger.info(
        code === 403
          ? `The rollouts engine's credential may not list ${this.kind} (see its RBAC role); looking again every minute`
          : `The cluster does not serve ${this.kind}; looking again every minute`,
      );
    }
    // One look at a time, whether the list's rejection or the watch's error reported it.
    if (this.nextLook) return;
    this.nextLook = setTimeout(() => {
      this.nextLook = undefined;
      if (!this.stopped) this.startOptional().catch(() => {});
    }, 60_000);
    this.nextLook.unref();
  }

  private async start(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.listAndWatch();
        return;
      } catch (e) {
        this.logger.warn(
          `Listing ${this.kind} failed (attempt ${attempt + 1}): ${e}`,
        );
        await new Promise(r =>
          setTimeout(r, Math.min(5000, 200 * 2 ** attempt)).unref(),
        );
      }
    }
  }

  /** A (re-)list replaces the whole picture, then a watch carries it on from the list's version. */
  private async listAndWatch() {
    const list = await this.source.list();
    if (this.stopped) return;
    const listed = new Set<string>();
    for (const item of list.items) {
      const obj = this.source.slim(item);
      const key = objectKey(obj);
      listed.add(key);
      const held = this.objects.get(
        obj.metadata?.namespace ?? '',
        obj.metadata?.name ?? '',
      );
      if (held?.metadata?.resourceVersion === obj.metadata?.resourceVersion)
        continue;
      this.objects.put(obj);
      this.onChange(this.kind, obj);
    }
    for (const key of this.objects.keys()) {
      if (listed.has(key)) continue;
      const [namespace, name] = splitKey(key);
      const gone = this.objects.get(namespace, name)!;
      this.objects.delete(key);
      this.onChange(this.kind, gone);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    await this.watch();
  }

  private async watch() {
    if (this.stopped) return;
    this.request = await this.watcher.watch(
      this.source.path,
      {
        resourceVersion: this.resourceVersion || undefined,
        allowWatchBookmarks: true,
        labelSelector: this.source.labelSelector,
      },
      (type: string, obj: any) => this.event(type, obj),
      (err: unknown) => this.watchEnded(err),
    );
    // Stopped while the watch was being opened: it must not outlive the cache.
    if (this.stopped) this.request.abort();
  }

  private event(type: string, raw: any) {
    if (type === 'ERROR') {
      // 410 Gone: the version is older than the server keeps; the watch ends and we list again.
      if (raw?.code === 410) this.resourceVersion = '';
      return;
    }
    const version = raw?.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const obj = this.source.slim(raw as T);
    if (type === 'DELETED') this.objects.delete(objectKey(obj));
    else this.objects.put(obj);
    this.onChange(this.kind, obj);
  }

  private watchEnded(err: unknown) {
    this.request = undefined;
    if (this.stopped) return;
    if (err && this.source.optional && isMissingKind(err)) {
      this.lookAgainLater(err);
      return;
    }
    if (!err && this.resourceVersion) {
      // The server closed the watch (its timeout): carry on from where it was.
      this.watch().catch(e => this.relistLater(e));
      return;
    }
    this.relistLater(err);
  }

  private relistLater(err: unknown) {
    if (err)
      this.logger.warn(`Watch of ${this.kind} failed, re-listing: ${err}`);
    // Unref'd: a pending re-list must not keep a stopping backend alive.
    setTimeout(() => {
      if (!this.stopped) this.start().catch(e => this.logger.warn(`${e}`));
    }, 1000).unref();
  }

  list(namespace?: string): T[] {
    return this.objects.list(namespace);
  }

  /** The objects whose controlling owner has this uid. */
  ownedBy(uid: string): T[] {
    return this.objects.ownedBy(uid);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(namespace, name);
  }

  /** Write-through of an object the engine just wrote; an older copy never replaces a newer one. */
  observe(obj: T) {
    const existing = this.objects.get(
      obj.metadata?.namespace ?? '',
      obj.metadata?.name ?? '',
    );
    const older = Number(obj.metadata?.resourceVersion);
    const newer = Number(existing?.metadata?.resourceVersion);
    if (
      existing &&
      Number.isFinite(older) &&
      Number.isFinite(newer) &&
      newer > older
    ) {
      return;
    }
    this.objects.put(this.source.slim(obj));
  }

  forget(namespace: string, name: string) {
    this.objects.delete(`${namespace}/${name}`);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.nextLook);
    this.request?.abort();
  }
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
