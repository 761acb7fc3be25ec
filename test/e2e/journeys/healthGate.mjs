// 5. A canary of a broken image is aborted by the health gate and shown as such.
import { SERVICE } from './createService.mjs';
import { act, deploymentImage, openDeploymentTab, routeWeights, waitForRollout, waitForText } from './helpers.mjs';

export const healthGate = {
  name: 'health-gate',
  async run({ page, stack, screenshot }) {
    const { name, namespace } = SERVICE;
    const stableBefore = await deploymentImage(stack, namespace, name);
    await openDeploymentTab(page, stack.appUrl, name);
    await act(page, 'Deploy image', { image: 'ghcr.io/acme/orders-api:1.2.0-crashloop', reason: 'Try 1.2.0' });
    await waitForRollout(stack, name, r => r.phase === 'Aborted', 'aborted by the health gate', 180000);
    await waitForText(page, 'Aborted');
    await waitForText(page, 'Health gate');
    await screenshot('aborted-by-health-gate');
    const stableAfter = await deploymentImage(stack, namespace, name);
    if (stableAfter !== stableBefore) throw new Error(`the stable Deployment changed: ${stableBefore} -> ${stableAfter}`);
    // The crash-looping canary never had ready pods, so its route never gave it any traffic.
    const weights = await routeWeights(stack, namespace, name);
    if (weights !== `${name}=100 ${name}-canary=0`) throw new Error(`the HTTPRoute sends ${weights}`);
  },
};
