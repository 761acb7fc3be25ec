import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import {
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';

/** A cluster from `kubernetes.clusterLocatorMethods` (type `config`). */
export interface ClusterDetails {
  name: string;
  url: string;
  serviceAccountToken?: string;
  skipTLSVerify?: boolean;
  caData?: string;
}

/** What happened to one object. */
export interface AppliedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** `skipped` when the cluster does not serve the object's API (e.g. a development cluster). */
  operation: 'created' | 'replaced' | 'skipped';
}

/** Reads the clusters the Kubernetes plugin is configured with, so users configure them once. */
export function readClusters(config: Config): ClusterDetails[] {
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  return methods
    .filter(method => method.getString('type') === 'config')
    .flatMap(method => method.getOptionalConfigArray('clusters') ?? [])
    .map(cluster => ({
      name: cluster.getString('name'),
      url: cluster.getString('url'),
      serviceAccountToken: cluster.getOptionalString('serviceAccountToken'),
      skipTLSVerify: cluster.getOptionalBoolean('skipTLSVerify'),
      caData: cluster.getOptionalString('caData'),
    }));
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number })?.code === 404;
}

/** client-node's discovery found no such apiVersion/kind on the cluster. */
function isKindNotServed(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return (
    (isNotFound(error) &&
      message.includes('Failed to fetch resource metadata')) ||
    message.includes('Unrecognized API version and kind')
  );
}

/**
 * Applies manifests to configured clusters, create-or-replace, the way `kubectl apply` behaves for
 * a first deployment. One API client per cluster, built on first use and then reused.
 */
export class ClusterApplier {
  private readonly clients = new Map<string, KubernetesObjectApi>();

  constructor(private readonly clusters: ClusterDetails[]) {}

  static fromConfig(config: Config): ClusterApplier {
    return new ClusterApplier(readClusters(config));
  }

  clusterNames(): string[] {
    return this.clusters.map(cluster => cluster.name);
  }

  /** Throws an InputError naming the configured clusters when `name` is not one of them. */
  requireCluster(name: string): ClusterDetails {
    const cluster = this.clusters.find(candidate => candidate.name === name);
    if (!cluster) {
      const known = this.clusterNames();
      throw new InputError(
        `Unknown cluster "${name}": configured clusters are ${
          known.length
            ? known.map(n => `"${n}"`).join(', ')
            : 'none (kubernetes.clusterLocatorMethods)'
        }`,
      );
    }
    return cluster;
  }

  private client(name: string): KubernetesObjectApi {
    let client = this.clients.get(name);
    if (!client) {
      const cluster = this.requireCluster(name);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [
          {
            name: cluster.name,
            server: cluster.url,
            // client-node refuses plain http unless TLS verification is off; an http:// URL
            // (a development cluster such as kube-sim) has no TLS to verify anyway.
            skipTLSVerify:
              cluster.skipTLSVerify ?? cluster.url.startsWith('http://'),
            caData: cluster.caData,
          },
        ],
        users: [{ name: 'backstage', token: cluster.serviceAccountToken }],
        contexts: [
          { name: cluster.name, cluster: cluster.name, user: 'backstage' },
        ],
        currentContext: cluster.name,
      });
      client = KubernetesObjectApi.makeApiClient(kubeConfig);
      this.clients.set(name, client);
    }
    return client;
  }

  /** Creates the namespace if needed, then creates or replaces each object in order. */
  async apply(
    clusterName: string,
    namespace: string,
    objects: KubernetesObject[],
  ): Promise<AppliedObject[]> {
    const client = this.client(clusterName);
    await this.ensureNamespace(client, namespace);
    const applied: AppliedObject[] = [];
    for (const object of objects) {
      const header = {
        apiVersion: object.apiVersion!,
        kind: object.kind!,
        metadata: {
          name: object.metadata!.name!,
          namespace: object.metadata?.namespace ?? namespace,
        },
      };
      let existing: KubernetesObject | undefined;
      try {
        existing = await client.read(header);
      } catch (error) {
        if (isKindNotServed(error)) {
          applied.push({ ...header, ...header.metadata, operation: 'skipped' });
          continue;
        }
        if (!isNotFound(error)) throw error;
      }
      const desired = {
        ...object,
        metadata: { ...object.metadata, namespace: header.metadata.namespace },
      };
      if (existing) {
        desired.metadata.resourceVersion = existing.metadata?.resourceVersion;
        await client.replace(desired);
      } else {
        await client.create(desired);
      }
      applied.push({
        apiVersion: header.apiVersion,
        kind: header.kind,
        namespace: header.metadata.namespace,
        name: header.metadata.name,
        operation: existing ? 'replaced' : 'created',
      });
    }
    return applied;
  }

  private async ensureNamespace(
    client: KubernetesObjectApi,
    namespace: string,
  ) {
    const header = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    };
    try {
      await client.read(header);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await client.create(header);
    }
  }
}
