import { LoggerService } from '@backstage/backend-plugin-api';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesListObject,
  KubernetesObject,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';
import { ROLLOUT_LABELS } from '@rust-delivery-portal/plugin-rollouts-common';
import { RolloutCluster } from '../clusters/clusters';
import {
  ARGO_GROUP,
  ARGO_PLURAL,
  ARGO_VERSION,
  ArgoRollout,
} from '../argo/types';
import { HTTP_ROUTES, HttpRoute } from '../strategies/traffic/gatewayApi';
import { ClusterChangeListener, KindCache, KindSource } from './KindCache';
import { podEssentials, withoutManagedFields } from './slim';

export type { ClusterChangeListener, WatchedKind } from './KindCache';

/**
 * The pods the engine reads are those of its own canaries, which carry the owner label it puts on
 * every companion's pod template (`companionDeployment`). Watching only those is the cheapest
 * choice for the API server and for us, and misses nothing: a workload an entity maps to by a
 * custom label selector is still seen through its Deployment and ReplicaSets (watched whole, as any
 * Deployment may be some entity's), and views count its pods from its ReplicaSets' status. A pod
 * of a workload no rollout touches, which is most pods of a real cluster, never reaches the backend.
 */
export const WATCHED_POD_SELECTOR = ROLLOUT_LABELS.owner;

/**
 * The watch-fed picture of one cluster's Deployments, ReplicaSets and Services, of its canaries'
 * pods, of its Namespaces (which may carry the binding of the workloads in them), and of the
 * HTTPRoutes that canaries route their traffic through.
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
    const cacheOf = <T extends KubernetesObject>(source: KindSource<T>) =>
      new KindCache<T>(kc, source, log, onChange);
    this.deployments = cacheOf<V1Deployment>({
      kind: 'deployments',
      path: '/apis/apps/v1/deployments',
      list: () => this.apps.listDeploymentForAllNamespaces(),
      slim: withoutManagedFields,
    });
    this.replicaSets = cacheOf<V1ReplicaSet>({
      kind: 'replicasets',
      path: '/apis/apps/v1/replicasets',
      list: () => this.apps.listReplicaSetForAllNamespaces(),
      slim: withoutManagedFields,
    });
    this.pods = cacheOf<V1Pod>({
      kind: 'pods',
      path: '/api/v1/pods',
      labelSelector: WATCHED_POD_SELECTOR,
      list: () =>
        this.core.listPodForAllNamespaces({
          labelSelector: WATCHED_POD_SELECTOR,
        }),
      slim: podEssentials,
    });
    this.services = cacheOf<V1Service>({
      kind: 'services',
      path: '/api/v1/services',
      list: () => this.core.listServiceForAllNamespaces(),
      slim: withoutManagedFields,
    });
    this.namespaces = cacheOf<V1Namespace>({
      kind: 'namespaces',
      path: '/api/v1/namespaces',
      list: () => this.core.listNamespace(),
      slim: withoutManagedFields,
    });
    this.rollouts = cacheOf<ArgoRollout>({
      kind: 'rollouts',
      path: `/apis/${ARGO_GROUP}/${ARGO_VERSION}/${ARGO_PLURAL}`,
      list: () =>
        this.custom.listClusterCustomObject({
          group: ARGO_GROUP,
          version: ARGO_VERSION,
          plural: ARGO_PLURAL,
        }) as Promise<KubernetesListObject<ArgoRollout>>,
      slim: withoutManagedFields,
      optional: true,
    });
    this.httpRoutes = cacheOf<HttpRoute>({
      kind: 'httproutes',
      path: `/apis/${HTTP_ROUTES.group}/${HTTP_ROUTES.version}/${HTTP_ROUTES.plural}`,
      list: () =>
        this.custom.listClusterCustomObject(HTTP_ROUTES) as Promise<
          KubernetesListObject<HttpRoute>
        >,
      slim: withoutManagedFields,
      optional: true,
    });
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
