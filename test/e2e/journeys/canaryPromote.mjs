// 2-3. The new service's Deployment tab; deploy a new image; the canary pauses at its first step;
// promote with a reason; promote full; healthy, the cluster runs the new image, history has both.
// After each promote, the HTTPRoute in the cluster carries exactly the step's weights.
import { SERVICE } from './createService.mjs';
import { act, deploymentImage, openDeploymentTab, routeWeights, waitForRollout, waitForText } from './helpers.mjs';

async function expectWeights(stack, stable, canary) {
  const { name, namespace } = SERVICE;
  const weights = await routeWeights(stack, namespace, name);
  const expected = `${name}=${stable} ${name}-canary=${canary}`;
  if (weights !== expected) throw new Error(`HTTPRoute ${namespace}/${name} has ${weights}, expected ${expected}`);
}

const IMAGE = 'ghcr.io/acme/orders-api:1.1.0';

export const canaryPromote = {
  name: 'canary-promote',
  async run({ page, stack, screenshot }) {
    const { name, namespace } = SERVICE;
    await openDeploymentTab(page, stack.appUrl, name);
    await waitForRollout(stack, name, r => r.phase === 'Healthy', 'the first version Healthy');
    await page.reload();
    await waitForText(page, 'Healthy');
    // Created without analysis: the tab says so and names the annotation that would declare one.
    await waitForText(page, 'Analysis not configured');
    await screenshot('deployment-tab');

    await act(page, 'Deploy image', { image: IMAGE, reason: 'Ship 1.1.0 to a few users first' });
    await waitForRollout(stack, name, r => r.phase === 'Paused' && r.step.index === 1, 'pause at step 2');
    await waitForText(page, 'Paused');
    await waitForText(page, 'Step 2 of 5');
    await waitForText(page, '20%');
    await expectWeights(stack, 80, 20);
    const paused = await waitForRollout(stack, name, r => r.weight.actual === 20, 'actual weight 20%');
    if (paused.weight.method !== 'gateway-api') throw new Error(`weight method ${paused.weight.method}`);
    await screenshot('canary-paused-20');

    await act(page, 'Promote', { reason: 'Error rate flat at 20%' });
    await waitForRollout(stack, name, r => r.step.index === 3 && r.phase === 'Paused', 'pause at step 4');
    await waitForText(page, 'Step 4 of 5');
    await waitForText(page, '50%');
    await expectWeights(stack, 50, 50);
    await screenshot('canary-paused-50');

    await act(page, 'Promote full', { reason: 'Looks good, go' });
    await waitForRollout(stack, name, r => r.phase === 'Healthy' && r.stableImage === IMAGE, 'Healthy on the new image');
    const image = await deploymentImage(stack, namespace, name);
    if (image !== IMAGE) throw new Error(`kube-sim's Deployment runs ${image}, expected ${IMAGE}`);
    await expectWeights(stack, 100, 0);
    await page.reload();
    await waitForText(page, 'Healthy');
    await waitForText(page, 'Error rate flat at 20%');
    await waitForText(page, 'Looks good, go');
    await screenshot('canary-healthy-history');
  },
};
