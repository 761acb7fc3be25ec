// Open the catalog (signed in as guest) and find a demo component and its rollout card.

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
  },
};
