import { Config } from '@backstage/config';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A cluster of `kubernetes.clusterLocatorMethods` (type `config`), with the two credentials the
 * portal holds for it:
 * - the Kubernetes plugin's (`serviceAccountToken` of the cluster entry), which reads: the
 *   Kubernetes tab and its proxy use it, so it should be bound to a read-only role;
 * - the rollouts engine's (`rollouts.clusters[].serviceAccountToken`), which writes the workloads
 *   and is never handed to a proxy.
 * @public
 */
export interface RolloutClusterConfig {
  name: string;
  url: string;
  skipTLSVerify: boolean;
  caData?: string;
  caFile?: string;
  /** The Kubernetes plugin's credential (reads). */
  readerToken?: string;
  /** The credential the engine and the template's apply step write with. */
  writerToken?: string;
  /**
   * True when no `rollouts.clusters` entry gives the engine a credential of its own, so it writes
   * with the Kubernetes plugin's: that one then needs write access, which its proxy would share.
   */
  sharedCredential: boolean;
  /**
   * `rollouts.clusters[].prometheus.url`: the Prometheus that scrapes the cluster's pods, which
   * the engine's analysis queries (`/api/v1/query`). Absent: analyses there are inconclusive.
   */
  prometheusUrl?: string;
}

/**
 * Reads the clusters once for every package that writes to them. Locators other than `config`
 * (catalog, gke, localKubectlProxy) are skipped: writing needs a credential the portal holds.
 * @public
 */
export function readRolloutClusters(config: Config): RolloutClusterConfig[] {
  const writers = new Map<string, string | undefined>();
  const prometheus = new Map<string, string | undefined>();
  for (const entry of config.getOptionalConfigArray('rollouts.clusters') ??
    []) {
    writers.set(
      entry.getString('name'),
      entry.getOptionalString('serviceAccountToken'),
    );
    prometheus.set(
      entry.getString('name'),
      entry.getOptionalString('prometheus.url'),
    );
  }
  return (
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? []
  )
    .filter(method => method.getString('type') === 'config')
    .flatMap(method => method.getOptionalConfigArray('clusters') ?? [])
    .map(c => {
      const name = c.getString('name');
      const url = c.getString('url');
      const readerToken = c.getOptionalString('serviceAccountToken');
      const ownWriter = writers.get(name);
      return {
        name,
        url,
        // client-node refuses plain http unless TLS verification is off; an http:// URL (a
        // development cluster such as kube-sim) has no TLS to verify anyway.
        skipTLSVerify:
          c.getOptionalBoolean('skipTLSVerify') ?? url.startsWith('http://'),
        caData: c.getOptionalString('caData'),
        caFile: c.getOptionalString('caFile'),
        readerToken,
        writerToken: ownWriter ?? readerToken,
        sharedCredential: ownWriter === undefined,
        prometheusUrl: prometheus.get(name),
      };
    });
}

/** A kubeconfig for one of the cluster's two credentials. @public */
export function kubeConfigFor(
  cluster: RolloutClusterConfig,
  credential: 'reader' | 'writer',
): KubeConfig {
  const kubeConfig = new KubeConfig();
  const user = `${cluster.name}-${credential}`;
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: cluster.url,
        skipTLSVerify: cluster.skipTLSVerify,
        caData: cluster.caData,
        caFile: cluster.caFile,
      },
    ],
    users: [
      {
        name: user,
        token:
          credential === 'writer' ? cluster.writerToken : cluster.readerToken,
      },
    ],
    contexts: [{ name: cluster.name, cluster: cluster.name, user }],
    currentContext: cluster.name,
  });
  return kubeConfig;
}
