/**
 * What the Backstage Kubernetes plugin must be told about kube-real's 1.20 server for its tab to
 * show an entity without errors. The plugin's defaults ask for HorizontalPodAutoscalers at
 * autoscaling/v2 (served from 1.23), CronJobs at batch/v1 (from 1.21) and pod metrics from
 * metrics.k8s.io (no metrics-server runs here): each would be a 404 on every tab. 1.20 serves the
 * first two at the versions below.
 */
export interface KubernetesPluginSettings {
  /** `kubernetes.apiVersionOverrides`: object type -> the version this server serves. */
  apiVersionOverrides?: Record<string, string>;
  /** The cluster entry's `skipMetricsLookup`. */
  skipMetricsLookup?: boolean;
}

/** The settings for kube-real (used by `make start CLUSTER=real` and the tab's suite). */
export const REAL_CLUSTER_KUBERNETES_PLUGIN: KubernetesPluginSettings = {
  apiVersionOverrides: {
    horizontalpodautoscalers: 'v2beta2',
    cronjobs: 'v1beta1',
  },
  skipMetricsLookup: true,
};
