import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import { ObjectIndex } from '../cache/ObjectIndex';
import { ArgoRollout } from '../argo/types';
import {
  StaleWriteError,
  WorkloadClient,
  requireRouteOwner,
  requireServiceOwner,
} from '../clusters/WorkloadClient';
import {
  GatewayRouteConfig,
  HttpRoute,
  TrafficRoutingError,
  withCanaryWeight,
} from '../strategies/traffic/gatewayApi';
import {
  CompanionRole,
  clone,
  isOwnCompanion,
  matches,
  squattedCompanion,
} from '../strategies/kube';

class Kind<T extends KubernetesObject> extends ObjectIndex<T> {
  observe(obj: T) {
    this.put(obj);
  }
  forget(namespace: string, name: string) {
    this.delete(`${namespace}/${name}`);
  }
}

/**
 * An in-memory stand-in for one cluster, for unit tests of the strategies: writes bump
 * resourceVersion and conflict on stale ones; `settle()` plays a very small Deployment controller
 * (one ReplicaSet per template, every replica ready at once unless the image is marked broken).
 */
export class FakeCluster {
  private rv = 1;
  readonly deployments = new Kind<V1Deployment>();
  readonly replicaSets = new Kind<V1ReplicaSet>();
  readonly pods = new Kind<V1Pod>();
  readonly services = new Kind<V1Service>();
  readonly namespaces = new Kind<V1Namespace>();
  /** Argo Rollouts: none unless a test puts some (the engine only reads them from the cache). */
  readonly rollouts = new Kind<ArgoRollout>();
  readonly httpRoutes = new Kind<HttpRoute>();
  /** Not cached by the engine: read through `client.readConfigMap` (analysis declarations). */
  readonly configMaps = new Kind<V1ConfigMap>();
  readonly writes: string[] = [];
  /**
   * Every moment a route sent weight to a Service without ready pods, checked after each write:
   * the order of the engine's writes must keep this empty.
   */
  readonly unservedTraffic: string[] = [];
  /** What the pretend Gateway says of every route on `settle()`: accepted, or rejected with a reason. */
  gatewayVerdict: { accepted: true } | { accepted: false; reason: string } = {
    accepted: true,
  };

  readonly cache = {
    deployments: this.deployments,
    replicaSets: this.replicaSets,
    pods: this.pods,
    services: this.services,
    namespaces: this.namespaces,
    rollouts: this.rollouts,
    httpRoutes: this.httpRoutes,
    synced: async () => {},
    stop: async () => {},
  } as unknown as ClusterCache;

  readonly client: WorkloadClient;

  constructor() {
    this.client = {
      readConfigMap: async (ns: string, name: string) => {
        const cm = this.configMaps.get(ns, name);
        return cm && clone(cm);
      },
      readDeployment: async (ns: string, name: string) => {
        const d = this.deployments.get(ns, name);
        return d && clone(d);
      },
      replaceDeployment: async (body: V1Deployment) => {
        const existing = this.deployments.get(
          body.metadata!.namespace!,
          body.metadata!.name!,
        );
        if (
          !existing ||
          existing.metadata?.resourceVersion !== body.metadata?.resourceVersion
        ) {
          throw new StaleWriteError(body.metadata!.name!);
        }
        this.writes.push(`replace ${body.metadata!.name}`);
        const stored = this.store(body, existing);
        this.checkTraffic();
        return stored;
      },
      // The ownership rules are the real client's (kube.ts, binding.ts), not a copy.
      applyCompanion: async (
        body: V1Deployment,
        primary: V1Deployment,
        role: CompanionRole,
      ) => {
        const existing = this.deployments.get(
          body.metadata!.namespace!,
          body.metadata!.name!,
        );
        if (existing && !isOwnCompanion(existing, primary, role)) {
          throw squattedCompanion(existing, primary, role);
        }
        this.writes.push(`apply ${body.metadata!.name}`);
        const stored = this.store(clone(body), existing);
        this.checkTraffic();
        return stored;
      },
      deleteCompanion: async (companion: V1Deployment) => {
        const ns = companion.metadata!.namespace!;
        const name = companion.metadata!.name!;
        const existing = this.deployments.get(ns, name);
        if (existing?.metadata?.uid !== companion.metadata?.uid) return;
        this.writes.push(`delete ${name}`);
        this.deployments.forget(ns, name);
        for (const rs of this.replicaSets.list(ns)) {
          if (rs.metadata?.ownerReferences?.[0]?.name === name) {
            this.replicaSets.forget(ns, rs.metadata!.name!);
            for (const p of this.pods.list(ns)) {
              if (p.metadata?.ownerReferences?.[0]?.name === rs.metadata!.name)
                this.pods.forget(ns, p.metadata!.name!);
            }
          }
        }
        this.checkTraffic();
      },
      setServiceSelector: async (
        ns: string,
        name: string,
        selector: Record<string, string>,
        owner: { entityRef: string; workload: string },
      ) => {
        const svc = clone(this.services.get(ns, name)!);
        requireServiceOwner(svc, this.namespaces.get('', ns), owner);
        if (JSON.stringify(svc.spec?.selector) === JSON.stringify(selector))
          return svc;
        svc.spec = { ...svc.spec, selector };
        this.writes.push(`select ${name} ${JSON.stringify(selector)}`);
        this.services.put(svc);
        this.checkTraffic();
        return svc;
      },
      // The ownership rule and the weights are the real client's (WorkloadClient, gatewayApi.ts).
      setCanaryWeight: async (
        config: GatewayRouteConfig,
        canaryWeight: number,
        owner: { entityRef: string; workload: string },
      ) => {
        const existing = this.httpRoutes.get(config.namespace, config.route);
        if (!existing)
          throw new TrafficRoutingError(`HTTPRoute ${config.route} not found`);
        requireRouteOwner(
          existing,
          this.namespaces.get('', config.namespace),
          owner,
        );
        const body = withCanaryWeight(existing, config, canaryWeight);
        if (JSON.stringify(body.spec) === JSON.stringify(existing.spec))
          return clone(existing);
        body.metadata = {
          ...body.metadata,
          resourceVersion: String(++this.rv),
          generation: (existing.metadata?.generation ?? 1) + 1,
        };
        this.writes.push(`weight ${config.route} ${canaryWeight}`);
        this.httpRoutes.put(body);
        this.checkTraffic();
        return clone(body);
      },
    } as unknown as WorkloadClient;
  }

