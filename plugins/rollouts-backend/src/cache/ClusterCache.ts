import { LoggerService } from '@backstage/backend-plugin-api';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Informer,
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
import { HTTP_ROUTES, HttpRoute } from '../strategies/traffic/gatewayApi';

type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/** The object kinds a cluster cache watches. */
export type WatchedKind =
  | 'deployments'
  | 'replicasets'
  | 'pods'
  | 'services'
  | 'namespaces'
  | 'httproutes';

/** Told of every object a watch reports added, changed or deleted. */
export type ClusterChangeListener = (
  kind: WatchedKind,
  obj: KubernetesObject,
) => void;

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
  private toldNotServed = false;
  readonly synced: Promise<void>;

  /**
   * `optional`: a kind the cluster may not serve (HTTPRoutes without the Gateway API's CRDs). A
   * failed list does not hold `synced` back (the informer reports it as an error); a 404 for such a
   * kind is said once and listed again every minute, not every second.
   */
  constructor(
    informer: Watched<T>,
    private readonly logger: LoggerService,
    private readonly kind: WatchedKind,
    onChange: ClusterChangeListener,
    private readonly optional = false,
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
      const e = err as { code?: number; statusCode?: number };
      const notServed = this.optional && (e?.code ?? e?.statusCode) === 404;
      if (!notServed) {
        this.logger.warn(`Watch of ${this.kind} failed, re-listing: ${err}`);
      } else if (!this.toldNotServed) {
        this.toldNotServed = true;
        this.logger.info(
          `The cluster does not serve ${this.kind}; looking again every minute`,
        );
      }
      // Unref'd: a pending re-list must not keep a stopping backend alive.
      setTimeout(
        () => {
          if (!this.stopped) {
            this.informer.start().catch(x => this.logger.warn(`${x}`));
          }
        },
        notServed ? 60_000 : 1000,
      ).unref();
    });
    this.synced = this.start();
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
  /** `gateway.networking.k8s.io/v1` HTTPRoutes, where the cluster serves them. */
  readonly httpRoutes: KindCache<HttpRoute>;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly customObjects: CustomObjectsApi;

  constructor(
    readonly cluster: RolloutCluster,
    logger: LoggerService,
    onChange: ClusterChangeListener = () => {},
  ) {
    const kc = cluster.kubeConfig;
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.customObjects = kc.makeApiClient(CustomObjectsApi);
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
    this.httpRoutes = new KindCache<HttpRoute>(
      makeInformer<HttpRoute>(
        kc,
        `/apis/${HTTP_ROUTES.group}/${HTTP_ROUTES.version}/${HTTP_ROUTES.plural}`,
        () => this.customObjects.listClusterCustomObject(HTTP_ROUTES),
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
      this.httpRoutes.stop(),
    ]);
  }
}
