// 8. A release walks from staging to production. checkout-api's pipeline is staging, then production;
// staging's soak is 20 s in the e2e config, and production needs another owner's approval (app-config's
// approval rule). The demo started 1.4.0 in staging: once it has soaked, the guest promotes it to
// production from the Deployment tab, which asks for approval; Ada, a second owner of team-rust, signs
// in in a browser context of her own and approves; production starts it. Then 1.5.0 goes to staging;
// production waits for the soak (the page says so, and the server refuses a direct start in production
// with 409), is promoted and approved once it has soaked. Production runs 1.5.0 in kube-sim's
// production cluster. Last, a start during a freeze window (the e2e config freezes inventory-svc's
// namespace) is refused with 409 naming the window, in the browser and through the API.
import { act, guestToken, openDeploymentTab, waitEnabled, waitForText } from './helpers.mjs';
import { signInAsDemoUser } from './signIn.mjs';

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

/** Ada approves the pending request on production from her own Deployment tab. */
async function approveAsAda(ada, stack, reason) {
  await ada.goto(`${stack.appUrl}/catalog/default/component/${ENTITY}/deployment`);
  const request = ada.getByRole('region', { name: `Approval request for ${ENTITY}` }).first();
  await request.waitFor({ timeout: 60000 });
  await request.getByRole('button', { name: 'Approve' }).click();
  const dialog = ada.getByRole('dialog');
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 30000 });
}

export const releasePipeline = {
  name: 'release-pipeline',
  async run({ page, context, stack, screenshot }) {
    const adaContext = await context.browser().newContext({ viewport: { width: 1440, height: 1000 } });
    try {
      const ada = await adaContext.newPage();
      ada.setDefaultTimeout(30000);
      await signInAsDemoUser(ada, stack.appUrl, 'Ada Rust');
      await walk({ page, ada, stack, screenshot });
    } finally {
      await adaContext.close();
    }
    await startDuringFreeze({ page, stack, screenshot });
  },
};

async function walk({ page, ada, stack, screenshot }) {
  {
    await page.goto(`${stack.appUrl}/catalog/default/component/${ENTITY}/deployment`);
    const region = page.getByRole('region', { name: 'Release pipeline' });
    await region.waitFor({ timeout: 60000 });
    await waitForPipeline(stack, p => healthyOn(stage(p, 'staging'), V14), 'staging Healthy on 1.4.0');
    await region.getByRole('listitem', { name: 'Stage 1: staging' }).getByText(V14, { exact: true }).waitFor();
    await screenshot('pipeline-staging-1.4.0');

    await promoteToProduction(page, 'Soaked in staging: ship 1.4.0');
    await waitForPipeline(
      stack,
      p => stage(p, 'production').waitingFor.some(w => w.kind === 'approval'),
      'production waiting for approval',
    );
    await region.getByRole('listitem', { name: 'Stage 2: production' }).getByText(/Approval: /).waitFor({ timeout: 30000 });
    await screenshot('pipeline-production-waits-for-approval');
    await approveAsAda(ada, stack, 'Staging looked fine, approved');
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
    await approveAsAda(ada, stack, 'Approved 1.5.0');
    await waitForPipeline(stack, p => healthyOn(stage(p, 'production'), V15), 'production Healthy on 1.5.0');
    if ((await productionImage(stack)) !== V15) throw new Error('kube-sim production does not run 1.5.0');
    await production.getByText(V15, { exact: true }).waitFor({ timeout: 30000 });
    await waitForText(page, 'Soaked in staging: ship 1.5.0');
    await screenshot('pipeline-production-1.5.0');
  }
}

/** A start inside a freeze window: the dialog shows the server's 409, naming the window and its end. */
async function startDuringFreeze({ page, stack, screenshot }) {
  await openDeploymentTab(page, stack.appUrl, 'inventory-svc');
  await waitForText(page, 'Frozen: e2e-freeze');
  const button = page.getByRole('button', { name: 'Deploy image', exact: true }).first();
  await button.click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Image').fill('ghcr.io/acme/inventory-svc:9.9.9');
  await dialog.getByRole('textbox', { name: 'Reason', exact: true }).fill('during the freeze (e2e)');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.getByRole('alert').getByText(/e2e-freeze/).waitFor({ timeout: 30000 });
  await screenshot('start-refused-during-freeze');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  const token = await guestToken(stack);
  const res = await fetch(`${stack.backendUrl}/api/rollouts/entities/component/default/inventory-svc/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ cluster: 'local', image: 'ghcr.io/acme/inventory-svc:9.9.9', reason: 'during the freeze (e2e)' }),
  });
  const body = await res.json();
  if (res.status !== 409 || !/Freeze window "e2e-freeze" .* until 2099-01-01T00:00:00.000Z/.test(body.error?.message ?? '')) {
    throw new Error(`a start during the freeze answered ${res.status} ${JSON.stringify(body)}`);
  }
}
