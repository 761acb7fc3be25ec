// Starts the portal the way `make start` does (kube-sim seeded with the demo, the real backend and
// the real app dev server), on free ports, and stops it again. Used by the end-to-end tests and the
// benchmark, so both exercise exactly what a newcomer runs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { seedDemoRollouts } from '../../scripts/demo.mjs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

// Resolved from the backend package, whose @backstage/cli brings the Node transform.
const requireFromBackend = createRequire(new URL('../../packages/backend/package.json', import.meta.url));

export const repoRoot = resolve(new URL('../..', import.meta.url).pathname);

/** Debian's Chromium, which scripts/ensure-chromium.sh installs (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** Fails loudly when Chromium is missing (callers check before they start anything else). */
export function assertChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install chromium)`);
  }
}

/**
 * Starts headless Chromium as every browser test here does: Debian's binary, a fresh profile, and
 * none of its background connections (this machine reaches loopback only).
 */
export async function launchChromium() {
  assertChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run',
    ],
  });
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export async function waitFor(what, probe, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`${what}: the process exited with code ${child.exitCode} before it was ready`);
    }
    try {
      if (await probe()) return;
    } catch (e) {
      lastError = e;
    }
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s${lastError ? `: ${lastError.message}` : ''}`);
}

export function run(name, cmd, args, { cwd, env, logDir }) {
  const log = createWriteStream(join(logDir, `${name}.log`));
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() ends its children too
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.output = '';
  child.stdout.on('data', d => {
    child.output = (child.output + d).slice(-20000);
  });
  return child;
}

export function stopChild(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise(res => {
    child.once('exit', res);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      res();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 10000).unref();
  });
}

/**
 * Starts kube-sim, the backend and (unless `app: false`) the app.
 * Options: { outDir, app = true, demo = true (start the demo rollouts as `make start` does),
 *   kubeSimArgs = [], extraConfig = {}, backendEnv = {} }.
 */
export async function startStack({ outDir, app = true, demo = true, kubeSimArgs = [], extraConfig, backendEnv = {} } = {}) {
  const logDir = join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const [simPort, backendPort, appPort] = [await freePort(), await freePort(), await freePort()];
  const simUrl = `http://127.0.0.1:${simPort}`;
  const backendUrl = `http://localhost:${backendPort}`;
  const appUrl = app ? `http://localhost:${appPort}` : backendUrl;

  const children = [];
  const stop = async () => {
    await Promise.all(children.reverse().map(stopChild));
  };

  try {
    const sim = run('kube-sim', 'node', ['packages/kube-sim/bin/kube-sim', '--port', String(simPort), '--seed', 'demo', ...kubeSimArgs], {
      cwd: repoRoot, env: {}, logDir,
    });
    children.push(sim);
    await waitFor('kube-sim', async () => (await fetch(`${simUrl}/version`)).ok, 60000, sim);
    // The release pipeline's clusters, as `make start` runs them.
    const stageUrls = {};
    for (const stage of ['staging', 'production']) {
      const port = await freePort();
      const child = run(`kube-sim-${stage}`, 'node', ['packages/kube-sim/bin/kube-sim', '--port', String(port), '--seed', 'packages/kube-sim/seeds/checkout-api.yaml'], {
        cwd: repoRoot, env: {}, logDir,
      });
      children.push(child);
      stageUrls[stage] = `http://127.0.0.1:${port}`;
      await waitFor(`kube-sim ${stage}`, async () => (await fetch(`${stageUrls[stage]}/version`)).ok, 60000, child);
    }

    const override = join(outDir, 'app-config.e2e.yaml');
    writeFileSync(
      override,
      JSON.stringify({
        app: { baseUrl: appUrl },
        backend: {
          baseUrl: backendUrl,
          listen: { port: backendPort },
          cors: { origin: appUrl },
        },
        ...extraConfig,
      }),
    );
    const configArgs = ['--config', join(repoRoot, 'app-config.yaml'), '--config', override];
    // The static token of local scripts, new for every run as `make start` makes one per machine.
    const ciToken = randomBytes(24).toString('hex');
    const env = {
      KUBE_SIM_URL: simUrl,
      KUBE_SIM_STAGING_URL: stageUrls.staging,
      KUBE_SIM_PRODUCTION_URL: stageUrls.production,
      BROWSER: 'none',
      ROLLOUTS_CI_TOKEN: ciToken,
    };

    // The backend runs from its sources without the CLI's file watcher, so it never restarts
    // (and loses its in-memory database) in the middle of a run.
    const backend = run('backend', process.execPath, [
      '--enable-source-maps', '--require', requireFromBackend.resolve('@backstage/cli-node/config/nodeTransform.cjs'),
      'src/index.ts', ...configArgs,
    ], {
      cwd: join(repoRoot, 'packages/backend'), env: { ...env, NODE_ENV: 'development', ...backendEnv }, logDir,
    });
    children.push(backend);
    if (app) {
      const frontend = run('app', 'yarn', ['backstage-cli', 'package', 'start', ...configArgs], {
        cwd: join(repoRoot, 'packages/app'), env, logDir,
      });
      children.push(frontend);
    }
    await waitFor(
      'backend',
      async () => (await fetch(`${backendUrl}/.backstage/health/v1/readiness`)).ok,
      240000,
      backend,
    );
    if (demo) {
      await seedDemoRollouts(backendUrl, ciToken);
    }
    if (app) {
      await waitFor('app', async () => (await fetch(appUrl)).ok, 300000, children[children.length - 1]);
    }
    return { simUrl, stageUrls, backendUrl, appUrl, ciToken, stop, logDir };
  } catch (e) {
    await stop();
    throw e;
  }
}
