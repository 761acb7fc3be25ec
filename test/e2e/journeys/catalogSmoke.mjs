// Sign in as guest, open the catalog and find a demo component.
import { signInAsGuest } from './signIn.mjs';

export const catalogSmoke = {
  name: 'catalog-smoke',
  async run({ page, stack, screenshot }) {
    await signInAsGuest(page, stack.appUrl);
    await page.getByRole('link', { name: 'payments-api' }).waitFor();
    await screenshot('catalog');
    await page.getByRole('link', { name: 'payments-api' }).click();
    await page.getByText('Takes payments (delivered by canary)').first().waitFor();
    await screenshot('entity-page');
  },
};
