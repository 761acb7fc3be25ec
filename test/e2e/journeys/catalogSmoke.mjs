// Open the catalog (signed in as guest), find a demo component and its rollout card, and its
// Kubernetes tab (the Backstage Kubernetes plugin beside ours): kube-sim answers every list the
// plugin makes, so the tab shows the workload's pods and no error.
import { kube } from './helpers.mjs';

export const catalogSmoke = {
  name: 'catalog-smoke',
  async run({ page, stack, screenshot }) {
    await page.goto(stack.appUrl);
    await page.getByRole('link', { name: 'payments-api' }).waitFor();
    await screenshot('catalog');
    await page.getByRole('link', { name: 'payments-api' }).click();
    await page.getByText('Takes payments (delivered by canary)').first().waitFor();
    await page.getByText('Rollouts').first().waitFor();
    await screenshot('entity-page');

    // The Kubernetes tab sits in the Deployment group of the entity page's tabs, beside ours.
    await page.getByText('Deployment', { exact: true }).first().click();
    await page.getByText('Kubernetes', { exact: true }).first().click();
    await page.waitForURL(/\/kubernetes$/);
    // As many pods as the cluster has for the entity (stable and canary), none with errors.
    const pods = await kube(
      stack,
      `/api/v1/pods?labelSelector=${encodeURIComponent('backstage.io/kubernetes-id=payments-api')}`,
    );
    await page.getByText('local', { exact: true }).first().waitFor();
    await page.getByText(`${pods.items.length} pods`, { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText('No pods with errors').waitFor();
    if (await page.getByText(/Error communicating with Kubernetes/i).count()) {
      throw new Error("the Kubernetes plugin's tab shows an error for payments-api");
    }
    await screenshot('kubernetes-tab');
  },
};
