import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import { V1Deployment, V1Namespace, V1Service } from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import { bindingOf } from '../engine/binding';
import {
  CompanionRole,
  SquattedObjectError,
  isOwnCompanion,
  squattedCompanion,
} from '../strategies/kube';

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
 * Throws SquattedObjectError unless the Service belongs to the entity of the workload that wants
 * to switch it (its own binding annotation, or its namespace's).
 */
export function requireServiceOwner(
  svc: V1Service,
  namespace: V1Namespace | undefined,
  owner: { entityRef: string; workload: string },
) {
  const binding = bindingOf(svc, namespace, owner.entityRef);
  if (binding.status !== 'bound') {
    throw new SquattedObjectError(
      `Service ${svc.metadata?.namespace}/${svc.metadata?.name} is not bound to ${owner.entityRef}, so the rollouts engine will not switch it for ${owner.workload}: ${binding.message}`,
    );
  }
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
}
