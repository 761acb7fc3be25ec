// Watches canary pods in a kube-sim cluster (a plain Kubernetes watch over HTTP) and remembers, per
// rollout, when a canary pod was first seen unready: the start of figure 3's reaction time.
const ROLE = 'rollouts.backstage.io/role';
const OWNER = 'rollouts.backstage.io/owner';

const podReady = pod =>
  (pod.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True');

export function watchCanaryPods({ url, namespace }) {
  const firstUnready = new Map();
  const controller = new AbortController();
  let closed = false;

  const run = async () => {
    while (!closed) {
      try {
        const res = await fetch(
          `${url}/api/v1/namespaces/${namespace}/pods?watch=true&labelSelector=${encodeURIComponent(`${ROLE}=canary`)}`,
          { signal: controller.signal, headers: { authorization: 'Bearer kube-sim' } },
        );
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body) {
          const seenAt = Date.now();
          buffer += decoder.decode(chunk, { stream: true });
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const event = JSON.parse(line);
            const pod = event.object;
            const owner = pod?.metadata?.labels?.[OWNER];
            if (owner && event.type !== 'DELETED' && !podReady(pod) && !firstUnready.has(owner)) {
              firstUnready.set(owner, seenAt);
            }
          }
        }
      } catch (e) {
        if (closed) return;
      }
      if (!closed) await new Promise(r => setTimeout(r, 200));
    }
  };
  run();
  return {
    firstUnready: owner => firstUnready.get(owner),
    close() {
      closed = true;
      controller.abort();
    },
  };
}
