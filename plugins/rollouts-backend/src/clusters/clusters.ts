import { Config } from '@backstage/config';
import { KubeConfig } from '@kubernetes/client-node';

/** A cluster the rollouts backend acts on, read from `kubernetes.clusterLocatorMethods`. */
export interface RolloutCluster {
  name: string;
  url: string;
  kubeConfig: KubeConfig;
}

/**
 * Reads the `config` cluster locators of the Kubernetes plugin. Other locator types (catalog, gke,
 * localKubectlProxy) are skipped: the engine needs credentials it can hold for long-lived watches.
 */
export function readClusters(config: Config): RolloutCluster[] {
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  const clusters: RolloutCluster[] = [];
  for (const method of methods) {
    if (method.getString('type') !== 'config') {
      continue;
    }
    for (const c of method.getOptionalConfigArray('clusters') ?? []) {
      const name = c.getString('name');
      const url = c.getString('url');
      const token = c.getOptionalString('serviceAccountToken');
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [
          {
            name,
            server: url,
            skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
            caData: c.getOptionalString('caData'),
            caFile: c.getOptionalString('caFile'),
          },
        ],
        users: [{ name: `${name}-user`, token }],
        contexts: [{ name, cluster: name, user: `${name}-user` }],
        currentContext: name,
      });
      clusters.push({ name, url, kubeConfig });
    }
  }
  return clusters;
}
