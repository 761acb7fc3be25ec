import { ServiceUnavailableError } from '@backstage/errors';
import { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';

/** A write lost the race on resourceVersion: somebody else changed the object since it was read. */
export class StaleWriteError extends Error {
  constructor(what: string) {
    super(`${what} changed while it was being updated`);
    this.name = 'StaleWriteError';
  }
}

function statusOf(e: unknown): number | undefined {
  const err = e as {
    code?: number;
    statusCode?: number;
    response?: { statusCode?: number };
  };
  return err?.code ?? err?.statusCode ?? err?.response?.statusCode;
}

/**
 * A cluster that fails or cannot be reached (connection refused, timeout, 5xx, 429) is a 503 to
 * the caller, who may try again; any other answer of the API server passes through.
 */
function unavailable(e: unknown, what: string): unknown {
  const status = statusOf(e);
  if (typeof status === 'number' && status < 500 && status !== 429) return e;
  return new ServiceUnavailableError(
    `The cluster did not answer for ${what}: ${(e as Error)?.message ?? e}`,
  );
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

  /** Creates a Deployment, or brings an existing one to the given spec (idempotent). */
  async applyDeployment(body: V1Deployment): Promise<V1Deployment> {
    const { name, namespace } = body.metadata as {
      name: string;
      namespace: string;
    };
    const existing = await this.readDeployment(namespace, name);
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

  async deleteDeployment(namespace: string, name: string): Promise<void> {
    try {
      await this.cache.apps.deleteNamespacedDeployment({
        name,
        namespace,
        propagationPolicy: 'Background',
      });
    } catch (e) {
      if (statusOf(e) !== 404) {
        throw unavailable(e, `Deployment ${namespace}/${name}`);
      }
    }
    this.cache.deployments.forget(namespace, name);
  }

  /** Sets a Service's selector (read fresh, replaced with its resourceVersion). */
  async setServiceSelector(
    namespace: string,
    name: string,
    selector: Record<string, string>,
  ): Promise<V1Service> {
    const svc = await this.cache.core
      .readNamespacedService({ name, namespace })
      .catch(e => {
        throw unavailable(e, `Service ${namespace}/${name}`);
      });
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
