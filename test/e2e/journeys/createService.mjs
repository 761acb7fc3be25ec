// 1. Create a Rust service from the template with the local target and the canary strategy, its
// traffic split exactly through a Gateway API HTTPRoute on the demo's Gateway `gateways/public`.
import { kube, reloadUntil, routeWeights } from './helpers.mjs';

export const SERVICE = { name: 'orders-api', namespace: 'orders' };

export const createService = {
  name: 'create-service',
  async run({ page, stack, screenshot }) {
    await page.goto(`${stack.appUrl}/create`);
    const card = page.locator('article, [class*=MuiCard]').filter({ hasText: 'Rust service' }).first();
    await card.waitFor({ timeout: 60000 });
    await screenshot('templates');
    await card.getByRole('button', { name: /choose/i }).click();

    // Service
    await page.getByLabel('Name', { exact: false }).first().fill(SERVICE.name);
    await page.getByLabel('Description').fill('Takes orders; created by the end-to-end journey');
    const owner = page.getByLabel('Owner').first();
    await owner.click();
    await owner.fill('team-rust');
    await page.getByRole('option', { name: /team-rust/ }).first().click();
    await screenshot('form-service');
    await page.getByRole('button', { name: 'Next' }).click();

    // Delivery
    // A radio: the canary weights field that appears next is labelled "Canary traffic weights (%)" too.
    await page.getByRole('radio', { name: /^Canary/ }).check();
    // The default weights are kept as they are; the picker shows the steps they produce.
    const weights = page.getByRole('textbox', { name: /^Canary traffic weights \(%\)/ });
    await weights.waitFor();
    if ((await weights.inputValue()) !== '20, 50') {
      throw new Error(`the canary weights are not the default 20, 50: ${await weights.inputValue()}`);
    }
    await page.getByText('Steps: 20% → pause → 50% → pause → 100%').waitFor();
    await page.getByRole('radio', { name: /^Gateway API HTTPRoute/ }).check();
    // Required fields are labelled with an asterisk ("Gateway *").
    for (const [label, value] of [[/^Gateway(\s*\*)?$/, 'public'], [/^Gateway namespace(\s*\*)?$/, 'gateways']]) {
      const field = page.getByRole('textbox', { name: label });
      await field.waitFor();
      if ((await field.inputValue()) !== value) throw new Error(`${label} is not the default ${value}`);
    }
    // The canary analysis is on by default, with its thresholds; this journey's cluster has no
    // Prometheus (its canary would pause as inconclusive), so the author switches it off and
    // its fields go away. The analysis itself: the template's and the engine's Prometheus tests.
    const analysis = page.getByRole('checkbox', { name: /Judge the canary by its metrics/ });
    if (!(await analysis.isChecked())) throw new Error('the canary analysis is not on by default');
    const errorShare = page.getByRole('spinbutton', { name: /^Maximum 5xx share/ });
    if ((await errorShare.inputValue()) !== '1') throw new Error(`the 5xx share is not the default 1: ${await errorShare.inputValue()}`);
    await analysis.uncheck();
    await errorShare.waitFor({ state: 'detached' });
    await page.getByRole('textbox', { name: 'Namespace', exact: true }).fill(SERVICE.namespace);
    await screenshot('form-delivery');
    await page.getByRole('button', { name: 'Next' }).click();

    // Repository: the local target is the default
    await page.getByLabel(/^Local folder/).check();
    await page.getByRole('button', { name: 'Review' }).click();
    await screenshot('form-review');
    await page.getByRole('button', { name: 'Create' }).click();

    const open = page.getByRole('link', { name: 'Open in catalog' });
    await open.waitFor({ timeout: 180000 });
    await screenshot('task-done');

    // The manifests were applied to the local cluster
    const deployment = await kube(stack, `/apis/apps/v1/namespaces/${SERVICE.namespace}/deployments/${SERVICE.name}`);
    if (deployment.metadata.annotations['rollouts.backstage.io/strategy'] !== 'Canary') {
      throw new Error(`the applied Deployment is not a canary: ${JSON.stringify(deployment.metadata.annotations)}`);
    }
    if (deployment.metadata.annotations['rollouts.backstage.io/http-route'] !== SERVICE.name) {
      throw new Error(`the applied Deployment does not route through its HTTPRoute: ${JSON.stringify(deployment.metadata.annotations)}`);
    }
    const routed = await routeWeights(stack, SERVICE.namespace, SERVICE.name);
    if (routed !== `${SERVICE.name}=100 ${SERVICE.name}-canary=0`) {
      throw new Error(`the applied HTTPRoute's weights are ${routed}`);
    }

    await open.click();
    await reloadUntil(page, 'Takes orders; created by the end-to-end journey');
    await screenshot('entity');
  },
};
