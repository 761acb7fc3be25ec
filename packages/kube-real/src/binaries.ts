import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PACKAGE_DIR } from './packageDir';

/** The Kubernetes release Debian's bookworm source package carries; the cache is keyed by it. */
export const KUBERNETES_VERSION = 'v1.20.2';

/**
 * The build's revision (scripts/build.sh `revision`): binaries of another revision live in
 * another folder. b3 replaced the vendored reflect2, without which the API server crashes on the
 * first custom resource (README, "Build it").
 */
export const BUILD_REVISION = 'b3';

/** The build script, for messages and for callers that want to build on demand. */
export const BUILD_SCRIPT = join(PACKAGE_DIR, 'scripts', 'build.sh');

export interface ControlPlaneBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
}

/** `$KUBE_REAL_CACHE` or ~/.cache/rust-delivery-portal/kube-real: outside the repository. */
export function cacheRoot(env = process.env): string {
  return (
    env.KUBE_REAL_CACHE ||
    join(env.HOME || homedir(), '.cache', 'rust-delivery-portal', 'kube-real')
  );
}

export function binDir(env = process.env): string {
  return join(cacheRoot(env), `${KUBERNETES_VERSION}-${BUILD_REVISION}`, 'bin');
}

function onPath(name: string, env = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Where the binaries of the cluster are, or an error that says how to get them: the build takes
 * many minutes, so a test never starts it behind the caller's back.
 */
export function locateBinaries(
  dir = binDir(),
  env = process.env,
): ControlPlaneBinaries {
  const at = (name: string) => join(dir, name);
  const etcd = onPath('etcd', env) ?? '/usr/bin/etcd';
  const found: ControlPlaneBinaries = {
    etcd,
    kubeApiserver: at('kube-apiserver'),
    kubeControllerManager: at('kube-controller-manager'),
    kubeScheduler: at('kube-scheduler'),
  };
  const missing = Object.values(found).filter(p => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(
      `kube-real: the control plane is not built on this machine (missing ${missing.join(
        ', ',
      )}). Run packages/kube-real/scripts/build.sh once (as root; it installs Debian's kubernetes ` +
        `source, Go and etcd, and builds into ${dir}; 20 to 40 minutes on 2 cores).`,
    );
  }
  return found;
}
