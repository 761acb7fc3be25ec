// 8. A release walks from staging to production. checkout-api's pipeline is staging, then production;
// staging's soak is 20 s in the e2e config. The demo started 1.4.0 in staging: once it has soaked, the
// owner promotes it to production from the Deployment tab. Then 1.5.0 goes to staging; production waits
// for the soak (the page says so, and the server refuses a direct start in production with 409), and is
// promoted once it has soaked. Production runs 1.5.0 in kube-sim's production cluster.
import { act, guestToken, waitEnabled, waitForText } from './helpers.mjs';

const ENTITY = 'checkout-api';
const V14 = 'ghcr.io/acme/checkout-api:1.4.0';
const V15 = 'ghcr.io/acme/checkout-api:1.5.0';

async function pipeline(stack) {
  const res = await fetch(`${stack.backendUrl}/api/rollouts/entities/component/default/${ENTITY}/pipeline`, {
    headers: { authorization: `Bearer ${stack.ciToken}` },
  });
  if (!res.ok) throw new Error(`pipeline: ${res.status} ${await res.text()}`);
  return res.json();
}

async function waitForPipeline(stack, predicate, what, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await pipeline(stack);
    if (predicate(last)) return last;
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`${ENTITY}: ${what} not reached within ${timeoutMs / 1000} s; last: ${JSON.stringify(last?.stages)}`);
}

const stage = (p, name) => p.stages.find(s => s.name === name);
const healthyOn = (s, image) => s?.release?.image === image && s.release.phase === 'Healthy';

async function productionImage(stack) {
  const res = await fetch(`${stack.stageUrls.production}/apis/apps/v1/namespaces/checkout-api/deployments/checkout-api`);
  return (await res.json()).spec.template.spec.containers[0].image;
}

/** Presses "Promote to production" in the pipeline, gives the reason and confirms. */
async function promoteToProduction(page, reason) {
  const region = page.getByRole('region', { name: 'Release pipeline' });
  const button = region.getByRole('button', { name: 'Promote to production' });
  await waitEnabled(button, 'Promote to production', 90000);
  await button.click();
  const dialog = page.getByRole('dialog', { name: 'Promote to production' });
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'Promote to production' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 30000 });
}

export const releasePipeline = {
  name: 'release-pipeline',
  async run({ page, stack, screenshot }) {
    await page.goto(`${stack.appUrl}/catalog/default/component/${ENTITY}/deployment`);
    const region = page.getByRole('region', { name: 'Release pipeline' });
    await region.waitFor({ timeout: 60000 });
    await waitForPipeline(stack, p => healthyOn(stage(p, 'staging'), V14), 'staging Healthy on 1.4.0');
    await region.getByRole('listitem', { name: 'Stage 1: staging' }).getByText(V14, { exact: true }).waitFor();
    await screenshot('pipeline-staging-1.4.0');

    await promoteToProduction(page, 'Soaked in staging: ship 1.4.0');
    await waitForPipeline(stack, p => healthyOn(stage(p, 'production'), V14), 'production Healthy on 1.4.0');
    if ((await productionImage(stack)) !== V14) throw new Error('kube-sim production does not run 1.4.0');

    // The next release: staging first (the first panel's Deploy image is staging's workload).
    await act(page, 'Deploy image', { image: V15, reason: 'Release 1.5.0: saved carts' });
    await waitForPipeline(
      stack,
      p => healthyOn(stage(p, 'staging'), V15) && stage(p, 'production').waitingFor.some(w => w.kind === 'soak'),
      'staging Healthy on 1.5.0, production waiting for the soak',
    );
    const production = region.getByRole('listitem', { name: 'Stage 2: production' });
    await production.getByText(/Soak: .* left/).waitFor({ timeout: 30000 });
    await screenshot('pipeline-production-waits-for-soak');

    // The server holds production, whatever the page shows: a direct start there is refused.
    const token = await guestToken(stack);
    const res = await fetch(`${stack.backendUrl}/api/rollouts/entities/component/default/${ENTITY}/rollouts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cluster: 'production', image: V15, reason: 'skipping the soak (e2e)' }),
    });
    const body = await res.json();
    if (res.status !== 409 || !/soaks until/.test(body.error?.message ?? '')) {
      throw new Error(`a start in production before the soak answered ${res.status} ${JSON.stringify(body)}`);
    }

    await promoteToProduction(page, 'Soaked in staging: ship 1.5.0');
    await waitForPipeline(stack, p => healthyOn(stage(p, 'production'), V15), 'production Healthy on 1.5.0');
    if ((await productionImage(stack)) !== V15) throw new Error('kube-sim production does not run 1.5.0');
    await production.getByText(V15, { exact: true }).waitFor({ timeout: 30000 });
    await waitForText(page, 'Soaked in staging: ship 1.5.0');
    await screenshot('pipeline-production-1.5.0');
  },
};