  private store(body: V1Deployment, existing?: V1Deployment) {
    const obj = clone(body);
    const specChanged =
      JSON.stringify(existing?.spec) !== JSON.stringify(obj.spec);
    obj.metadata = {
      ...obj.metadata,
      uid: existing?.metadata?.uid ?? `uid-${obj.metadata?.name}`,
      resourceVersion: String(++this.rv),
      generation:
        (existing?.metadata?.generation ?? 0) +
        (specChanged || !existing ? 1 : 0),
    };
    obj.status = existing?.status ?? {};
    this.deployments.put(obj);
    return clone(obj);
  }

  addDeployment(d: V1Deployment) {
    this.store(d);
    this.settle();
  }

  addService(svc: V1Service) {
    this.services.put(svc);
  }

  addHttpRoute(route: HttpRoute) {
    this.httpRoutes.put({
      ...route,
      metadata: {
        generation: 1,
        resourceVersion: String(++this.rv),
        ...route.metadata,
      },
    });
  }

  /** The weight each backend of a route's first rule gets: `{ payments-stable: 80, payments-canary: 20 }`. */
  routeWeights(name: string, ns = 'shop'): Record<string, number> {
    const refs =
      this.httpRoutes.get(ns, name)?.spec?.rules?.[0]?.backendRefs ?? [];
    return Object.fromEntries(refs.map(r => [r.name, r.weight ?? 1]));
  }

  /** Records every route backend that has weight but whose Service has no ready pod. */
  private checkTraffic() {
    for (const route of this.httpRoutes.list()) {
      const ns = route.metadata!.namespace!;
      for (const rule of route.spec?.rules ?? []) {
        for (const ref of rule.backendRefs ?? []) {
          if ((ref.weight ?? 1) <= 0) continue;
          const selector = this.services.get(ns, ref.name)?.spec?.selector;
          const ready = this.pods
            .list(ns)
            .some(
              p =>
                matches(p.metadata?.labels, selector) &&
                (p.status?.conditions ?? []).some(
                  c => c.type === 'Ready' && c.status === 'True',
                ),
            );
          if (!ready) {
            this.unservedTraffic.push(
              `${route.metadata!.name} sends ${ref.weight ?? 1} to ${
                ref.name
              } without ready pods (after: ${this.writes.at(-1)})`,
            );
          }
        }
      }
    }
  }

  get(name: string, ns = 'shop') {
    return this.deployments.get(ns, name);
  }

