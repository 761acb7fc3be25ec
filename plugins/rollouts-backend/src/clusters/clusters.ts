import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  kubeConfigFor,
  readRolloutClusters,
} from '@rust-delivery-portal/plugin-rollouts-node';
import { KubeConfig } from '@kubernetes/client-node';

/** A cluster the rollouts backend acts on, with the engine's own (writer) credential. */
export interface RolloutCluster {
  name: string;
  url: string;
  kubeConfig: KubeConfig;
  /** `rollouts.clusters[].prometheus.url`: where the engine's analysis queries the cluster's metrics. */
  prometheusUrl?: string;
}

/**
 * The clusters of `kubernetes.clusterLocatorMethods`, each with the credential the engine writes
 * with (`rollouts.clusters[].serviceAccountToken`). Where none is configured the engine shares the
 * Kubernetes plugin's credential, whose proxy could then write as well: said once at start-up.
 */
export function readClusters(
  config: Config,
  logger?: LoggerService,
): RolloutCluster[] {
  return readRolloutClusters(config).map(cluster => {
    if (cluster.sharedCredential) {
      logger?.warn(
        `Cluster ${cluster.name}: the rollouts engine writes with the Kubernetes plugin's credential; give it its own in rollouts.clusters[].serviceAccountToken and bind the Kubernetes plugin's to a read-only role`,
      );
    }
    return {
      name: cluster.name,
      url: cluster.url,
      kubeConfig: kubeConfigFor(cluster, 'writer'),
      prometheusUrl: cluster.prometheusUrl,
    };
  });
}
