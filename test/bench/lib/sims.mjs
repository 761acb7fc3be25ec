// The benchmark's clusters: kube-sim instances in a child process, with their request counters
// read over IPC (kube-sim's `control.requestCounts()`).
import { fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export async function startSims({ count, timeScale = 1, logDir }) {
  const child = fork(new URL('./sims-child.cjs', import.meta.url).pathname, [], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const log = createWriteStream(join(logDir, 'kube-sim.log'));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const pending = new Map();
  let nextId = 1;
  let exited;
  const ready = new Promise((resolve, reject) => {
    child.on('message', msg => {
      if (msg.ready) return resolve();
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`kube-sim: ${msg.error}`));
      else p.resolve(msg.result);
    });
    child.on('exit', code => {
      exited = code;
      reject(new Error(`kube-sim process exited (${code})`));
      for (const p of pending.values()) p.reject(new Error(`kube-sim process exited (${code})`));
      pending.clear();
    });
  });
  await ready;
  const call = (method, args) =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(new Error('kube-sim process is gone'));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  const urls = await call('start', { count, timeScale });
  return {
    urls,
    pid: child.pid,
    call,
    /** Kubernetes API requests received by all clusters since the last reset. */
    async total() {
      const counts = await call('counts');
      return counts.reduce((sum, c) => sum + c.total, 0);
    },
    async counts() {
      const counts = await call('counts');
      const byType = {};
      for (const c of counts) {
        for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
      }
      return { total: counts.reduce((s, c) => s + c.total, 0), byType };
    },
    resetCounts: () => call('resetCounts'),
    async stop() {
      if (exited !== undefined) return;
      await call('close').catch(() => {});
      child.kill('SIGTERM');
    },
  };
}
