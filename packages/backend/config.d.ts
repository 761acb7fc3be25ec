export interface Config {
  catalog?: {
    /**
     * Location types that may be registered through the catalog API (default `[url]`).
     * `make start` allows `file` for the Rust template's local target.
     */
    allowedLocationTypes?: string[];
  };
  portal?: {
    permissions?: {
      /**
       * Groups whose members may use the Kubernetes plugin's proxy (`kubernetes.proxy`), which
       * sends requests with the Kubernetes plugin's cluster credential. Everyone else is denied;
       * the Kubernetes tab works without it. Default `[group:default/platform]`.
       */
      kubernetesProxyGroups?: string[];
    };
  };
}
