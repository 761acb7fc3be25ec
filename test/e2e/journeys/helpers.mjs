// Small steps the journeys share: opening an entity's Deployment tab, confirming an action with a
// reason, waiting for a rollout's phase, and reading the cluster (kube-sim) directly.

/**
 * Opens the tab and waits for its action bar. A workload the cluster does not bind to the entity has
 * none, only a note saying why: that fails at once, with the note's words.
 */
export async function openDeploymentTab(page, appUrl, name) {
  await page.goto(`${appUrl}/catalog/default/component/${name}/deployment`);
  const actions = page.getByRole('button', { name: 'Deploy image' }).first();
  const readOnly = page.getByRole('note', { name: /^Read-only:/ }).first();
  await actions.or(readOnly).first().waitFor({ timeout: 60000 });
  if (await readOnly.isVisible()) {
    throw new Error(`${name} is read-only by its binding: ${await readOnly.textContent()}`);
  }
}

/** Clicks an action button, types the reason (and image), confirms, and waits for the dialog to close. */
export async function act(page, label, { reason, image } = {}) {
  const button = page.getByRole('button', { name: label, exact: true }).first();
  await waitEnabled(button, `${label} button`);
  await button.click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  if (image) await dialog.getByLabel('Image').fill(image);
  await dialog.getByLabel('Reason').fill(reason ?? `e2e: ${label}`);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 30000 });
}

export async function waitEnabled(locator, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await locator.count()) > 0 && (await locator.isEnabled())) return;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`${what} did not become enabled within ${timeoutMs / 1000} s`);
}

/** Waits until the page shows the text (the Deployment tab refreshes through signals and polling). */
export async function waitForText(page, text, timeoutMs = 90000) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: timeoutMs });
}

/** Reloads until the text shows, as a person would while the catalog ingests a new entity. */
export async function reloadUntil(page, text, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await page.getByText(text).first().waitFor({ timeout: 5000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await page.reload();
    }
  }
}

export async function kube(stack, path) {
  const res = await fetch(`${stack.simUrl}${path}`);
  if (!res.ok) throw new Error(`kube-sim GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function deploymentImage(stack, namespace, name) {
  const d = await kube(stack, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
  return d.spec.template.spec.containers[0].image;
}

/** The backendRef weights of an HTTPRoute's first rule in kube-sim, as `stable=80 canary=20`. */
export async function routeWeights(stack, namespace, name) {
  const route = await kube(stack, `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/${name}`);
  return route.spec.rules[0].backendRefs.map(r => `${r.name}=${r.weight}`).join(' ');
}

/** Polls the rollouts API (with the local scripts' static token) until the predicate holds. */
export async function waitForRollout(stack, entity, predicate, what, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    const res = await fetch(`${stack.backendUrl}/api/rollouts/entities/component/default/${entity}/rollouts`, {
      headers: { authorization: `Bearer ${stack.ciToken}` },
    });
    if (res.ok) {
      last = (await res.json()).items[0];
      if (last && predicate(last)) return last;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`${entity}: ${what} not reached within ${timeoutMs / 1000} s; last view: ${JSON.stringify(last && { phase: last.phase, step: last.step, message: last.message })}`);
}

export async function guestToken(stack) {
  const res = await fetch(`${stack.backendUrl}/api/auth/guest/refresh?env=development`, {
    headers: { 'x-requested-with': 'XMLHttpRequest' },
  });
  if (!res.ok) throw new Error(`guest sign-in: ${res.status} ${await res.text()}`);
  return (await res.json()).backstageIdentity.token;
}
