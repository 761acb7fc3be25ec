// Plain Kubernetes watches over HTTP on a kube-sim cluster, for figure 3's timeline:
// - canary pods: when a canary pod of a rollout was first seen unready (the start of the reaction);
// - Deployments: when the engine first wrote `unhealthySince` into a rollout's state annotation
//   (it noticed) and when it wrote phase Aborted (it acted).
const ROLE = 'rollouts.backstage.io/role';
const OWNER = 'rollouts.backstage.io/owner';
const STATE = 'rollouts.backstage.io/state';

const podReady = pod =>
  (pod.status?.conditions ?? []).some(c => c.type === 'Ready' && c.status === 'True');

function watch(url, onEvent) {
  const controller = new AbortController();
  let closed = false;
  (async () => {
    while (!closed) {
      try {
        const res = await fetch(url, {
          signal: controller.signal,
          headers: { authorization: 'Bearer kube-sim' },
        });
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body) {
          const seenAt = Date.now();
          buffer += decoder.decode(chunk, { stream: true });
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) onEvent(JSON.parse(line), seenAt);
          }
        }
      } catch {
        if (closed) return;
      }
      if (!closed) await new Promise(r => setTimeout(r, 200));
    }
  })();
  return () => {
    closed = true;
    controller.abort();
  };
}

export function watchRollouts({ url, namespace }) {
  const firstUnready = new Map();
  const noticed = new Map();
  const aborted = new Map();
  const stopPods = watch(
    `${url}/api/v1/namespaces/${namespace}/pods?watch=true&labelSelector=${encodeURIComponent(`${ROLE}=canary`)}`,
    (event, seenAt) => {
      const pod = event.object;
      const owner = pod?.metadata?.labels?.[OWNER];
      if (owner && event.type !== 'DELETED' && !podReady(pod) && !firstUnready.has(owner)) {
        firstUnready.set(owner, seenAt);
      }
    },
  );
  const stopDeployments = watch(
    `${url}/apis/apps/v1/namespaces/${namespace}/deployments?watch=true`,
    (event, seenAt) => {
      const d = event.object;
      const name = d?.metadata?.name;
      const raw = d?.metadata?.annotations?.[STATE];
      if (!name || !raw) return;
      let state;
      try {
        state = JSON.parse(raw);
      } catch {
        return;
      }
      if (state.unhealthySince && !noticed.has(name)) noticed.set(name, seenAt);
      if (state.phase === 'Aborted' && !aborted.has(name)) aborted.set(name, seenAt);
    },
  );
  return {
    firstUnready: name => firstUnready.get(name),
    noticed: name => noticed.get(name),
    aborted: name => aborted.get(name),
    close() {
      stopPods();
      stopDeployments();
    },
  };
}
