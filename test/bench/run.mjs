#!/usr/bin/env node
// The performance benchmark behind `make bench` (see BENCHMARKS.md). Starts 3 kube-sim clusters and
// the real backend on free loopback ports, seeds N services, and measures, side by side with the
// Backstage Kubernetes plugin in the same run:
//   1. entity deployment state: latency and throughput of the two entity endpoints
//   2. Kubernetes API requests per 1000 entity requests
//   3. reaction time of the canary health gate
//   4. cost of 100 / 500 / 1000 rollouts in flight (RSS, CPU per reconcile tick, status p99)
//   5. the rollouts plugin's share of the production frontend bundle
//   6. analysis: a canary's first bad scrape -> Aborted, with a real Prometheus (one canary)
//   7. the backend's memory with clusters full of pods of no entity, and its watch load per cluster
//   8. change to screen: a canary pod turns unready (or ready) -> our Deployment tab shows it, beside
//      the Kubernetes plugin's tab, in headless Chromium (its own kube-sim and backend, at the end)
// Every loop is bounded in count and time; nothing here asserts a timing.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { freePort, repoRoot } from '../e2e/stack.mjs';
import { api, benchBackendConfig, guestToken, startBackend } from './lib/backend.mjs';
import { distIsFresh, measureBundle, startAppBuild } from './lib/bundle.mjs';
import { cpuProfile, heapAfterGc } from './lib/inspector.mjs';
import { cpuSeconds, poll, rssBytes, runLoad, sleep, summarize } from './lib/measure.mjs';
import { NAMESPACE, SCALE_NAMESPACE, imageOf, planSeed } from './lib/seed.mjs';
import { startSims } from './lib/sims.mjs';
import { screenFigure } from './lib/screen.mjs';
import { printReport } from './lib/report.mjs';
import { watchRollouts } from './lib/watch.mjs';
import { UNRELATED_NAMESPACE, unrelatedDeployment, unrelatedPod } from './lib/unrelated.mjs';

const { values: opts } = parseArgs({
  options: {
    services: { type: 'string', default: '200' },
    requests: { type: 'string', default: '800' },
    concurrency: { type: 'string', default: '8' },
    trials: { type: 'string', default: '20' },
    scale: { type: 'string', default: '100,500,1000' },
    'reconcile-seconds': { type: 'string', default: '3' },
    // Figure 7: pods that belong to no entity (over all clusters), and Deployments the engine watches.
    'unrelated-pods': { type: 'string', default: '30000' },
    'watched-deployments': { type: 'string', default: '1500' },
    'skip-bundle': { type: 'boolean', default: false },
    'skip-screen': { type: 'boolean', default: false },
    // Only one figure, for development: `screen` (figure 8; builds the app first if its dist is stale).
    only: { type: 'string' },
    'rebuild-app': { type: 'boolean', default: false },
    // Another entry point than packages/backend/src/index.ts (for trying a backend change).
    'backend-entry': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`usage: node test/bench/run.mjs [--services 200] [--requests 800] [--concurrency 8]
       [--trials 20] [--scale 100,500,1000] [--reconcile-seconds 3] [--unrelated-pods 30000]
       [--watched-deployments 1500] [--skip-bundle] [--skip-screen] [--rebuild-app] [--only screen]`);
  process.exit(0);
}
if (opts.only !== undefined && opts.only !== 'screen') {
  console.error(`--only: only "screen" (figure 8) can run on its own`);
  process.exit(2);
}
const SERVICES = Number(opts.services);
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);
const TRIALS = Number(opts.trials);
const SCALE = opts.scale.split(',').map(Number).filter(n => n > 0).sort((a, b) => a - b);
const RECONCILE_SECONDS = Number(opts['reconcile-seconds']);
const UNRELATED_PODS = Number(opts['unrelated-pods']);
const WATCHED_DEPLOYMENTS = Number(opts['watched-deployments']);
const CLUSTERS = ['bench-a', 'bench-b', 'bench-c'];
/** The whole run stops starting new work after this, so `make bench` stays under 10 minutes. */
const BUDGET_MS = 9 * 60_000;
/** Figure 8 runs after the others, on its own clusters and backend, for at most this long. */
const SCREEN_BUDGET_MS = 6 * 60_000;

const startedAt = Date.now();
const remaining = () => BUDGET_MS - (Date.now() - startedAt);
const outDir = join(repoRoot, '.bench-output');
const logDir = join(outDir, 'logs');
mkdirSync(logDir, { recursive: true });

