// The portal's sign-in page offers the guest provider; the guest is user:default/guest of team-rust.
export async function signInAsGuest(page, appUrl) {
  await page.goto(appUrl);
  const enter = page.getByRole('button', { name: /enter/i });
  const catalog = page.getByRole('heading', { name: /catalog/i }).first();
  await Promise.race([enter.waitFor(), catalog.waitFor()]);
  if (await enter.isVisible()) {
    await enter.click();
  }
  await catalog.waitFor();
}
