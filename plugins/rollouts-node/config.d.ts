export interface Config {
  rollouts?: {
    /**
     * The rollouts engine's own credential per cluster of `kubernetes.clusterLocatorMethods`
     * (matched by name). The engine and the Rust template's apply step write with it; the
     * Kubernetes plugin keeps reading with the cluster entry's `serviceAccountToken`, which can
     * then be bound to a read-only role. Without an entry the engine writes with the Kubernetes
     * plugin's credential and logs a warning.
     */
    clusters?: Array<{
      name: string;
      /** @visibility secret */
      serviceAccountToken?: string;
      /** The Prometheus that scrapes this cluster's pods, for canary and blue-green analysis. */
      prometheus?: {
        /** Base URL of its HTTP API, e.g. `http://prometheus.monitoring:9090`. */
        url: string;
      };
    }>;
  };
}
