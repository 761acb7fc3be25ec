// 7. shipping-api is delivered by Argo Rollouts (kube-sim simulates its controller). A new image
// arrives as a GitOps sync would bring it (a patch of the Rollout's template); the card says
// "Argo Rollouts", the canary pauses at 25% (CanaryPauseStep); the owner promotes it to 50% and
// then aborts it from the browser; the Rollout in the cluster carries the kubectl plugin's status
// patches and goes back to the stable version.
import {
  act,
  kube,
  openDeploymentTab,
  waitForRollout,
  waitForText,
} from './helpers.mjs';

const NAME = 'shipping-api';
const PATH = `/apis/argoproj.io/v1alpha1/namespaces/shipping/rollouts/${NAME}`;
const IMAGE = 'ghcr.io/acme/shipping-api:1.3.0';

async function syncImage(stack, image) {
  const res = await fetch(`${stack.simUrl}${PATH}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({
      spec: { template: { spec: { containers: [{ name: NAME, image }] } } },
    }),
  });
  if (!res.ok)
    throw new Error(
      `kube-sim PATCH ${PATH}: ${res.status} ${await res.text()}`,
    );
}

export const argoRollouts = {
  name: 'argo-rollouts',
  async run({ page, stack, screenshot }) {
    await waitForRollout(
      stack,
      NAME,
      r => r.controller === 'argo-rollouts' && r.phase === 'Healthy',
      'the Argo Rollout Healthy',
    );
    await openDeploymentTab(page, stack.appUrl, NAME);
    await waitForText(page, 'Argo Rollouts');
    await waitForText(page, 'Healthy');

    await syncImage(stack, IMAGE);
    await waitForRollout(
      stack,
      NAME,
      r => r.phase === 'Paused' && r.step.index === 1,
      'the first pause (25%)',
    );
    await page.reload();
    await waitForText(page, 'CanaryPauseStep');
    await waitForText(page, 'Step 2 of 6');
    await screenshot('argo-paused-25');

    await act(page, 'Promote', { reason: 'Labels print fine at 25%' });
    await waitForRollout(
      stack,
      NAME,
      r => r.phase === 'Paused' && r.step.index === 3,
      'the second pause (50%)',
    );
    await waitForText(page, 'Step 4 of 6');
    await screenshot('argo-paused-50');

    await act(page, 'Abort', { reason: 'Tracking numbers missing' });
    await waitForRollout(stack, NAME, r => r.phase === 'Aborted', 'Aborted');
    const ro = await kube(stack, PATH);
    if (ro.status?.abort !== true)
      throw new Error(
        `the Rollout's status.abort is ${ro.status?.abort}, expected true`,
      );
    await waitForRollout(
      stack,
      NAME,
      r => r.weight.actual === 0,
      'all traffic back on stable',
    );
    await page.reload();
    await waitForText(page, 'Aborted');
    await waitForText(page, 'RolloutAborted');
    await waitForText(page, 'Labels print fine at 25%');
    await waitForText(page, 'Tracking numbers missing');
    await screenshot('argo-aborted-history');
  },
};
