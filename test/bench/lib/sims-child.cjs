// Runs the benchmark's kube-sim clusters in their own process (own event loop and CPU account, so
// the load generator does not slow them down), driven over IPC by test/bench/lib/sims.mjs.
// kube-sim is TypeScript: Backstage's node transform (the one `backstage-cli package start` uses)
// lets plain node require it.
require(require.resolve('@backstage/cli-node/config/nodeTransform.cjs', {
  paths: [require('node:path').resolve(__dirname, '../../../packages/backend')],
}));
const { startKubeSim } = require('../../../packages/kube-sim/src');

const sims = [];

const methods = {
  async start({ count, timeScale }) {
    for (let i = 0; i < count; i++) {
      sims.push(await startKubeSim({ port: 0, timeScale }));
    }
    return sims.map(s => s.url);
  },
  async apply({ cluster, objects }) {
    await sims[cluster].control.apply(objects);
    return true;
  },
  counts() {
    return sims.map(s => s.control.requestCounts());
  },
  /** Watch streams open now, and the events and bytes they carried since resetCounts. */
  watchStats() {
    return sims.map(s => s.control.watchStats());
  },
  resetCounts() {
    for (const s of sims) s.control.resetCounts();
    return true;
  },
  list({ cluster, apiVersion, kind, namespace, labelSelector }) {
    return sims[cluster].control.list(apiVersion, kind, namespace, labelSelector);
  },
  /** Counts of objects by kind, to check that seeding and controllers caught up. */
  census({ cluster, kinds }) {
    const out = {};
    for (const [apiVersion, kind] of kinds) {
      out[kind] = sims[cluster].control.list(apiVersion, kind).length;
    }
    return out;
  },
  /** Ready pods vs all pods in a namespace. */
  readiness({ cluster, namespace }) {
    const pods = sims[cluster].control.list('v1', 'Pod', namespace);
    const ready = pods.filter(p =>
      (p.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True'),
    ).length;
    return { pods: pods.length, ready };
  },
  /**
   * Figure 8: makes a pod's readiness probe fail (ready: false) or pass (ready: true) through
   * kube-sim's kubelet, and answers when the API server holds the pod with that Ready condition:
   * `writtenAt` (Date.now() of this process, the machine's wall clock) is the moment the change is
   * in the cluster, as a watch or a list sees it from then on.
   */
  async setReadiness({ cluster, namespace, name, ready }) {
    const want = ready ? 'True' : 'False';
    const isWritten = () =>
      (sims[cluster].control.get('v1', 'Pod', namespace, name)?.status?.conditions ?? []).some(
        c => c.type === 'Ready' && c.status === want,
      );
    const requestedAt = Date.now();
    sims[cluster].control.setReadinessFailing(namespace, name, !ready);
    // The kubelet writes the status on its next pass (about 10 ms); looked for every ms, at most 5 s.
    const deadline = requestedAt + 5000;
    while (!isWritten()) {
      if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} not Ready=${want} after 5 s`);
      await new Promise(r => setTimeout(r, 1));
    }
    return { requestedAt, writtenAt: Date.now() };
  },
  async close() {
    await Promise.all(sims.map(s => s.close()));
    return true;
  },
};

process.on('message', async ({ id, method, args }) => {
  try {
    const result = await methods[method](args ?? {});
    process.send({ id, result });
  } catch (e) {
    process.send({ id, error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