const log = msg => console.error(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${msg}`);

const results = {
  startedAt: new Date(startedAt).toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    // Other work on the machine while the figures were taken (1, 5, 15 minute load averages).
    loadAverageAtStart: loadavg().map(v => Number(v.toFixed(2))),
  },
  parameters: {
    services: SERVICES,
    clusters: CLUSTERS.length,
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    trials: TRIALS,
    scale: SCALE,
    reconcileSeconds: RECONCILE_SECONDS,
    unrelatedPods: UNRELATED_PODS,
    watchedDeployments: WATCHED_DEPLOYMENTS,
    only: opts.only,
  },
  notes: [],
};

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    await cleanups.pop()().catch(e => log(`cleanup: ${e}`));
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    Promise.all([cleanup(), appBuild?.stop()]).finally(() => process.exit(130));
  });
}

async function main() {
  // Figure 5's app build runs while the clusters, the backend and the catalog start (nothing is
  // timed then), and must be done before the timed figures begin.
  if (!opts['skip-bundle']) {
    log('figure 5: production build of packages/app at nice 19 in the background (skipped when dist is fresh)...');
    appBuild = startAppBuild({ repoRoot, logDir, force: opts['rebuild-app'] });
  }

  log('starting 3 kube-sim clusters...');
  const sims = await startSims({ count: CLUSTERS.length, logDir });
  cleanups.push(() => sims.stop());

  const plan = planSeed({ services: SERVICES, clusters: CLUSTERS.length, maxScale: SCALE.at(-1) ?? 0 });
  for (let c = 0; c < CLUSTERS.length; c++) {
    await sims.call('apply', { cluster: c, objects: plan.perCluster[c] });
  }
  const catalogFile = join(outDir, 'catalog-bench.yaml');
  writeFileSync(catalogFile, plan.entities.map(e => toYaml(e)).join('---\n'));
  log(`seeded ${plan.main.length} services and ${plan.scale.length} scale workloads (${plan.entities.length} entities)`);

  const port = await freePort();
  log(`starting the backend on :${port} (catalog, kubernetes, rollouts)...`);
  const backendStarted = Date.now();
  const backend = await startBackend({
    repoRoot,
    outDir,
    port,
    entry: opts['backend-entry'],
    inspectPort: await freePort(),
    config: benchBackendConfig({
      repoRoot,
      port,
      catalogFile,
      clusters: CLUSTERS.map((name, i) => ({ name, url: sims.urls[i] })),
      rollouts: { reconcileInterval: { seconds: RECONCILE_SECONDS } },
    }),
  });
  cleanups.push(() => backend.stop());
  results.backendStartSeconds = (Date.now() - backendStarted) / 1000;
  // Starts go through the CI token (a service principal may start rollouts); every read goes
  // through a signed-in user, as a person opening the entity page would.
  const call = api(backend.url);
  const userCall = api(backend.url, await guestToken(backend.url));

  log(`waiting for the catalog to hold ${plan.entities.length} entities...`);
  const catalogStarted = Date.now();
  const entities = await poll(
    async () => {
      // As the user: the static token may reach the rollouts plugin only (app-config.yaml).
      const page = await userCall(
        `/api/catalog/entities/by-query?filter=kind=component,metadata.tags=bench&limit=1`,
      );
      if (page.totalItems < plan.entities.length) return undefined;
      return loadEntities(userCall);
    },
    { timeoutMs: Math.min(300_000, remaining() - 120_000), intervalMs: 1000 },
  );
  if (!entities) throw new Error('the catalog did not ingest the benchmark entities in time');
  results.catalogIngestSeconds = (Date.now() - catalogStarted) / 1000;

  log('waiting for pods to be ready and the rollouts backend to see the workloads...');
  await poll(
    async () => {
      for (let c = 0; c < CLUSTERS.length; c++) {
        const r = await sims.call('readiness', { cluster: c, namespace: NAMESPACE });
        if (r.pods === 0 || r.ready < r.pods) return false;
      }
      return true;
    },
    { timeoutMs: 60_000 },
  );
  const first = plan.main[0];
  const rolloutsReady = await poll(
    async () => (await userCall(rolloutsPath(first.name))).items?.length > 0,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  if (!rolloutsReady) {
    // Still measure the baseline, so the run says as much as it can.
    const reason = await userCall(rolloutsPath(first.name)).then(
      r => `answered ${JSON.stringify(r).slice(0, 200)}`,
      e => String(e.message),
    );
    await statusFigures({ call, userCall, sims, plan, entities, only: ['kubernetes'], backend });
    throw new Error(
      `GET ${rolloutsPath(first.name)} shows no workload after 60 s (${reason}); figures 1-4 for rollouts not measured`,
    );
  }

  await statusFigures({ call, userCall, sims, plan, entities, backend });
  await reactionFigures({ call, userCall, sims, plan });
  await scaleFigures({ call, userCall, sims, plan, backend });
  await clusterSizeFigures({ sims, backend });
}

/**
 * Figure 7: the backend's memory as the clusters grow with objects the portal never shows, and
 * the watch load it puts on each cluster. Heap and RSS after a full GC before and after
 * `--unrelated-pods` pods that belong to no entity (spread over the clusters), then after
 * `--watched-deployments` Deployments at 0 replicas (watched whole, with their ReplicaSets); then
 * what the watches carry in an idle window.
 */
async function clusterSizeFigures({ sims, backend }) {
  if (remaining() < 60_000) {
    results.notes.push('cluster size: left out to stay in the time budget');
    return;
  }
  const measure = async () => {
    const heap = await heapAfterGc(backend.inspectPort);
    return { heapMiB: heap.usedBytes / 2 ** 20, rssMiB: rssBytes(backend.pid) / 2 ** 20 };
  };
  // Applied in chunks, round-robin over the clusters, until the time budget says stop; then the
  // clusters' watch events have time to reach the backend. Returns how many were applied.
  const applyAll = async (count, make) => {
    let applied = 0;
    for (let i = 0; i < count && remaining() > 45_000; i += 1000 * CLUSTERS.length) {
      for (let c = 0; c < CLUSTERS.length; c++) {
        const objects = [];
        for (let k = i + c; k < Math.min(count, i + 1000 * CLUSTERS.length); k += CLUSTERS.length) objects.push(make(k));
        if (objects.length) await sims.call('apply', { cluster: c, objects });
        applied += objects.length;
      }
    }
    if (applied < count) results.notes.push(`cluster size: applied ${applied} of ${count} to stay in the time budget`);
    await sims.quiesce({ timeoutMs: 60_000 });
    await sleep(3000);
    return applied;
  };
  log(`figure 7: ${UNRELATED_PODS} pods of no entity, then ${WATCHED_DEPLOYMENTS} Deployments...`);
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: UNRELATED_NAMESPACE } };
  for (let c = 0; c < CLUSTERS.length; c++) await sims.call('apply', { cluster: c, objects: [namespace] });
  const before = await measure();
  await sims.resetCounts();
  const podsStarted = Date.now();
  const unrelatedPods = await applyAll(UNRELATED_PODS, unrelatedPod);
  const podsSeconds = (Date.now() - podsStarted) / 1000;
  const whilePods = await sims.watchStats();
  const afterPods = await measure();
  const podBytes = unrelatedPod(0);
  const podJsonBytes = Buffer.byteLength(JSON.stringify(podBytes));
  const watchedDeployments = await applyAll(WATCHED_DEPLOYMENTS, unrelatedDeployment);
  const afterDeployments = await measure();
  const census = await Promise.all(
    CLUSTERS.map((_, c) => sims.call('census', { cluster: c, kinds: [['v1', 'Pod'], ['apps/v1', 'Deployment'], ['apps/v1', 'ReplicaSet']] })),
  );
  // The watch load with nobody acting: streams open, events and bytes per second, per cluster.
  await sims.resetCounts();
  const idleMs = 15_000;
  await sleep(idleMs);
  const idle = await sims.watchStats();
  results.clusterSize = {
    unrelatedPods,
    watchedDeployments,
    podJsonBytes,
    podsSeconds,
    before,
    afterPods,
    afterDeployments,
    census,
    whilePods,
    idle,
    idleSeconds: idleMs / 1000,
  };
}

const rolloutsPath = name => `/api/rollouts/entities/component/default/${name}/rollouts`;

async function loadEntities(call) {
  const byName = new Map();
  let cursor;
  for (let page = 0; page < 100; page++) {
    const q = cursor
      ? `cursor=${encodeURIComponent(cursor)}`
      : 'filter=kind=component,metadata.tags=bench&limit=500';
    const res = await call(`/api/catalog/entities/by-query?${q}`);
    for (const e of res.items) byName.set(e.metadata.name, e);
    cursor = res.pageInfo?.nextCursor;
    if (!cursor) break;
  }
  return byName;
}

/** Figures 1 and 2: our entity endpoint vs the Kubernetes plugin's, same entities, same clusters. */
async function statusFigures({ call, userCall, sims, plan, entities, only, backend }) {
  const names = plan.main.map(s => s.name);
  const allEndpoints = {
    kubernetes: {
      label: 'Kubernetes plugin  POST /api/kubernetes/services/:name (user)',
      request: async i => {
        const name = names[i % names.length];
        const res = await userCall(`/api/kubernetes/services/${name}`, {
          method: 'POST',
          body: { entity: entities.get(name), auth: {} },
        });
        const objects = res.items.flatMap(c => c.resources ?? []).reduce((s, r) => s + (r.resources?.length ?? 0), 0);
        const errors = res.items.flatMap(c => c.errors ?? []);
        if (errors.length) throw new Error(`kubernetes plugin reported ${JSON.stringify(errors[0]).slice(0, 200)}`);
        if (objects === 0) throw new Error(`kubernetes plugin found no objects for ${name}`);
      },
    },
    rollouts: {
      label: 'rollouts           GET /api/rollouts/entities/component/default/:name/rollouts (user)',
      request: async i => {
        const name = names[i % names.length];
        const res = await userCall(rolloutsPath(name));
        if (!(res.items?.length > 0)) throw new Error(`rollouts shows no workload for ${name}`);
      },
    },
    rolloutsService: {
      label: 'rollouts, called with the CI service token (no conditional permission decisions)',
      request: async i => {
        const name = names[i % names.length];
        const res = await call(rolloutsPath(name));
        if (!(res.items?.length > 0)) throw new Error(`rollouts shows no workload for ${name}`);
      },
    },
  };

  const endpoints = Object.fromEntries(
    Object.entries(allEndpoints).filter(([k]) => !only || only.includes(k)),
  );
  // Warm-up: each entity's page opened once, as the day starts. The rounds below are then the
  // polls of pages that stay open; our first request per entity (caches cold: the catalog entity
  // and the viewer's decisions are read) is reported on a row of its own.
  log('figures 1-2: warm-up, every entity once...');
  let firstViews;
  for (const [key, ep] of Object.entries(endpoints)) {
    const r = await runLoad({ count: names.length, concurrency: CONCURRENCY, timeLimitMs: 60_000, request: ep.request, keepLatencies: true });
    if (key === 'rollouts') firstViews = r;
  }
  await sims.quiesce();

  // Idle window: what the backend asks the clusters for when nobody looks (watches, reconcile).
  await sims.resetCounts();
  const idleStart = Date.now();
  await sleep(5000);
  const idle = await sims.counts();
  const idleSeconds = (Date.now() - idleStart) / 1000;

  // Interleaved rounds, so both endpoints see the same machine noise.
  const ROUNDS = 4;
  const per = Math.ceil(REQUESTS / ROUNDS);
  const acc = Object.fromEntries(
    Object.keys(endpoints).map(k => [k, { latencies: [], ok: 0, errors: 0, firstError: undefined, wallMs: 0, kubeRequests: 0, byType: {} }]),
  );
  log(`figures 1-2: ${REQUESTS} requests per endpoint, ${CONCURRENCY} in flight, ${ROUNDS} interleaved rounds...`);
  // At most ~2 minutes for these rounds, whatever the machine's speed.
  const roundLimitMs = 120_000 / ROUNDS / Object.keys(endpoints).length;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, ep] of Object.entries(endpoints)) {
      await sims.resetCounts();
      const r = await runLoad({
        count: per,
        concurrency: CONCURRENCY,
        timeLimitMs: roundLimitMs,
        request: i => ep.request(i + round * per),
        keepLatencies: true,
      });
      // Requests the client gave up on may still be fanning out: count them in.
      await sims.quiesce();
      const counts = await sims.counts();
      const a = acc[key];
      a.latencies.push(...r.latencies);
      a.ok += r.ok;
      a.errors += r.errors;
      a.firstError ??= r.firstError;
      a.wallMs += r.wallMs;
      a.kubeRequests += counts.total;
      for (const [t, n] of Object.entries(counts.byType)) a.byType[t] = (a.byType[t] ?? 0) + n;
    }
  }
  // Our endpoint at one request in flight: the Kubernetes request count must not follow the rate.
  let serial;
  let serialCounts;
  if (endpoints.rollouts) {
    await sims.resetCounts();
    serial = await runLoad({ count: 100, concurrency: 1, timeLimitMs: 30_000, request: endpoints.rollouts.request });
    serialCounts = await sims.counts();
  }

  // The calls our status request no longer makes on every poll, each timed alone: the catalog
  // entity read as the user, and the permission decisions with the entity's resourceRef (the
  // permission backend asks the catalog to apply the owner condition). An action still makes both,
  // afresh; a status request makes a catalog read and one authorizeConditional (which a user token
  // cannot call from outside the backend) only when its cache of readCacheSeconds has run out.
  let parts;
  if (endpoints.rollouts) {
    const entityRef = name => `component:default/${name}`;
    const perm = (name, action) => ({ type: 'resource', name, attributes: { action }, resourceType: 'catalog-entity' });
    const actions = ['start', 'promote', 'abort', 'retry', 'rollback', 'pause', 'restart'];
    const serialRun = request => runLoad({ count: 100, concurrency: 1, timeLimitMs: 20_000, request });
    const catalogRun = await serialRun(i => userCall(`/api/catalog/entities/by-name/component/default/${names[i % names.length]}`));
    const decisionsRun = await serialRun(i =>
      userCall('/api/permission/authorize', {
        method: 'POST',
        body: {
          items: actions.map(a => ({
            id: a,
            permission: perm(`rollouts.rollout.${a}`, 'update'),
            resourceRef: entityRef(names[i % names.length]),
          })),
        },
      }),
    );
    // Where the backend's CPU goes while it answers our endpoint for a user, one request at a time.
    const profiled = await cpuProfile(backend.inspectPort, () => serialRun(endpoints.rollouts.request)).catch(
      e => ({ error: String(e.message) }),
    );
    if (profiled.profile) {
      writeFileSync(join(outDir, 'rollouts-status.cpuprofile'), JSON.stringify(profiled.profile));
      delete profiled.profile;
    }
    parts = {
      profile: profiled,
      catalogEntityP50Ms: catalogRun.p50,
      permissionDecisionsP50Ms: decisionsRun.p50,
      permissionErrors: decisionsRun.errors,
      permissionFirstError: decisionsRun.firstError,
      rolloutsP50Ms: serial?.p50,
    };
  }

  const status = {};
  for (const [key, a] of Object.entries(acc)) {
    const s = summarize(a.latencies);
    status[key] = {
      endpoint: endpoints[key].label,
      ok: a.ok,
      errors: a.errors,
      firstError: a.firstError,
      p50Ms: s.p50,
      p90Ms: s.p90,
      p99Ms: s.p99,
      maxMs: s.max,
      rps: a.ok / (a.wallMs / 1000),
      kubeRequests: a.kubeRequests,
      kubeRequestsPer1000: a.ok ? (a.kubeRequests / a.ok) * 1000 : NaN,
      kubeRequestsByType: a.byType,
    };
  }
  if (serial) {
    status.rolloutsSerial = {
      ok: serial.ok,
      p50Ms: serial.p50,
      p99Ms: serial.p99,
      rps: serial.rps,
      kubeRequests: serialCounts.total,
      kubeRequestsPer1000: serial.ok ? (serialCounts.total / serial.ok) * 1000 : NaN,
    };
  }
  if (firstViews) {
    const f = summarize(firstViews.latencies);
    status.rolloutsFirstView = { ok: firstViews.ok, errors: firstViews.errors, p50Ms: f.p50, p99Ms: f.p99, rps: firstViews.rps };
  }
  status.idle = { seconds: idleSeconds, kubeRequests: idle.total, byType: idle.byType };
  if (parts) status.parts = parts;
  if (status.rollouts) {
    status.ratios = {
      p50: status.kubernetes.p50Ms / status.rollouts.p50Ms,
      p99: status.kubernetes.p99Ms / status.rollouts.p99Ms,
      rps: status.rollouts.rps / status.kubernetes.rps,
    };
  }
  results.status = status;
}

/**
 * Figure 3: a canary of a crash-looping image; from the first moment a canary pod is seen unready
 * (kube-sim's watch) to the moment the rollouts API shows the rollout Aborted by the health gate.
 */
async function reactionFigures({ call, userCall, sims, plan }) {
  const canaries = plan.main.filter(s => s.strategy === 'Canary').slice(0, TRIALS);
  if (canaries.length < TRIALS) {
    results.notes.push(`reaction: only ${canaries.length} canary services for ${TRIALS} trials`);
  }
  log(`figure 3: ${canaries.length} health-gate trials (5 at a time)...`);
  const watches = sims.urls.map(url => watchRollouts({ url, namespace: NAMESPACE }));
  const trials = [];
  const reactionDeadline = Date.now() + 90_000;
  try {
    for (let i = 0; i < canaries.length; i += 5) {
      if (Date.now() > reactionDeadline || remaining() < 120_000) {
        results.notes.push(`reaction: stopped after ${trials.length} trials to stay in the time budget`);
        break;
      }
      const batch = canaries.slice(i, i + 5);
      trials.push(
        ...(await Promise.all(
          batch.map(svc => reactionTrial({ call, userCall, svc, watch: watches[svc.cluster] })),
        )),
      );
    }
  } finally {
    for (const w of watches) w.close();
  }
  const done = trials.filter(t => t.reactionMs !== undefined);
  const s = summarize(done.map(t => t.reactionMs));
  const fromStart = summarize(done.map(t => t.startToAbortMs));
  const noticed = summarize(done.map(t => t.engineNoticedMs).filter(Number.isFinite));
  const engineAborted = summarize(done.map(t => t.engineAbortedMs).filter(Number.isFinite));
  results.reaction = {
    trials: trials.length,
    aborted: done.length,
    p50Ms: s.p50,
    p99Ms: s.p99,
    maxMs: s.max,
    startToAbortP50Ms: fromStart.p50,
    startToAbortP99Ms: fromStart.p99,
    engineNoticedP50Ms: noticed.p50,
    engineNoticedP99Ms: noticed.p99,
    engineAbortedP50Ms: engineAborted.p50,
    engineAbortedP99Ms: engineAborted.p99,
    unreadyThreshold: '0s (rollouts.backstage.io/canary-unready-threshold on the benchmark canaries)',
    details: trials,
  };
}

async function reactionTrial({ call, userCall, svc, watch }) {
  const cluster = CLUSTERS[svc.cluster];
  const started = Date.now();
  try {
    await call(rolloutsPath(svc.name), {
      method: 'POST',
      body: { cluster, image: imageOf(svc.name, '1.1.0-crashloop'), reason: 'bench: health gate' },
    });
  } catch (e) {
    return { service: svc.name, error: String(e.message) };
  }
  let degradedAt;
  let abortedAt;
  let lastPhase;
  const deadline = started + 60_000;
  while (Date.now() < deadline) {
    const res = await userCall(rolloutsPath(svc.name)).catch(() => undefined);
    const view = res?.items?.find(v => v.cluster === cluster);
    lastPhase = view?.phase;
    if (view && (view.phase === 'Degraded' || view.phase === 'Aborted')) degradedAt ??= Date.now();
    if (view?.phase === 'Aborted') {
      abortedAt = Date.now();
      break;
    }
    await sleep(50);
  }
  const unreadyAt = watch.firstUnready(svc.name);
  const since = t => (t && unreadyAt ? t - unreadyAt : undefined);
  return {
    service: svc.name,
    cluster,
    lastPhase,
    startToAbortMs: abortedAt ? abortedAt - started : undefined,
    reactionMs: since(abortedAt),
    degradedShownMs: since(degradedAt),
    unreadySeenAfterStartMs: unreadyAt ? unreadyAt - started : undefined,
    // The engine's own timeline, from the Deployment's state annotation (kube-sim watch).
    engineNoticedMs: since(watch.noticed(svc.name)),
    engineAbortedMs: since(watch.aborted(svc.name)),
  };
}

/**
 * Figure 4: cost of rollouts in flight. Level 0 is the same backend before any scale rollout;
 * at each level the rollouts are started through the API, left at their first indefinite pause,
 * and the backend is sampled over an idle window (CPU per reconcile tick, RSS), then loaded with
 * status requests (p99).
 */
async function scaleFigures({ call, userCall, sims, plan, backend }) {
  // Long enough for 8 reconcile ticks: /proc counts CPU in 10 ms steps, and a few ticks were noisy.
  const WINDOW_MS = Math.max(24_000, RECONCILE_SECONDS * 8000);
  log(`figure 4: seeding ${plan.scale.length} more workloads...`);
  for (let c = 0; c < CLUSTERS.length; c++) {
    await sims.call('apply', { cluster: c, objects: plan.scalePerCluster[c] });
  }
  await poll(
    async () => {
      for (let c = 0; c < CLUSTERS.length; c++) {
        const r = await sims.call('readiness', { cluster: c, namespace: SCALE_NAMESPACE });
        if (r.pods === 0 || r.ready < r.pods) return false;
      }
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
  const lastScale = plan.scale.at(-1);
  if (lastScale) {
    await poll(async () => (await userCall(rolloutsPath(lastScale.name))).items?.length === CLUSTERS.length, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
  }
  await sims.quiesce();
  const levels = [0, ...SCALE];
  const workloads = plan.scale; // entity x cluster, in the order they are started
  const scaleEntities = [...new Set(workloads.map(w => w.name))];
  const rows = [];
  let started = 0;
  let startedOk = 0; // successful starts over all levels so far
  let startProfile;
  let idleProfile;
  let startErrors = 0;
  let firstStartError;
  // Every start must answer 2xx, or 503 "retry": anything else (a 500, no answer) is counted apart.
  const startAnswers = {};
  for (const level of levels) {
    if (remaining() < 40_000) {
      results.notes.push(`scale: stopped before ${level} rollouts to stay in the time budget`);
      break;
    }
    log(`figure 4: ${level} rollouts in flight...`);
    const toStart = workloads.slice(started, level);
    const startLoad = () => runLoad({
      count: toStart.length,
      // 32 in flight got no more starts per second than 8, only more client timeouts (30 s).
      concurrency: CONCURRENCY,
      // Bounded per level, so a slow engine still leaves time for the levels after it.
      timeLimitMs: Math.max(20_000, Math.min(120_000, remaining() - 90_000)),
      request: async i => {
        const w = toStart[i];
        try {
          await call(rolloutsPath(w.name), {
            method: 'POST',
            body: { cluster: CLUSTERS[w.cluster], image: imageOf(w.name, '1.1.0'), reason: 'bench: scale' },
          });
          startAnswers['2xx'] = (startAnswers['2xx'] ?? 0) + 1;
        } catch (e) {
          const answer = e.status ? String(e.status) : 'no answer';
          startAnswers[answer] = (startAnswers[answer] ?? 0) + 1;
          startErrors++;
          firstStartError ??= String(e.message);
          throw e;
        }
      },
    });
    // The first level's starts are profiled: where the backend's CPU goes while it starts rollouts.
    let startRun;
    const simCpu0 = sims.pids.map(cpuSeconds);
    const backendCpu0 = cpuSeconds(backend.pid);
    const startWall0 = Date.now();
    if (level > 0 && !results.scale?.startProfile && !startProfile) {
      startProfile = await cpuProfile(backend.inspectPort, async () => {
        startRun = await startLoad();
      }).catch(e => ({ error: String(e.message) }));
      if (startProfile.profile) {
        writeFileSync(join(outDir, 'rollouts-start.cpuprofile'), JSON.stringify(startProfile.profile));
        delete startProfile.profile;
      }
    }
    startRun ??= await startLoad();
    const startWall = (Date.now() - startWall0) / 1000;
    // Who was busy while the starts ran: the backend, or the simulated clusters.
    const startBusy = {
      backendCpuPercent: ((cpuSeconds(backend.pid) - backendCpu0) / startWall) * 100,
      kubeSimCpuPercent: sims.pids.map((pid, i) => ((cpuSeconds(pid) - simCpu0[i]) / startWall) * 100),
    };
    started = level;
    startedOk += startRun.ok;
    // Settle: every rollout started so far, at all levels, reached its first pause (bounded).
    const startedEntities = [...new Set(workloads.slice(0, level).map(w => w.name))];
    const startedKeys = new Set(workloads.slice(0, level).map(w => `${w.name}/${CLUSTERS[w.cluster]}`));
    let phases = {};
    const settleStarted = Date.now();
    await poll(
      async () => {
        phases = await scalePhases(userCall, startedEntities, startedKeys);
        return (phases.Paused ?? 0) >= startedOk;
      },
      { timeoutMs: Math.min(60_000, Math.max(5_000, remaining() - 40_000)), intervalMs: 2000 },
    );
    const settleSeconds = (Date.now() - settleStarted) / 1000;
    await sleep(2000);

    // Idle window: the reconcile ticks are all the backend does.
    await sims.resetCounts();
    const cpu0 = cpuSeconds(backend.pid);
    const t0 = Date.now();
    let rssMax = 0;
    const tickEnds = new Set();
    while (Date.now() - t0 < WINDOW_MS) {
      rssMax = Math.max(rssMax, rssBytes(backend.pid));
      const tick = await lastReconcileEnd(call);
      if (tick) tickEnds.add(tick);
      await sleep(500);
    }
    const windowSeconds = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(backend.pid) - cpu0;
    const kube = await sims.counts();
    // Reconcile runs that ended inside the window, from the scheduler's own task API; the first
    // value seen may have ended before the window opened.
    const counted = Math.max(0, tickEnds.size - 1);
    const ticks = counted > 0 ? counted : windowSeconds / RECONCILE_SECONDS;

    // A second, profiled idle window (the profiler's own cost kept out of the figures above). The
    // whole process's CPU in a window moves with the catalog's processing loop and the garbage
    // collector more than with the rollouts; the profile tells the plugin's own code apart.
    const levelProfile = await cpuProfile(backend.inspectPort, () => sleep(WINDOW_MS / 2)).catch(e => ({ error: String(e.message) }));
    const ownMsPerInterval = levelProfile.ownedMs
      ? (levelProfile.ownedMs('plugins/rollouts-backend/') * RECONCILE_SECONDS * 1000) / levelProfile.wallMs
      : NaN;
    if (level === SCALE.at(-1) && levelProfile.profile) {
      writeFileSync(join(outDir, 'rollouts-idle.cpuprofile'), JSON.stringify(levelProfile.profile));
    }
    delete levelProfile.profile;
    delete levelProfile.ownedMs;
    if (level === SCALE.at(-1)) idleProfile = levelProfile;
    const heap = await heapAfterGc(backend.inspectPort).catch(e => ({ error: String(e.message) }));
    const rssAfterGc = rssBytes(backend.pid);
    const statusRun = await runLoad({
      count: 200,
      concurrency: CONCURRENCY,
      timeLimitMs: 30_000,
      request: async i => {
        const name = (level > 0 ? startedEntities : scaleEntities)[i % (level > 0 ? startedEntities.length : scaleEntities.length)];
        await userCall(rolloutsPath(name));
      },
    });
    const inFlight = (phases.Paused ?? 0) + (phases.Progressing ?? 0);
    rows.push({
      target: level,
      inFlight,
      started: startRun.ok,
      startSeconds: startRun.wallMs / 1000,
      startBusy,
      startP50Ms: startRun.p50,
      startP99Ms: startRun.p99,
      phases,
      settleSeconds,
      rssMiB: rssAfterGc / 2 ** 20,
      rssMaxMiB: rssMax / 2 ** 20,
      heapMiB: heap.usedBytes / 2 ** 20,
      heapError: heap.error,
      ticks,
      ticksCounted: counted > 0,
      cpuSecondsPerTick: cpu / ticks,
      ownCpuMsPerInterval: ownMsPerInterval,
      cpuPercent: (cpu / windowSeconds) * 100,
      kubeRequestsPerTick: kube.total / ticks,
      kubeRequestsByType: kube.byType,
      statusP50Ms: statusRun.p50,
      statusP99Ms: statusRun.p99,
      statusErrors: statusRun.errors,
    });
  }
  const base = rows[0];
  for (const r of rows) {
    r.cpuMsPerTickAboveIdle = base ? (r.cpuSecondsPerTick - base.cpuSecondsPerTick) * 1000 : NaN;
    r.rssMiBAboveIdle = base ? r.rssMiB - base.rssMiB : NaN;
    r.heapMiBAboveIdle = base ? r.heapMiB - base.heapMiB : NaN;
  }
  results.scale = { windowSeconds: WINDOW_MS / 1000, startErrors, firstStartError, startAnswers, startProfile, idleProfile, rows };
}

/** When the reconcile task last finished (scheduler API of the rollouts plugin), or undefined. */
async function lastReconcileEnd(call) {
  try {
    const res = await call('/api/rollouts/.backstage/scheduler/v1/tasks', { timeoutMs: 5000 });
    return res.tasks?.find(t => t.taskId === 'rollouts-reconcile')?.taskState?.lastRunEndedAt;
  } catch {
    return undefined;
  }
}

/** Phases of the started rollouts (entity/cluster pairs in `keys`), as the API shows them. */
async function scalePhases(call, names, keys) {
  const phases = {};
  await runLoad({
    count: names.length,
    concurrency: CONCURRENCY,
    timeLimitMs: 30_000,
    request: async i => {
      const res = await call(rolloutsPath(names[i]));
      for (const v of res.items ?? []) {
        if (keys.has(`${names[i]}/${v.cluster}`)) phases[v.phase] = (phases[v.phase] ?? 0) + 1;
      }
    },
  });
  return phases;
}

/**
 * Figure 6: one canary of a release answering 6% errors, judged by a real Prometheus over
 * kube-sim's pods (test/bench/lib/analysis-child.cjs, its own process and clusters).
 */
async function analysisFigure() {
  log('figure 6: analysis, first bad scrape -> Aborted (one canary, a real Prometheus)...');
  const child = join(repoRoot, 'test/bench/lib/analysis-child.cjs');
  const outcome = await new Promise(resolve => {
    execFile(process.execPath, [child], { timeout: 180_000 }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr }),
    );
  });
  writeFileSync(join(logDir, 'analysis.log'), `${outcome.stderr ?? ''}`);
  if (outcome.error) {
    results.analysis = { error: `${outcome.error.message} ${String(outcome.stderr).slice(-400)}` };
    return;
  }
  results.analysis = JSON.parse(String(outcome.stdout).trim().split('\n').pop());
}

/** Figure 5, last: waits for the background build within what is left of the time budget. */
async function bundleFigure() {
  if (!appBuild) return;
  log('figure 5: waiting for the app build...');
  const waitMs = Math.max(30_000, remaining() + 30_000);
  let timer;
  const outcome = await Promise.race([
    appBuild.done.then(b => ({ b }), e => ({ e })),
    new Promise(r => {
      timer = setTimeout(() => r({ timeout: true }), waitMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.b) {
    results.bundle = { ...outcome.b, ...measureBundle({ repoRoot }) };
    return;
  }
  await appBuild.stop();
  const why = outcome.timeout ? `the app build did not finish within the time budget` : String(outcome.e.message);
  try {
    // An older build's stats still say where the rollouts code goes; say that they are older.
    results.bundle = { built: false, stale: true, ...measureBundle({ repoRoot }) };
    results.notes.push(`bundle: ${why}; figure 5 is from the previous build (${results.bundle.builtAt})`);
  } catch {
    results.bundle = { error: why };
  }
}

/**
 * Figure 8, last: the machine is quiet again (the other figures' clusters and backend are gone, the
 * app build is done) and the build it serves is the one figure 5 measured. With `--only screen`
 * the build is made first when its dist is stale.
 */
async function screenStep() {
  if (opts['skip-screen']) return;
  if (opts.only === 'screen') {
    log('figure 8: the production build of packages/app, unless its dist is fresh...');
    const build = startAppBuild({ repoRoot, logDir, force: opts['rebuild-app'] });
    cleanups.push(() => build.stop());
    await build.done;
  }
  if (!distIsFresh(repoRoot)) {
    results.notes.push('screen: packages/app/dist is older than its sources; figure 8 ran on that older build');
  }
  results.screen = await screenFigure({
    repoRoot,
    outDir,
    trials: TRIALS,
    cleanups,
    timeLimitMs: SCREEN_BUDGET_MS,
    backendEntry: opts['backend-entry'],
    log,
  });
}

let appBuild;
let failure;
if (!opts.only) {
  try {
    await main();
  } catch (e) {
    failure = e;
    results.error = String(e.stack ?? e);
  }
  // The clusters and the backend are stopped before the build gets the machine to itself.
  await cleanup();
  try {
    await analysisFigure();
  } catch (e) {
    results.analysis = { error: String(e.message) };
  }
  try {
    await bundleFigure();
  } catch (e) {
    results.notes.push(`bundle: ${e.message}`);
  }
}
try {
  await screenStep();
} catch (e) {
  results.screen = { error: String(e.message) };
}
await cleanup();
results.seconds = (Date.now() - startedAt) / 1000;
results.machine.loadAverageAtEnd = loadavg().map(v => Number(v.toFixed(2)));
const stamp = results.startedAt.replace(/[:.]/g, '-');
writeFileSync(join(outDir, `results-${stamp}.json`), JSON.stringify(results, null, 2));
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(results, null, 2));
printReport(results);
console.log(`\nJSON: .bench-output/latest.json (and results-${stamp}.json); logs in .bench-output/logs/`);
if (failure) {
  console.error(`\nbench failed: ${failure.stack ?? failure}`);
  process.exit(1);
}
