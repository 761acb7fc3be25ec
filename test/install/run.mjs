#!/usr/bin/env node
// The install test: the packages as a stranger gets them, in an app this repository did not write.
// Packs every publishable package (scripts/pack.sh), generates a fresh app with the README's
// create-app command (and its legacy app, whose frontend joins the same project as
// packages/app-legacy so that one `yarn install` serves both), applies the README's marked install
// steps in order and nothing else, starts that app's backend against a kube-sim seeded with one
// annotated workload, serves both built frontends, and checks in Chromium that the annotated
// entity shows the card and the Deployment tab and that a deploy and a promote work.
// Usage: node test/install/run.mjs [--report FILE] [--keep] [--tarballs DIR (skip packing)]
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { assertChromium, freePort, launchChromium, repoRoot, run, stopChild, waitFor } from '../e2e/stack.mjs';
import { signInAsGuest } from '../e2e/journeys/signIn.mjs';
import { act, deploymentImage, guestToken, waitForRollout, waitForText } from '../e2e/journeys/helpers.mjs';
import { installSteps } from './readmeSteps.mjs';

const arg = name => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const reportFile = arg('--report');
const keep = process.argv.includes('--keep');
const givenTarballs = arg('--tarballs');

// The whole test stops by itself. On the shared 2-core machine under a load of 15-20, the app's first
// install alone took 8 minutes (better-sqlite3 compiles from source); 40 minutes bounds that case.
const TIME_LIMIT_MS = 40 * 60 * 1000;
const ENTITY = 'orders-api';
const outDir = join(repoRoot, '.install-output');
const log = line => console.log(`install: ${line}`);

const children = [];
const servers = [];
const results = [];

async function stopAll() {
  await Promise.all(children.reverse().map(stopChild));
  for (const s of servers) s.close();
}

/** Serves a built Backstage frontend: its files, and index.html for every other path (client routes). */
function serveStatic(dir, port) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.map': 'application/json' };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || path.endsWith('/')) file = join(dir, 'index.html');
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  servers.push(server);
  return new Promise(res => server.listen(port, '127.0.0.1', res));
}

