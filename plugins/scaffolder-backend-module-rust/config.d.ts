export interface Config {
  /** Settings of the Rust service template's scaffolder actions. */
  rustTemplate?: {
    localTarget?: {
      /**
       * Folder that receives services created with the `local` target, one sub-folder per service.
       * Relative paths resolve against the backend's working directory.
       * Default: `<os.tmpdir()>/rust-services` (`/tmp/rust-services` on Linux).
       */
      directory?: string;
    };
  };
}
