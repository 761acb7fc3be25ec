// Reads the backend's V8 heap after a full garbage collection, through the Node inspector on a
// loopback port (the backend is started with --inspect=127.0.0.1:<port>). RSS alone moves with
// when V8 last collected; the heap after a forced GC is what the process really retains.
async function connect(inspectPort) {
  const list = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('inspector websocket failed'));
  });
  let nextId = 1;
  const pending = new Map();
  ws.onmessage = event => {
    const msg = JSON.parse(event.data);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

export async function heapAfterGc(inspectPort) {
  const { send, close } = await connect(inspectPort);
  try {
    await send('HeapProfiler.enable');
    await send('HeapProfiler.collectGarbage');
    const usage = await send('Runtime.getHeapUsage');
    await send('HeapProfiler.disable');
    return { usedBytes: usage.usedSize, totalBytes: usage.totalSize };
  } finally {
    close();
  }
}

/** Where a profiled function's code lives: a package, or a folder of this repository. */
function ownerOf(url) {
  if (!url) return '(native/V8)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const repo = /(plugins|packages)\/[^/]+\/src\/.*/.exec(path);
  if (repo) return repo[0];
  return path.startsWith('node:') ? 'node core' : path;
}

/** Self time (µs) per owner: a package, a source file of this repository, or a V8 pseudo-frame. */
function selfTimeByOwner(profile) {
  const nodes = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map();
  let total = 0;
  // A sample lasts until the next one (as DevTools counts). Node takes no samples while its
  // thread waits for I/O, so a long gap is idle time, not the sample's: cap it at 5 intervals.
  profile.samples.forEach((id, i) => {
    const dt = Math.min(profile.timeDeltas[i + 1] ?? 0, 1000);
    const node = nodes.get(id);
    const fnName = node?.callFrame.functionName;
    const owner =
      fnName === '(idle)' || fnName === '(program)' || fnName === '(garbage collector)'
        ? fnName
        : ownerOf(node?.callFrame.url);
    self.set(owner, (self.get(owner) ?? 0) + dt);
    total += dt;
  });
  return { self, total };
}

/**
 * Samples the backend's CPU while `fn` runs and returns self time per package (or per source file
 * of this repository), biggest first, with the raw profile.
 */
export async function cpuProfile(inspectPort, fn) {
  const { send, close } = await connect(inspectPort);
  try {
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 200 });
    await send('Profiler.start');
    const started = Date.now();
    await fn();
    const wallMs = Date.now() - started;
    const { profile } = await send('Profiler.stop');
    await send('Profiler.disable');
    const { self, total } = selfTimeByOwner(profile);
    // Sampled time, less what V8 itself marked idle (Node marks none unless asked, hence the cap).
    const busy = total - (self.get('(idle)') ?? 0);
    const owners = [...self.entries()]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([owner, us]) => ({ owner, ms: us / 1000, shareOfBusy: us / busy }));
    /** CPU milliseconds spent in code whose owner starts with `prefix`. */
    const ownedMs = prefix => owners.filter(o => o.owner.startsWith(prefix)).reduce((sum, o) => sum + o.ms, 0);
    return { busyMs: busy / 1000, wallMs, top: owners.slice(0, 15), ownedMs, profile };
  } finally {
    close();
  }
}
