export interface Config {
  catalog?: {
    /**
     * Location types that may be registered through the catalog API (default `[url]`).
     * `make start` allows `file` for the Rust template's local target.
     */
    allowedLocationTypes?: string[];
  };
}
