import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1Service,
} from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import { bindingOf } from '../engine/binding';
import {
  CompanionRole,
  SquattedObjectError,
  isOwnCompanion,
  squattedCompanion,
} from '../strategies/kube';
import {
  GatewayRouteConfig,
  HTTP_ROUTES,
  HttpRoute,
  TrafficRoutingError,
  routeName,
  withCanaryWeight,
} from '../strategies/traffic/gatewayApi';

/** A write lost the race on resourceVersion: somebody else changed the object since it was read. */
export class StaleWriteError extends Error {
  constructor(what: string) {
    super(`${what} changed while it was being updated`);
    this.name = 'StaleWriteError';
  }
}

/** The `message` of a Kubernetes Status body. */
function safeMessage(body: string): string | undefined {
  try {
    return JSON.parse(body).message;
  } catch {
    return undefined;
  }
}

export function statusOf(e: unknown): number | undefined {
  const err = e as {
    code?: number;
    statusCode?: number;
    response?: { statusCode?: number };
  };
  return err?.code ?? err?.statusCode ?? err?.response?.statusCode;
}

/**
 * A cluster that fails or cannot be reached (connection refused, timeout, 5xx, 429) is a 503 to
 * the caller, who may try again; a 403 (the engine's role does not allow it) is a 403 naming what
 * was refused; any other answer of the API server passes through.
 */
export function unavailable(e: unknown, what: string): unknown {
  const status = statusOf(e);
  if (status === 403) {
    const body = (e as { body?: unknown })?.body;
    const reason =
      (typeof body === 'string' ? safeMessage(body) : undefined) ??
      (e as Error)?.message;
    return new NotAllowedError(
      `The cluster refuses the rollouts engine's credential for ${what} (see its RBAC role): ${reason}`,
    );
  }
  if (typeof status === 'number' && status < 500 && status !== 429) return e;
  return new ServiceUnavailableError(
    `The cluster did not answer for ${what}: ${(e as Error)?.message ?? e}`,
  );
}

/**
 * Throws SquattedObjectError unless the object (a Service, an HTTPRoute) belongs to the entity of
 * the workload that wants to change it for a rollout (its own binding annotation, or its
 * namespace's): the same rule that decides who may act on the workload.
 */
export function requireSameEntity(
  obj: KubernetesObject,
  kind: string,
  namespace: V1Namespace | undefined,
  owner: { entityRef: string; workload: string },
  change: string,
) {
  const binding = bindingOf(obj, namespace, owner.entityRef);
  if (binding.status !== 'bound') {
    throw new SquattedObjectError(
      `${kind} ${obj.metadata?.namespace}/${obj.metadata?.name} is not bound to ${owner.entityRef}, so the rollouts engine will not ${change} for ${owner.workload}: ${binding.message}`,
    );
  }
}

/** Throws SquattedObjectError unless the Service belongs to the entity of the workload that switches it. */
export function requireServiceOwner(
  svc: V1Service,
  namespace: V1Namespace | undefined,
  owner: { entityRef: string; workload: string },
) {
  requireSameEntity(svc, 'Service', namespace, owner, 'switch it');
}

/** Throws SquattedObjectError unless the HTTPRoute belongs to the entity of the workload whose traffic it splits. */
export function requireRouteOwner(
  route: HttpRoute,
  namespace: V1Namespace | undefined,
  owner: { entityRef: string; workload: string },
) {
  requireSameEntity(route, 'HTTPRoute', namespace, owner, 'set its weights');
}

/**
 * The engine's writes to one cluster. Updates carry the resourceVersion they were computed from;
 * every result goes into the cache at once.
 */
export class WorkloadClient {
  constructor(private readonly cache: ClusterCache) {}

  /** Reads a Deployment from the API server (not the cache): actions decide on the latest version. */
  async readDeployment(
    namespace: string,
    name: string,
  ): Promise<V1Deployment | undefined> {
    try {
      const d = await this.cache.apps.readNamespacedDeployment({
        name,
        namespace,
      });
      this.cache.deployments.observe(d);
      return d;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw unavailable(e, `Deployment ${namespace}/${name}`);
    }
  }

  /**
   * Reads a ConfigMap from the API server (ConfigMaps are not cached: only a workload's analysis
   * declaration is read, once per measurement that falls due).
   */
  async readConfigMap(
    namespace: string,
    name: string,
  ): Promise<V1ConfigMap | undefined> {
    try {
      return await this.cache.core.readNamespacedConfigMap({ name, namespace });
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw unavailable(e, `ConfigMap ${namespace}/${name}`);
    }
  }

  /** Replaces a Deployment; the body's resourceVersion guards it. */
  async replaceDeployment(body: V1Deployment): Promise<V1Deployment> {
    const { name, namespace } = body.metadata as {
      name: string;
      namespace: string;
    };
    try {
      const d = await this.cache.apps.replaceNamespacedDeployment({
        name,
        namespace,
        body,
      });
      this.cache.deployments.observe(d);
      return d;
    } catch (e) {
      if (statusOf(e) === 409)
        throw new StaleWriteError(`Deployment ${namespace}/${name}`);
      throw unavailable(e, `Deployment ${namespace}/${name}`);
    }
  }

