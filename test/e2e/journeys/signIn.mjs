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

/**
 * Signs a page in as one of the demo users (the backend's `demo` provider, development only), by
 * the card's button: `Ada Rust` is a second owner in team-rust. Use a context of its own, so the
 * guest's session stays where it is.
 */
export async function signInAsDemoUser(page, appUrl, title) {
  await page.goto(appUrl);
  const button = page.getByRole('button', { name: `Sign in as ${title}` });
  const catalog = page.getByRole('heading', { name: /catalog/i }).first();
  await Promise.race([button.waitFor(), catalog.waitFor()]);
  if (await button.isVisible()) {
    await button.click();
  }
  await catalog.waitFor();
}
