// 4. The demo's blue-green service awaits promotion: promote, then roll back; the active Service
// switches both times.
import { act, kube, openDeploymentTab, waitForRollout, waitForText } from './helpers.mjs';

async function activeSelector(stack) {
  const svc = await kube(stack, '/api/v1/namespaces/checkout/services/checkout-web');
  return JSON.stringify(svc.spec.selector);
}

export const blueGreen = {
  name: 'blue-green',
  async run({ page, stack, screenshot }) {
    await waitForRollout(stack, 'checkout-web', r => r.phase === 'Paused', 'awaiting promotion');
    await openDeploymentTab(page, stack.appUrl, 'checkout-web');
    await waitForText(page, 'Paused');
    await screenshot('awaiting-promotion');
    const before = await activeSelector(stack);

    await act(page, 'Promote', { reason: 'Preview checked by QA' });
    const promoted = await selectorChange(stack, before, 'promote');
    await waitForText(page, 'the active Service now selects');
    await screenshot('promoted');

    // Within the scale-down delay the old version is still up: rolling back is a switch back.
    await act(page, 'Roll back', { reason: 'Checkout errors after the switch' });
    const rolledBack = await selectorChange(stack, promoted, 'rollback');
    if (rolledBack !== before) {
      throw new Error(`rollback switched the active Service to ${rolledBack}, not back to ${before}`);
    }
    await waitForRollout(stack, 'checkout-web', r => r.stableImage.endsWith(':2.0.1'), 'active on 2.0.1 again');
    await waitForText(page, 'Checkout errors after the switch');
    await screenshot('rolled-back');
  },
};

async function selectorChange(stack, from, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await activeSelector(stack);
    if (now !== from) return now;
    if (Date.now() > deadline) throw new Error(`the active Service did not switch on ${what} (still ${now})`);
    await new Promise(r => setTimeout(r, 500));
  }
}
