// The benchmark's clusters: one kube-sim per child process (each cluster has its own API server
// process, as real clusters do, and the load generator does not share their event loops), with
// their request counters read over IPC (kube-sim's `control.requestCounts()`).
import { fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

async function startChild({ index, timeScale, logDir }) {
  const child = fork(new URL('./sims-child.cjs', import.meta.url).pathname, [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const log = createWriteStream(join(logDir, `kube-sim-${index}.log`));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const pending = new Map();
  let nextId = 1;
  let exited;
  await new Promise((resolve, reject) => {
    child.on('message', msg => {
      if (msg.ready) return resolve();
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`kube-sim ${index}: ${msg.error}`));
      else p.resolve(msg.result);
    });
    child.on('exit', code => {
      exited = code ?? 'signal';
      reject(new Error(`kube-sim ${index} exited (${exited})`));
      for (const p of pending.values()) p.reject(new Error(`kube-sim ${index} exited (${exited})`));
      pending.clear();
    });
  });
  const call = (method, args) =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(new Error(`kube-sim ${index} is gone`));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  const [url] = await call('start', { count: 1, timeScale });
  return {
    url,
    pid: child.pid,
    call,
    async stop() {
      if (exited !== undefined) return;
      await call('close').catch(() => {});
      child.kill('SIGTERM');
    },
  };
}

export async function startSims({ count, timeScale = 1, logDir }) {
  const children = [];
  try {
    for (let i = 0; i < count; i++) children.push(await startChild({ index: i, timeScale, logDir }));
  } catch (e) {
    await Promise.all(children.map(c => c.stop()));
    throw e;
  }
  const all = method => Promise.all(children.map(c => c.call(method, {})));
  const counts = async () => {
    const perCluster = (await all('counts')).map(c => c[0]);
    const byType = {};
    for (const c of perCluster) {
      for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
    }
    return { total: perCluster.reduce((s, c) => s + c.total, 0), byType };
  };
  return {
    urls: children.map(c => c.url),
    pids: children.map(c => c.pid),
    /** Calls a method of sims-child.cjs for one cluster: args.cluster is the cluster index. */
    call: (method, args) => children[args.cluster].call(method, { ...args, cluster: 0 }),
    counts,
    async total() {
      return (await counts()).total;
    },
    resetCounts: () => all('resetCounts'),
    /** Per cluster: { open: streams by resource, traffic: { events, bytes } by resource }. */
    watchStats: async () => (await all('watchStats')).map(c => c[0]),
    /** Waits until no request reached any cluster for `quietMs` (bounded), e.g. after a load run. */
    async quiesce({ quietMs = 1000, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let last = (await counts()).total;
      while (Date.now() < deadline) {
        await new Promise(r => setTimeout(r, quietMs));
        const now = (await counts()).total;
        if (now === last) return true;
        last = now;
      }
      return false;
    },
    stop: () => Promise.all(children.map(c => c.stop())),
  };
}