  /** Runs the pretend Deployment controller until every Deployment matches its spec. */
  settle() {
    for (const d of this.deployments.list()) {
      const template = JSON.stringify(d.spec?.template);
      const ns = d.metadata!.namespace!;
      const owned = this.replicaSets
        .list(ns)
        .filter(
          rs => rs.metadata?.ownerReferences?.[0]?.name === d.metadata!.name,
        );
      let current = owned.find(rs => {
        const t = clone(rs.spec!.template!);
        delete t.metadata!.labels!['pod-template-hash'];
        return JSON.stringify(t) === template;
      });
      if (!current) {
        const revision =
          Math.max(
            0,
            ...owned.map(rs =>
              Number(
                rs.metadata!.annotations!['deployment.kubernetes.io/revision'],
              ),
            ),
          ) + 1;
        const hash = `h${d.metadata!.name}${revision}`;
        const t = clone(d.spec!.template!);
        t.metadata = {
          ...t.metadata,
          labels: { ...t.metadata?.labels, 'pod-template-hash': hash },
        };
        current = {
          metadata: {
            name: `${d.metadata!.name}-${hash}`,
            namespace: ns,
            uid: `uid-rs-${hash}`,
            labels: t.metadata.labels,
            annotations: {
              'deployment.kubernetes.io/revision': String(revision),
            },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name: d.metadata!.name!,
                uid: d.metadata!.uid!,
                controller: true,
              },
            ],
          },
          spec: {
            replicas: 0,
            selector: {
              matchLabels: {
                ...d.spec?.selector?.matchLabels,
                'pod-template-hash': hash,
              },
            },
            template: t,
          },
          status: { replicas: 0 },
        };
        this.replicaSets.put(current);
      } else {
        // An older ReplicaSet that becomes current again (rollout undo) gets the next revision.
        const revisionOfRs = (rs: V1ReplicaSet) =>
          Number(
            rs.metadata!.annotations!['deployment.kubernetes.io/revision'],
          );
        const top = Math.max(...owned.map(revisionOfRs));
        if (revisionOfRs(current) !== top) {
          current.metadata!.annotations!['deployment.kubernetes.io/revision'] =
            String(top + 1);
        }
      }
      const want = d.spec?.replicas ?? 1;
      const broken = /crashloop/.test(
        d.spec?.template?.spec?.containers?.[0]?.image ?? '',
      );
      const ready = broken ? 0 : want;
      for (const rs of owned.concat(owned.includes(current) ? [] : [current])) {
        const isCurrent = rs === current;
        rs.spec!.replicas = isCurrent ? want : 0;
        rs.status = {
          replicas: isCurrent ? want : 0,
          readyReplicas: isCurrent ? ready : 0,
          availableReplicas: isCurrent ? ready : 0,
        };
      }
      d.metadata!.annotations = {
        ...d.metadata!.annotations,
        'deployment.kubernetes.io/revision':
          current.metadata!.annotations!['deployment.kubernetes.io/revision'],
      };
      d.status = {
        observedGeneration: d.metadata!.generation,
        replicas: want,
        updatedReplicas: want,
        readyReplicas: ready,
        availableReplicas: ready,
      };
      // Pods of the current ReplicaSet.
      for (const p of this.pods.list(ns)) {
        if (
          p.metadata?.labels?.['pod-template-hash'] &&
          !this.replicaSets
            .list(ns)
            .some(
              rs =>
                rs.metadata?.labels?.['pod-template-hash'] ===
                  p.metadata?.labels?.['pod-template-hash'] &&
                (rs.spec?.replicas ?? 0) > 0,
            )
        ) {
          this.pods.forget(ns, p.metadata!.name!);
        }
      }
      const labels = current.spec!.template!.metadata!.labels!;
      for (const p of this.pods.list(ns)) {
        const index = Number(
          p.metadata!.name!.slice(current.metadata!.name!.length + 1),
        );
        if (
          p.metadata?.ownerReferences?.[0]?.name === current.metadata!.name &&
          index >= want
        )
          this.pods.forget(ns, p.metadata!.name!);
      }
      for (let i = 0; i < want; i++) {
        const name = `${current.metadata!.name}-${i}`;
        this.pods.put({
          metadata: {
            name,
            namespace: ns,
            labels,
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: current.metadata!.name!,
                uid: current.metadata!.uid!,
                controller: true,
              },
            ],
          },
          status: {
            conditions: [{ type: 'Ready', status: broken ? 'False' : 'True' }],
            containerStatuses: [
              {
                name: 'app',
                image: '',
                imageID: '',
                ready: !broken,
                restartCount: broken ? 3 : 0,
                state: broken
                  ? { waiting: { reason: 'CrashLoopBackOff' } }
                  : { running: {} },
              },
            ],
          },
        });
      }
      this.deployments.put(d);
    }
    // The pretend Gateway reports on each route's current generation.
    for (const route of this.httpRoutes.list()) {
      const verdict = this.gatewayVerdict;
      route.status = {
        parents: (route.spec?.parentRefs ?? []).map(ref => ({
          parentRef: ref,
          controllerName: 'example.com/fake-gateway',
          conditions: [
            {
              type: 'Accepted',
              status: verdict.accepted ? 'True' : 'False',
              reason: verdict.accepted ? 'Accepted' : verdict.reason,
              observedGeneration: route.metadata?.generation,
            },
          ],
        })),
      };
    }
    this.checkTraffic();
  }
}

/**
 * A Deployment in namespace `shop`, bound on the cluster side to `component:default/<name>`
 * unless `entityRef` says otherwise (`null`: bound to nothing).
 */
export function deployment(options: {
  name: string;
  image: string;
  replicas?: number;
  annotations?: Record<string, string>;
  entityRef?: string | null;
}): V1Deployment {
  const entityRef =
    options.entityRef === undefined
      ? `component:default/${options.name}`
      : options.entityRef;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: options.name,
      namespace: 'shop',
      labels: { app: options.name, 'backstage.io/kubernetes-id': options.name },
      annotations: {
        ...(entityRef ? { [ROLLOUT_ANNOTATIONS.entity]: entityRef } : {}),
        ...options.annotations,
      },
    },
    spec: {
      replicas: options.replicas ?? 4,
      selector: { matchLabels: { app: options.name } },
      template: {
        metadata: {
          labels: {
            app: options.name,
            'backstage.io/kubernetes-id': options.name,
          },
        },
        spec: { containers: [{ name: 'app', image: options.image }] },
      },
    },
  };
}
