#!/usr/bin/env node
// Puts the demo services into interesting states through the real rollouts API, as a CI job would:
// payments-api's canary paused at 20% for approval, checkout-web's blue-green awaiting promotion,
// checkout-api's release 1.4.0 in staging, where it soaks while production waits.
// (inventory-svc is healthy and search-indexer degraded straight from kube-sim's demo seed.)
// Usage: ROLLOUTS_CI_TOKEN=... node scripts/demo.mjs [backendUrl]   (the token make start generates)


export const demoRollouts = [
  { entity: 'component/default/payments-api', image: 'ghcr.io/acme/payments-api:1.5.0', reason: 'Release 1.5.0: faster card tokenisation' },
  { entity: 'component/default/checkout-web', image: 'ghcr.io/acme/checkout-web:2.1.0', reason: 'Release 2.1.0: new address form' },
  { entity: 'component/default/checkout-api', cluster: 'staging', image: 'ghcr.io/acme/checkout-api:1.4.0', reason: 'Release 1.4.0: split payments' },
];

export async function waitForBackend(backendUrl, timeoutMs = 300000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${backendUrl}/.backstage/health/v1/readiness`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`backend at ${backendUrl} was not ready within ${timeoutMs / 1000} s`);
}

/** Starts each demo rollout; retries while the catalog has not yet ingested the demo entities. */
export async function seedDemoRollouts(backendUrl, token = process.env.ROLLOUTS_CI_TOKEN) {
  if (!token) throw new Error('seedDemoRollouts: set ROLLOUTS_CI_TOKEN (make start generates it in .local/ci-token)');
  for (const { entity, image, reason, cluster = 'local' } of demoRollouts) {
    const url = `${backendUrl}/api/rollouts/entities/${entity}/rollouts`;
    let last;
    for (let attempt = 0; attempt < 60; attempt++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cluster, image, reason }),
      });
      if (res.ok || res.status === 409) {
        last = undefined;
        break;
      }
      last = `${res.status} ${await res.text()}`;
      // `make start CLUSTER=real` configures its own cluster only: no staging or production there.
      if (res.status === 404 && last.includes(`Unknown cluster "${cluster}"`)) {
        console.log(`demo: no cluster ${cluster} configured; ${entity} is left as it is`);
        last = undefined;
        break;
      }
      await new Promise(r => setTimeout(r, 2000)); // entity not in the catalog yet, or the cache warming up
    }
    if (last) throw new Error(`demo: could not start ${entity}: ${last}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const backendUrl = process.argv[2] ?? 'http://localhost:7007';
  await waitForBackend(backendUrl);
  await seedDemoRollouts(backendUrl);
  console.log('demo: payments-api canary, checkout-web blue-green and checkout-api in staging started; open http://localhost:3000');
}
