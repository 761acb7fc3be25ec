// 6. The guest does not own search-indexer (team-search does): no enabled actions, and the server
// refuses a forced request with 403. The demo binds search-indexer to its entity on the cluster side
// (its namespace names it), so the guest's tab is read-only through permissions, with disabled
// buttons, not through binding (which openDeploymentTab would report).
import { guestToken, openDeploymentTab, waitForText } from './helpers.mjs';

export const nonOwner = {
  name: 'non-owner',
  async run({ page, stack, screenshot }) {
    await openDeploymentTab(page, stack.appUrl, 'search-indexer');
    await waitForText(page, 'only the owners of search-indexer can');
    const buttons = ['Promote', 'Abort', 'Roll back', 'Restart', 'Deploy image'];
    for (const label of buttons) {
      const button = page.getByRole('button', { name: label, exact: true }).first();
      if ((await button.count()) > 0 && (await button.isEnabled())) {
        throw new Error(`${label} is enabled for a user who does not own search-indexer`);
      }
    }
    await screenshot('not-owner');

    const token = await guestToken(stack);
    const res = await fetch(`${stack.backendUrl}/api/rollouts/entities/component/default/search-indexer/actions/rollback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cluster: 'local', reason: 'forced by the e2e test' }),
    });
    const body = await res.json();
    if (res.status !== 403 || body.error?.name !== 'NotAllowedError') {
      throw new Error(`a forced rollback by a non-owner answered ${res.status} ${JSON.stringify(body)}`);
    }
  },
};
