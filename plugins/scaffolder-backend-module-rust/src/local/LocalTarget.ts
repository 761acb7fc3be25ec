import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ConflictError, InputError } from '@backstage/errors';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Config key of the folder that receives services created with the `local` target.
 * @public
 */
export const LOCAL_DIRECTORY_CONFIG_KEY = 'rustTemplate.localTarget.directory';

/** Default folder: outside any repository, writable by the backend on every machine. */
export function defaultLocalDirectory(): string {
  return path.join(os.tmpdir(), 'rust-services');
}

/**
 * The folder that plays the role of a Git host for the `local` target: each service lands in
 * `<directory>/<name>`, and nothing may be written outside it.
 * @public
 */
export class LocalTarget {
  constructor(readonly directory: string) {}

  static fromConfig(config: Config): LocalTarget {
    const configured = config.getOptionalString(LOCAL_DIRECTORY_CONFIG_KEY);
    return new LocalTarget(path.resolve(configured ?? defaultLocalDirectory()));
  }

  /** The folder of one service; throws NotAllowedError when `name` would leave the directory. */
  serviceDirectory(name: string): string {
    // resolveSafeChildPath also resolves symlinks, so a link cannot lead outside either.
    const target = resolveSafeChildPath(this.directory, name);
    if (path.dirname(target) !== this.directory) {
      throw new InputError(`"${name}" is not a single folder name`);
    }
    return target;
  }

  /** Copies a workspace to `<directory>/<name>`; refuses to overwrite an existing service. */
  async publish(workspacePath: string, name: string): Promise<string> {
    const target = this.serviceDirectory(name);
    await fs.mkdir(this.directory, { recursive: true });
    try {
      await fs.mkdir(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ConflictError(
          `A service named "${name}" already exists in ${this.directory}; choose another name or remove that folder`,
        );
      }
      throw error;
    }
    // verbatimSymlinks + a filter: never follow a link out of the workspace.
    await fs.cp(workspacePath, target, {
      recursive: true,
      verbatimSymlinks: true,
      filter: async source => !(await fs.lstat(source)).isSymbolicLink(),
    });
    return target;
  }
}
