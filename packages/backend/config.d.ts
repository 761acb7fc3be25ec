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
       * The platform team: members may use the Kubernetes plugin's proxy (`kubernetes.proxy`,
       * which sends requests with the Kubernetes plugin's cluster credential; the Kubernetes tab
       * works without it), unregister catalog locations and delete any entity (others delete
       * only the entities they own). Default `[group:default/platform]`.
       */
      platformGroups?: string[];
    };
  };
}
