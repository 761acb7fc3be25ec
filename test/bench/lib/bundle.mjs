// Figure 5: the rollouts plugin's share of the production frontend bundle. Builds packages/app
// with `backstage-cli package build` unless dist/index.html is newer than every input that shapes
// the rollouts part of the bundle, then reads the dist itself: the initial chunks are the scripts
// of index.html, and the source maps say which minified bytes of which chunk come from rollouts
// sources. (The CLI's `--stats` writer, bfj, stalled for good on this machine in 2 of 4 builds, so
// the figure does not depend on bundle-stats.json.)
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sourceMap from 'source-map-js';

const ROLLOUTS_MODULE = /(^|\/)plugins\/rollouts(-common)?\/src\//;

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

export function bundleInputs(repoRoot) {
  return [
    'packages/app/src',
    'packages/app/package.json',
    'plugins/rollouts/src',
    'plugins/rollouts/package.json',
    'plugins/rollouts-common/src',
    'plugins/rollouts-common/package.json',
    'yarn.lock',
    'app-config.yaml',
  ].map(p => join(repoRoot, p));
}

export function distIsFresh(repoRoot) {
  const html = join(repoRoot, 'packages/app/dist/index.html');
  const inputsNewest = Math.max(...bundleInputs(repoRoot).map(newestMtime));
  return existsSync(html) && statSync(html).mtimeMs > inputsNewest;
}

/**
 * Starts the app build unless its dist is fresh. The build runs at the lowest CPU priority
 * (nice 19): it uses what the timed figures leave idle and barely competes with them, and gets
 * the whole machine once they are done. Returns { done: Promise<{ built, seconds }>, stop() }.
 */
export function startAppBuild({ repoRoot, logDir, force = false }) {
  if (!force && distIsFresh(repoRoot)) {
    return { done: Promise.resolve({ built: false, seconds: 0 }), stop: async () => {} };
  }
  const started = Date.now();
  const log = createWriteStream(join(logDir, 'app-build.log'));
  const child = spawn('nice', ['-n', '19', 'yarn', 'backstage-cli', 'package', 'build'], {
    cwd: join(repoRoot, 'packages/app'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
    detached: true,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (code === 0) resolve({ built: true, seconds: (Date.now() - started) / 1000 });
      else reject(new Error(`app build ${signal ? `stopped (${signal})` : `failed (exit ${code})`}; see .bench-output/logs/app-build.log`));
    });
  });
  done.catch(() => {});
  return {
    done,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await done.catch(() => {});
    },
  };
}

const gzipSize = buf => gzipSync(buf, { level: 9 }).length;

/**
 * The minified text of one chunk file that its source map attributes to rollouts sources, by
 * source: what actually ships (module sizes in stats are before minification, with comments).
 */
function rolloutsTextOf(dist, file) {
  const mapFile = join(dist, `${file}.map`);
  if (!existsSync(mapFile)) return { text: '', bySource: {} };
  const rawMap = readFileSync(mapFile, 'utf8');
  if (!ROLLOUTS_MODULE.test(rawMap)) return { text: '', bySource: {} };
  const lines = readFileSync(join(dist, file), 'utf8').split('\n');
  const mappings = [];
  new sourceMap.SourceMapConsumer(JSON.parse(rawMap)).eachMapping(
    m => mappings.push(m),
    null,
    sourceMap.SourceMapConsumer.GENERATED_ORDER,
  );
  let text = '';
  const bySource = {};
  mappings.forEach((m, i) => {
    if (!m.source || !ROLLOUTS_MODULE.test(m.source)) return;
    const line = lines[m.generatedLine - 1] ?? '';
    const next = mappings[i + 1];
    const end = next && next.generatedLine === m.generatedLine ? next.generatedColumn : line.length;
    const segment = line.slice(m.generatedColumn, end);
    text += segment;
    const source = m.source.replace(/.*(plugins\/)/, '$1');
    bySource[source] = (bySource[source] ?? 0) + segment.length;
  });
  return { text, bySource };
}

export function measureBundle({ repoRoot }) {
  const dist = join(repoRoot, 'packages/app/dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const initialFiles = [...html.matchAll(/<script[^>]*\ssrc="\/?([^"]+\.js)"/g)].map(m => m[1]);
  const files = readdirSync(join(dist, 'static'))
    .filter(f => f.endsWith('.js'))
    .map(f => `static/${f}`);
  const gz = new Map();
  const gzipOf = file => {
    if (!gz.has(file)) gz.set(file, gzipSize(readFileSync(join(dist, file))));
    return gz.get(file);
  };
  const fileOfChunk = id => files.find(f => basename(f).startsWith(`${id}.`));

  const initial = { text: '', bySource: {} };
  for (const file of initialFiles) {
    const r = rolloutsTextOf(dist, file);
    initial.text += r.text;
    for (const [k, v] of Object.entries(r.bySource)) initial.bySource[k] = (initial.bySource[k] ?? 0) + v;
  }

  const lazy = files
    .filter(f => !initialFiles.includes(f))
    .map(file => ({ file, ...rolloutsTextOf(dist, file) }))
    .filter(c => c.text.length > 0)
    .map(c => ({
      files: [c.file],
      gzipBytes: gzipOf(c.file),
      rolloutsMinifiedBytes: c.text.length,
      sources: Object.keys(c.bySource),
    }));

  // What each lazy loader of the plugin fetches: the chunk ids of its `Promise.all([x.e("id"), ...])`
  // in the plugin's own code in the entry (the card, the Deployment tab, the API client).
  const loads = [...initial.text.matchAll(/Promise\.all\(\[((?:[\w$]+\.e\("?\w+"?\),?)+)\]\)|[\w$]+\.e\("?(\w+)"?\)/g)].map(
    m => {
      const ids = m[1] ? [...m[1].matchAll(/\.e\("?(\w+)"?\)/g)].map(x => x[1]) : [m[2]];
      const chunkFiles = ids.map(fileOfChunk).filter(Boolean);
      return {
        chunks: ids,
        files: chunkFiles,
        gzipBytes: chunkFiles.reduce((sum, f) => sum + gzipOf(f), 0),
      };
    },
  );

  return {
    builtAt: new Date(statSync(join(dist, 'index.html')).mtimeMs).toISOString(),
    initialChunks: initialFiles.length,
    initialGzipBytes: initialFiles.reduce((sum, f) => sum + gzipOf(f), 0),
    initialRolloutsMinifiedBytes: initial.text.length,
    initialRolloutsMinifiedGzipBytes: initial.text ? gzipSize(initial.text) : 0,
    initialRolloutsMinifiedBySource: initial.bySource,
    lazy,
    loads,
    maxLazyGzipBytes: Math.max(0, ...lazy.map(c => c.gzipBytes)),
    maxLoadGzipBytes: Math.max(0, ...loads.map(l => l.gzipBytes)),
  };
}
