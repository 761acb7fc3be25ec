// Figure 5: the rollouts plugin's share of the production frontend bundle. Builds packages/app
// with `backstage-cli package build --stats` unless dist/bundle-stats.json is newer than every input
// that shapes the rollouts part of the bundle, then attributes modules to chunks from the stats.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

export function statsAreFresh(repoRoot) {
  const stats = join(repoRoot, 'packages/app/dist/bundle-stats.json');
  const inputsNewest = Math.max(...bundleInputs(repoRoot).map(newestMtime));
  return existsSync(stats) && statSync(stats).mtimeMs > inputsNewest;
}

/**
 * Starts the app build unless its stats are fresh. The build runs at the lowest CPU priority
 * (nice 19): it uses what the timed figures leave idle and barely competes with them, and gets
 * the whole machine once they are done. Returns { done: Promise<{ built, seconds }>, stop() }.
 */
export function startAppBuild({ repoRoot, logDir, force = false }) {
  if (!force && statsAreFresh(repoRoot)) {
    return { done: Promise.resolve({ built: false, seconds: 0 }), stop: async () => {} };
  }
  const started = Date.now();
  const log = createWriteStream(join(logDir, 'app-build.log'));
  const child = spawn('nice', ['-n', '19', 'yarn', 'backstage-cli', 'package', 'build', '--stats'], {
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
 * The minified bytes of these files that their source maps attribute to rollouts sources: what
 * actually ships, where the stats only know module sizes before minification (with comments).
 */
function mappedRolloutsBytes(dist, files) {
  let text = '';
  const bySource = {};
  for (const file of files) {
    const mapFile = join(dist, `${file}.map`);
    if (!existsSync(mapFile)) continue;
    const lines = readFileSync(join(dist, file), 'utf8').split('\n');
    const mappings = [];
    new sourceMap.SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8'))).eachMapping(
      m => mappings.push(m),
      null,
      sourceMap.SourceMapConsumer.GENERATED_ORDER,
    );
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
  }
  return { bytes: text.length, gzipBytes: text ? gzipSize(text) : 0, bySource };
}

export function measureBundle({ repoRoot }) {
  const dist = join(repoRoot, 'packages/app/dist');
  const stats = JSON.parse(readFileSync(join(dist, 'bundle-stats.json'), 'utf8'));
  const fileGzip = new Map();
  const gz = file => {
    if (!fileGzip.has(file)) fileGzip.set(file, gzipSize(readFileSync(join(dist, file))));
    return fileGzip.get(file);
  };
  const jsFiles = chunk => (chunk.files ?? []).filter(f => f.endsWith('.js'));
  const chunkGzip = chunk => jsFiles(chunk).reduce((s, f) => s + gz(f), 0);

  const rolloutsBytes = new Map(); // chunk id -> raw bytes of rollouts modules placed in it
  const rolloutsModules = new Map();
  for (const m of stats.modules ?? []) {
    const name = m.nameForCondition ?? m.name ?? '';
    if (!ROLLOUTS_MODULE.test(name.replace(/\\/g, '/')) || !(m.chunks?.length > 0)) continue;
    for (const id of m.chunks) {
      rolloutsBytes.set(String(id), (rolloutsBytes.get(String(id)) ?? 0) + m.size);
      if (!rolloutsModules.has(String(id))) rolloutsModules.set(String(id), []);
      rolloutsModules.get(String(id)).push(`${m.name} (${m.size} B)`);
    }
  }
  const chunks = stats.chunks ?? [];
  const byId = new Map(chunks.map(c => [String(c.id), c]));
  const initial = chunks.filter(c => c.initial);
  const initialGzip = initial.reduce((s, c) => s + chunkGzip(c), 0);

  const initialWithRollouts = initial
    .filter(c => rolloutsBytes.has(String(c.id)))
    .map(c => {
      const raw = rolloutsBytes.get(String(c.id));
      const gzipBytes = chunkGzip(c);
      return {
        chunk: String(c.id),
        files: jsFiles(c),
        chunkGzipBytes: gzipBytes,
        rolloutsSourceBytes: raw,
        // Minified+gzip bytes of one module cannot be read from the stats; scale by the chunk's ratio.
        rolloutsGzipBytesEstimate: Math.round((raw / (c.size || 1)) * gzipBytes),
        modules: rolloutsModules.get(String(c.id)),
      };
    });

  const lazy = chunks
    .filter(c => !c.initial && rolloutsBytes.has(String(c.id)))
    .map(c => {
      const siblings = (c.siblings ?? [])
        .map(id => byId.get(String(id)))
        .filter(s => s && !s.initial);
      return {
        chunk: String(c.id),
        names: c.names,
        files: jsFiles(c),
        gzipBytes: chunkGzip(c),
        withSiblingsGzipBytes: chunkGzip(c) + siblings.reduce((s, x) => s + chunkGzip(x), 0),
        siblings: siblings.map(s => ({ chunk: String(s.id), files: jsFiles(s), gzipBytes: chunkGzip(s) })),
        rolloutsSourceBytes: rolloutsBytes.get(String(c.id)),
        modules: rolloutsModules.get(String(c.id)),
      };
    });

  const shipped = mappedRolloutsBytes(dist, initial.flatMap(jsFiles));
  return {
    builtAt: stats.builtAt ? new Date(stats.builtAt).toISOString() : undefined,
    initialRolloutsMinifiedBytes: shipped.bytes,
    initialRolloutsMinifiedGzipBytes: shipped.gzipBytes,
    initialRolloutsMinifiedBySource: shipped.bySource,
    initialChunks: initial.length,
    initialGzipBytes: initialGzip,
    initialRolloutsSourceBytes: initialWithRollouts.reduce((s, c) => s + c.rolloutsSourceBytes, 0),
    initialRolloutsGzipBytesEstimate: initialWithRollouts.reduce((s, c) => s + c.rolloutsGzipBytesEstimate, 0),
    initialWithRollouts,
    lazy,
    maxLazyGzipBytes: Math.max(0, ...lazy.map(c => c.gzipBytes)),
    maxLazyWithSiblingsGzipBytes: Math.max(0, ...lazy.map(c => c.withSiblingsGzipBytes)),
  };
}