  /**
   * Creates the primary's canary or preview Deployment, or brings the existing one to the given
   * spec (idempotent). A Deployment of that name that is not the engine's own companion of this
   * primary is never replaced: SquattedObjectError.
   */
  async applyCompanion(
    body: V1Deployment,
    primary: V1Deployment,
    role: CompanionRole,
  ): Promise<V1Deployment> {
    const { name, namespace } = body.metadata as {
      name: string;
      namespace: string;
    };
    const existing = await this.readDeployment(namespace, name);
    if (existing && !isOwnCompanion(existing, primary, role)) {
      throw squattedCompanion(existing, primary, role);
    }
    if (!existing) {
      try {
        const d = await this.cache.apps.createNamespacedDeployment({
          namespace,
          body,
        });
        this.cache.deployments.observe(d);
        return d;
      } catch (e) {
        if (statusOf(e) === 409)
          throw new StaleWriteError(`Deployment ${namespace}/${name}`);
        throw unavailable(e, `Deployment ${namespace}/${name}`);
      }
    }
    return this.replaceDeployment({
      ...body,
      metadata: {
        ...body.metadata,
        resourceVersion: existing.metadata?.resourceVersion,
      },
    });
  }

  /**
   * Deletes a companion Deployment the caller found to be the engine's own, guarded by its uid: if
   * somebody replaced it with another object of the same name meanwhile, that one stays.
   */
  async deleteCompanion(companion: V1Deployment): Promise<void> {
    const { name, namespace, uid } = companion.metadata as {
      name: string;
      namespace: string;
      uid?: string;
    };
    try {
      await this.cache.apps.deleteNamespacedDeployment({
        name,
        namespace,
        propagationPolicy: 'Background',
        body: uid ? { preconditions: { uid } } : undefined,
      });
    } catch (e) {
      const status = statusOf(e);
      // 409: a conflict, or the uid precondition failed because the name now belongs to another
      // object. Either way the next pass decides again from what the cache then holds.
      if (status === 409) {
        throw new StaleWriteError(`Deployment ${namespace}/${name}`);
      }
      if (status !== 404) {
        throw unavailable(e, `Deployment ${namespace}/${name}`);
      }
    }
    this.cache.deployments.forget(namespace, name);
  }

  /**
   * Sets a Service's selector (read fresh, replaced with its resourceVersion), only when the
   * Service belongs to the same entity as the workload that switches it.
   */
  async setServiceSelector(
    namespace: string,
    name: string,
    selector: Record<string, string>,
    owner: { entityRef: string; workload: string },
  ): Promise<V1Service> {
    const svc = await this.cache.core
      .readNamespacedService({ name, namespace })
      .catch(e => {
        throw unavailable(e, `Service ${namespace}/${name}`);
      });
    requireServiceOwner(svc, this.cache.namespaces.get('', namespace), owner);
    const same =
      JSON.stringify(Object.entries(svc.spec?.selector ?? {}).sort()) ===
      JSON.stringify(Object.entries(selector).sort());
    if (same) return svc;
    svc.spec = { ...svc.spec, selector };
    try {
      const updated = await this.cache.core.replaceNamespacedService({
        name,
        namespace,
        body: svc,
      });
      this.cache.services.observe(updated);
      return updated;
    } catch (e) {
      if (statusOf(e) === 409)
        throw new StaleWriteError(`Service ${namespace}/${name}`);
      throw unavailable(e, `Service ${namespace}/${name}`);
    }
  }

  /**
   * Sets the canary's share of an HTTPRoute rule's traffic (read fresh, replaced with its
   * resourceVersion), only when the route belongs to the same entity as the workload. The weights
   * do not depend on the rest of the route, so a lost race is retried on a fresh read, as the
   * engine does for its Deployment transitions.
   */
  async setCanaryWeight(
    config: GatewayRouteConfig,
    canaryWeight: number,
    owner: { entityRef: string; workload: string },
  ): Promise<HttpRoute> {
    const what = `HTTPRoute ${routeName(config)}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      let route: HttpRoute;
      try {
        route = await this.cache.custom.getNamespacedCustomObject({
          ...HTTP_ROUTES,
          namespace: config.namespace,
          name: config.route,
        });
      } catch (e) {
        if (statusOf(e) === 404)
          throw new TrafficRoutingError(`${what} not found`);
        throw unavailable(e, what);
      }
      requireRouteOwner(
        route,
        this.cache.namespaces.get('', config.namespace),
        owner,
      );
      const body = withCanaryWeight(route, config, canaryWeight);
      if (JSON.stringify(body.spec) === JSON.stringify(route.spec)) {
        this.cache.httpRoutes.observe(route);
        return route;
      }
      try {
        const updated: HttpRoute =
          await this.cache.custom.replaceNamespacedCustomObject({
            ...HTTP_ROUTES,
            namespace: config.namespace,
            name: config.route,
            body,
          });
        this.cache.httpRoutes.observe(updated);
        return updated;
      } catch (e) {
        if (statusOf(e) === 409) continue;
        throw unavailable(e, what);
      }
    }
    throw new StaleWriteError(what);
  }
}
