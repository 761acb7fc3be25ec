import { LoggerService } from '@backstage/backend-plugin-api';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Informer,
  KubernetesListObject,
  KubernetesObject,
  ObjectCache,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  makeInformer,
} from '@kubernetes/client-node';
import { RolloutCluster } from '../clusters/clusters';
import { ObjectIndex, objectKey } from './ObjectIndex';
import {
  ARGO_GROUP,
  ARGO_PLURAL,
  ARGO_VERSION,
  ArgoRollout,
} from '../argo/types';
import { HTTP_ROUTES, HttpRoute } from '../strategies/traffic/gatewayApi';

type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

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

/** A list or watch of a kind the cluster does not serve (404) or lets nobody here read (403). */
function isMissingKind(e: unknown): boolean {
  const err = e as { code?: number; statusCode?: number };
  const code = err?.code ?? err?.statusCode;
  return code === 404 || code === 403;
}

/**
 * Keeps one object kind of one cluster in memory, fed by a list+watch. The informer re-lists when
 * its watch ends; after an error it is restarted after a short back-off, so the cache heals itself.
 * Objects the engine wrote itself are put in at once (write-through), so the caller's next view
 * shows its own action even before the watch event arrives.
 */
class KindCache<T extends KubernetesObject> {
  private readonly objects = new ObjectIndex<T>();
  private readonly informer: Watched<T>;
  private stopped = false;
  readonly synced: Promise<void>;

  constructor(
    informer: Watched<T>,
    private readonly logger: LoggerService,
    private readonly kind: WatchedKind,
    onChange: ClusterChangeListener,
    /**
     * A kind the cluster may not serve (a CRD: Argo Rollouts', the Gateway API's HTTPRoutes):
     * `synced` resolves after the first attempt whatever it gave, and a list that finds the kind
     * missing or unreadable is retried once a minute, said once.
     */
    optional = false,
  ) {
    this.informer = informer;
    const put = (obj: T) => {
      this.objects.put(obj);
      onChange(this.kind, obj);
    };
    informer.on('add', put);
    informer.on('update', put);
    informer.on('delete', obj => {
      this.objects.delete(objectKey(obj));
      onChange(this.kind, obj);
    });
    informer.on('error', err => {
      if (this.stopped) return;
      if (optional && isMissingKind(err)) {
        this.lookAgainLater(err);
        return;
      }
      this.logger.warn(`Watch of ${this.kind} failed, re-listing: ${err}`);
      // Unref'd: a pending re-list must not keep a stopping backend alive.
      setTimeout(() => {
        if (!this.stopped) {
          this.informer.start().catch(e => this.logger.warn(`${e}`));
        }
      }, 1000).unref();
    });
    this.synced = optional ? this.startOptional() : this.start();
  }

  /** An optional kind was found missing or unreadable: said once, listed again in a minute. */
  private toldMissing = false;
  private nextLook?: NodeJS.Timeout;

  private async startOptional(): Promise<void> {
    try {
      await this.informer.start();
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
    // One look at a time, whether the list's rejection or the informer's error reported it.
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
        await this.informer.start();
        // A (re-)list replaces the whole picture: drop what the list no longer has.
        const listed = new Set(this.informer.list().map(objectKey));
        for (const k of this.objects.keys()) {
          if (!listed.has(k)) this.objects.delete(k);
        }
        for (const obj of this.informer.list()) this.objects.put(obj);
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
    this.objects.put(obj);
  }

  forget(namespace: string, name: string) {
    this.objects.delete(`${namespace}/${name}`);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.nextLook);
    await this.informer.stop();
  }
}

/**
 * The watch-fed picture of one cluster's Deployments, ReplicaSets, Pods and Services, of its
 * Namespaces (which may carry the binding of the workloads in them), and of the HTTPRoutes that
 * canaries route their traffic through.
 */
export class ClusterCache {
  readonly deployments: KindCache<V1Deployment>;
  readonly replicaSets: KindCache<V1ReplicaSet>;
  readonly pods: KindCache<V1Pod>;
  readonly services: KindCache<V1Service>;
  /** Cluster-scoped: looked up with namespace `''`. */
  readonly namespaces: KindCache<V1Namespace>;
  /** Argo Rollouts' Rollouts, where the cluster serves them (read and patched, never reconciled). */
  readonly rollouts: KindCache<ArgoRollout>;
  /** `gateway.networking.k8s.io/v1` HTTPRoutes, where the cluster serves them. */
  readonly httpRoutes: KindCache<HttpRoute>;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  /** Custom resources: Argo Rollouts, Gateway API routes. */
  readonly custom: CustomObjectsApi;

  constructor(
    readonly cluster: RolloutCluster,
    logger: LoggerService,
    onChange: ClusterChangeListener = () => {},
  ) {
    const kc = cluster.kubeConfig;
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const log = logger.child({ cluster: cluster.name });
    this.deployments = new KindCache(
      makeInformer(kc, '/apis/apps/v1/deployments', () =>
        this.apps.listDeploymentForAllNamespaces(),
      ),
      log,
      'deployments',
      onChange,
    );
    this.replicaSets = new KindCache(
      makeInformer(kc, '/apis/apps/v1/replicasets', () =>
        this.apps.listReplicaSetForAllNamespaces(),
      ),
      log,
      'replicasets',
      onChange,
    );
    this.pods = new KindCache(
      makeInformer(kc, '/api/v1/pods', () =>
        this.core.listPodForAllNamespaces(),
      ),
      log,
      'pods',
      onChange,
    );
    this.services = new KindCache(
      makeInformer(kc, '/api/v1/services', () =>
        this.core.listServiceForAllNamespaces(),
      ),
      log,
      'services',
      onChange,
    );
    this.namespaces = new KindCache(
      makeInformer(kc, '/api/v1/namespaces', () => this.core.listNamespace()),
      log,
      'namespaces',
      onChange,
    );
    this.rollouts = new KindCache<ArgoRollout>(
      makeInformer(
        kc,
        `/apis/${ARGO_GROUP}/${ARGO_VERSION}/${ARGO_PLURAL}`,
        () =>
          this.custom.listClusterCustomObject({
            group: ARGO_GROUP,
            version: ARGO_VERSION,
            plural: ARGO_PLURAL,
          }) as Promise<KubernetesListObject<ArgoRollout>>,
      ),
      log,
      'rollouts',
      onChange,
      true,
    );
    this.httpRoutes = new KindCache<HttpRoute>(
      makeInformer<HttpRoute>(
        kc,
        `/apis/${HTTP_ROUTES.group}/${HTTP_ROUTES.version}/${HTTP_ROUTES.plural}`,
        () => this.custom.listClusterCustomObject(HTTP_ROUTES),
      ),
      log,
      'httproutes',
      onChange,
      true,
    );
  }

  /** Resolves once every kind has been listed at least once. */
  async synced(): Promise<void> {
    await Promise.all([
      this.deployments.synced,
      this.replicaSets.synced,
      this.pods.synced,
      this.services.synced,
      this.namespaces.synced,
      this.rollouts.synced,
      this.httpRoutes.synced,
    ]);
  }

  async stop() {
    await Promise.all([
      this.deployments.stop(),
      this.replicaSets.stop(),
      this.pods.stop(),
      this.services.stop(),
      this.namespaces.stop(),
      this.rollouts.stop(),
      this.httpRoutes.stop(),
    ]);
  }
}