function sh(cmd, args, opts) {
  log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/** create-app of the README's command, with --skip-install (one install comes later). */
function createApp(command, path, env) {
  const m = /^npx (@backstage\/create-app@\S+)(.*)$/.exec(command.trim());
  if (!m) throw new Error(`the README's create-app step is not "npx @backstage/create-app@VERSION ...": ${command}`);
  const legacy = m[2].includes('--legacy');
  sh('npx', ['-y', m[1], ...(legacy ? ['--legacy'] : []), '--skip-install', '--path', path], { env: { ...env, BACKSTAGE_APP_NAME: 'my-backstage' } });
  const release = JSON.parse(readFileSync(join(path, 'backstage.json'), 'utf8')).version;
  const ours = JSON.parse(readFileSync(join(repoRoot, 'backstage.json'), 'utf8')).version;
  if (release !== ours) throw new Error(`${m[1]} makes Backstage ${release} apps; backstage.json says ${ours}: update the README`);
  return release;
}

async function variant(name, { context, appUrl, backendUrl, token, image, screenshot }) {
  const started = Date.now();
  const page = await context.newPage();
  page.setDefaultTimeout(60000);
  try {
    await signInAsGuest(page, appUrl);
    await page.goto(`${appUrl}/catalog/default/component/${ENTITY}`);
    // The overview card: its title and the workload it shows.
    await page.getByText('Rollouts', { exact: true }).first().waitFor({ timeout: 120000 });
    await waitForText(page, 'Healthy');
    await screenshot(page, `${name}-overview-card`);
    // The tab is on the entity page: a tab in the legacy app, in the new system the "Deployment"
    // group's menu (next to Kubernetes), a button; then its own route, as the link opens it.
    await page.getByRole('tab', { name: /^Deployment/ }).or(page.getByRole('button', { name: /^Deployment/ })).first().waitFor();
    await page.goto(`${appUrl}/catalog/default/component/${ENTITY}/deployment`);
    await page.getByRole('button', { name: 'Deploy image' }).first().waitFor({ timeout: 60000 });
    await screenshot(page, `${name}-deployment-tab`);
    const stack = { backendUrl, ciToken: token };
    await act(page, 'Deploy image', { image, reason: `install test (${name}): canary` });
    await waitForRollout(stack, ENTITY, r => r.phase === 'Paused' && r.step.index === 1, 'the canary paused at 20%');
    await waitForText(page, 'Paused');
    await screenshot(page, `${name}-paused`);
    await act(page, 'Promote', { reason: `install test (${name}): promote` });
    await waitForRollout(stack, ENTITY, r => r.phase === 'Healthy' && r.stableImage === image, `Healthy on ${image}`);
    await screenshot(page, `${name}-promoted`);
    results.push({ name, ok: true, ms: Date.now() - started });
    log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    await screenshot(page, `${name}-failure`).catch(() => {});
    results.push({ name, ok: false, error: String(e?.stack ?? e) });
    log(`FAIL ${name}: ${e?.stack ?? e}`);
  } finally {
    await page.close();
  }
}

async function main() {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'screenshots'), { recursive: true });
  const logDir = join(outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  assertChromium();

  const steps = installSteps(repoRoot);
  log(`${steps.length} install steps in README.md`);
  const work = mkdtempSync(join(tmpdir(), 'rdp-install-'));
  const appDir = join(work, 'my-backstage');
  // CI sets immutable installs; a person adding packages to an app changes its lock file.
  const env = { ...process.env, YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', CI: '', BROWSER: 'none' };
  try {
    // 1. The apps, from the README's create-app commands.
    const created = steps.filter(s => s.action === 'create-app');
    const newApp = created.find(s => !s.for?.includes('legacy'));
    const legacyApp = created.find(s => s.for?.includes('legacy'));
    if (!newApp || !legacyApp) throw new Error('README.md needs a create-app step and a create-app step for=legacy');
    const release = createApp(newApp.body, appDir, env);
    createApp(legacyApp.body, join(work, 'legacy'), env);
    renameSync(join(work, 'legacy/packages/app'), join(appDir, 'packages/app-legacy'));
    const legacyPkgFile = join(appDir, 'packages/app-legacy/package.json');
    writeFileSync(legacyPkgFile, JSON.stringify({ ...JSON.parse(readFileSync(legacyPkgFile, 'utf8')), name: 'app-legacy' }, null, 2));
    log(`Backstage ${release} app at ${appDir}, legacy frontend at packages/app-legacy`);

    // 2. The tarballs (scripts/pack.sh, the README's pack step).
    const tarballs = join(appDir, 'tarballs');
    if (givenTarballs) cpSync(givenTarballs, tarballs, { recursive: true });
    else sh(join(repoRoot, 'scripts/pack.sh'), [tarballs], { cwd: repoRoot, env: process.env });

    // 3. Every other step, in the README's order; a frontend step once per frontend it is for.
    const { applyStep } = await import('./applyStep.mjs');
    for (const step of steps) {
      if (step.action === 'create-app' || step.action === 'pack') continue;
      const targets = step.for ? step.for.map(f => (f === 'legacy' ? 'packages/app-legacy' : 'packages/app')) : [undefined];
      for (const appPackage of targets) applyStep(step, { appDir, appPackage, env, log });
    }
    log(`README applied (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);

    // 4. What the test brings, not the README: the annotated entity and a cluster to point at.
    appendFileSync(join(appDir, 'examples/entities.yaml'), readFileSync(new URL('./entity.yaml', import.meta.url)));
    const [simPort, backendPort, newPort, legacyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const simUrl = `http://127.0.0.1:${simPort}`;
    const backendUrl = `http://localhost:${backendPort}`;
    const appUrls = { new: `http://localhost:${newPort}`, legacy: `http://localhost:${legacyPort}` };
    const overrideFor = appUrl => {
      const file = join(work, `app-config.${appUrl.split(':').pop()}.yaml`);
      writeFileSync(file, JSON.stringify({
        app: { baseUrl: appUrl },
        backend: { baseUrl: backendUrl, listen: { port: backendPort }, cors: { origin: [appUrls.new, appUrls.legacy] } },
      }));
      return file;
    };
    const clusterEnv = {
      K8S_CLUSTER_NAME: 'local',
      K8S_CLUSTER_URL: simUrl,
      K8S_READER_TOKEN: 'kube-sim-development-token',
      K8S_ROLLOUTS_TOKEN: 'kube-sim-development-token',
    };

    // 5. Both frontends built as `yarn build` builds them, each for its own URL.
    for (const [name, pkg] of [['new', 'packages/app'], ['legacy', 'packages/app-legacy']]) {
      const t = Date.now();
      sh('yarn', ['backstage-cli', 'package', 'build', '--config', '../../app-config.yaml', '--config', overrideFor(appUrls[name])], { cwd: join(appDir, pkg), env });
      log(`${name} frontend built in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }

    // 6. kube-sim with the one annotated workload, and the app's backend as `yarn start` runs it.
    const sim = run('kube-sim', 'node', [join(repoRoot, 'packages/kube-sim/bin/kube-sim'), '--port', String(simPort), '--seed', new URL('./cluster.yaml', import.meta.url).pathname], { cwd: repoRoot, env: {}, logDir });
    children.push(sim);
    await waitFor('kube-sim', async () => (await fetch(`${simUrl}/version`)).ok, 60000, sim);
    // What `yarn start` runs (the backend from its sources through the CLI's Node transform), without
    // the CLI's watcher, whose restarted child escaped the stop at the end of the first runs.
    const nodeTransform = createRequire(join(appDir, 'packages/backend/package.json')).resolve('@backstage/cli-node/config/nodeTransform.cjs');
    const backend = run('backend', process.execPath, ['--enable-source-maps', '--require', nodeTransform, 'src/index.ts', '--config', '../../app-config.yaml', '--config', overrideFor(appUrls.new)], {
      cwd: join(appDir, 'packages/backend'), env: { ...env, ...clusterEnv, NODE_ENV: 'development' }, logDir,
    });
    children.push(backend);
    const t = Date.now();
    await waitFor('backend', async () => (await fetch(`${backendUrl}/.backstage/health/v1/readiness`)).ok, 240000, backend);
    log(`backend ready in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    await serveStatic(join(appDir, 'packages/app/dist'), newPort);
    await serveStatic(join(appDir, 'packages/app-legacy/dist'), legacyPort);

    // 7. Chromium: the new frontend system, then the legacy app, on the same backend and cluster.
    const token = await guestToken({ backendUrl });
    await waitForRollout({ backendUrl, ciToken: token }, ENTITY, r => r.phase === 'Healthy', 'the entity in the catalog, its workload Healthy', 180000);
    // The template the scaffolder module ships, registered from node_modules as the README says.
    await waitFor('the Rust service template in the catalog', async () => (await fetch(`${backendUrl}/api/catalog/entities/by-name/template/default/rust-service`, { headers: { authorization: `Bearer ${token}` } })).ok, 120000);
    results.push({ name: 'template', ok: true });
    log('ok   template: template:default/rust-service registered from the installed package');
    const browser = await launchChromium();
    const screenshot = (page, label) => page.screenshot({ path: join(outDir, 'screenshots', `${label}.png`), fullPage: true });
    try {
      for (const [name, image] of [['new', 'ghcr.io/acme/orders-api:1.1.0'], ['legacy', 'ghcr.io/acme/orders-api:1.2.0']]) {
        const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
        await variant(name, { context, appUrl: appUrls[name], backendUrl, token, image, screenshot });
        await context.close();
      }
    } finally {
      await browser.close();
    }
    const image = await deploymentImage({ simUrl }, 'shop', ENTITY);
    log(`kube-sim's Deployment runs ${image}`);
    if (results.every(r => r.ok) && image !== 'ghcr.io/acme/orders-api:1.2.0') {
      results.push({ name: 'cluster', ok: false, error: `the Deployment runs ${image}, not the promoted 1.2.0` });
    }
  } finally {
    await stopAll();
    // What the README made of the app's files, for a reader of a failure.
    for (const f of ['package.json', 'app-config.yaml', 'packages/backend/src/index.ts', 'packages/app-legacy/src/components/catalog/EntityPage.tsx']) {
      if (existsSync(join(appDir, f))) cpSync(join(appDir, f), join(outDir, 'app', f));
    }
    if (!keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
    log(`${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  }
}

const timer = setTimeout(async () => {
  log(`FAIL: not done after ${TIME_LIMIT_MS / 60000} minutes; stopping`);
  await stopAll();
  process.exit(1);
}, TIME_LIMIT_MS);
timer.unref();

let crashed;
try {
  await main();
} catch (e) {
  crashed = e;
  log(`FAIL: ${e?.stack ?? e}`);
}
const passed = results.filter(r => r.ok).length;
const failed = results.length - passed + (crashed ? 1 : 0);
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, results, error: crashed && String(crashed) }, null, 2));
log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
