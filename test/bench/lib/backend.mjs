// Starts the real backend (packages/backend: catalog, kubernetes, rollouts, ...) from source the way
// `backstage-cli package start` runs it (node + Backstage's node transform), but without the CLI's
// file watcher: a source edit elsewhere must not restart the backend in the middle of a
// measurement, and the process we sample in /proc must be the backend itself.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The static token of local scripts (app-config.yaml), new for every bench run. */
export const TOKEN = randomBytes(24).toString('hex');

/**
 * The bench backend's config: on 127.0.0.1:`port` (the app, when built, on the same origin), in-memory
 * SQLite, the demo org and the bench's own catalog file, and the given kube-sim clusters for the
 * Kubernetes plugin and the engine (`clusters`: [{ name, url }]).
 */
export function benchBackendConfig({ repoRoot, port, catalogFile, clusters, rollouts }) {
  const url = `http://127.0.0.1:${port}`;
  return {
    app: { baseUrl: url },
    backend: {
      baseUrl: url,
      listen: { port, host: '127.0.0.1' },
      cors: { origin: url },
      database: { client: 'better-sqlite3', connection: ':memory:' },
    },
    catalog: {
      locations: [
        // The demo org: the guest user is a member of team-rust, which owns the benchmark services.
        { type: 'file', target: join(repoRoot, 'examples/org.yaml'), rules: [{ allow: ['User', 'Group'] }] },
        { type: 'file', target: catalogFile, rules: [{ allow: ['Component'] }] },
      ],
    },
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: clusters.map(({ name, url: clusterUrl }) => ({
            name,
            url: clusterUrl,
            authProvider: 'serviceAccount',
            serviceAccountToken: 'kube-sim',
            skipTLSVerify: true,
            skipMetricsLookup: true,
          })),
        },
      ],
    },
    ...(rollouts ? { rollouts } : {}),
  };
}

export async function startBackend({ repoRoot, outDir, port, config, env = {}, entry = 'src/index.ts', inspectPort }) {
  const backendDir = join(repoRoot, 'packages/backend');
  const transform = createRequire(join(backendDir, 'package.json')).resolve(
    '@backstage/cli-node/config/nodeTransform.cjs',
  );
  const override = join(outDir, 'app-config.bench.yaml');
  writeFileSync(override, JSON.stringify(config, null, 2));
  const log = createWriteStream(join(outDir, 'logs', 'backend.log'));
  const child = spawn(
    process.execPath,
    [
      ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
      '--enable-source-maps',
      '--require',
      transform,
      entry,
      '--config',
      join(repoRoot, 'app-config.yaml'),
      '--config',
      override,
    ],
    {
      cwd: backendDir,
      env: { ...process.env, NODE_ENV: 'development', ROLLOUTS_CI_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let tail = '';
  const keep = d => {
    tail = (tail + d).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        resolve();
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10000).unref();
    });

  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`backend exited with ${child.exitCode} before it was ready:\n${tail}`);
    }
    try {
      const res = await fetch(`${url}/.backstage/health/v1/readiness`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`backend not ready after 240 s:\n${tail}`);
    }
    await new Promise(r => setTimeout(r, 500));
  }
  return { url, pid: child.pid, inspectPort, stop, logTail: () => tail };
}

/** A user token for user:default/guest (the guest provider of app-config.yaml, development mode). */
export async function guestToken(baseUrl) {
  const res = await fetch(`${baseUrl}/api/auth/guest/refresh?env=development`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  if (!res.ok) throw new Error(`guest sign-in: ${res.status} ${await res.text()}`);
  return (await res.json()).backstageIdentity.token;
}

/**
 * fetch against the backend, by default with the static service token
 * (backend.auth.externalAccess), or with the given token.
 */
export function api(baseUrl, token = TOKEN) {
  return async (path, { method = 'GET', body, timeoutMs = 30_000 } = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      const err = new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      err.status = res.status;
      throw err;
    }
    return text ? JSON.parse(text) : undefined;
  };
}
