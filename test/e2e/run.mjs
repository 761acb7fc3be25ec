#!/usr/bin/env node
// The end-to-end journey in headless Chromium against the real app and backend (see README, "Try it").
// Usage: node test/e2e/run.mjs [--report FILE] [--only NAME]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertChromium, launchChromium, repoRoot, startStack } from './stack.mjs';
import { journeys } from './journeys/index.mjs';
import { signInAsGuest } from './journeys/signIn.mjs';

const arg = name => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const reportFile = arg('--report');
const only = arg('--only');

const outDir = join(repoRoot, '.e2e-output');
const shotsDir = join(outDir, 'screenshots');

async function main() {
  assertChromium();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(shotsDir, { recursive: true });

  const results = [];
  console.log('e2e: starting kube-sim, backend and app...');
  const stack = await startStack({
    outDir,
    extraConfig: {
      rustTemplate: { localTarget: { directory: join(outDir, 'services') } },
      // The health gate's patience; the product default is 60 s, the journey need not wait that long.
      rollouts: {
        defaultUnreadyThresholdSeconds: 10,
        // The release pipeline's soak in staging: long enough to see production wait, short enough to walk.
        pipelines: { stages: [{ cluster: 'staging', soak: '20s' }, { cluster: 'production' }] },
        // A freeze in force for the whole run, on a namespace no other journey starts in.
        freezeWindows: [
          {
            name: 'e2e-freeze',
            message: 'Inventory is frozen for the e2e run',
            clusters: ['local'],
            namespaces: ['inventory'],
            start: '2020-01-01T00:00:00Z',
            end: '2099-01-01T00:00:00Z',
          },
        ],
      },
    },
  });
  console.log(`e2e: portal at ${stack.appUrl}, backend at ${stack.backendUrl}, kube-sim at ${stack.simUrl}`);
  const browser = await launchChromium();
  // One browser profile for the whole journey: the guest signs in once, as a person would.
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  try {
    const first = await context.newPage();
    await signInAsGuest(first, stack.appUrl);
    await first.close();
    for (const journey of journeys) {
      if (only && journey.name !== only) continue;
      const page = await context.newPage();
      page.setDefaultTimeout(30000);
      let shot = 0;
      const screenshot = async label => {
        shot += 1;
        const file = join(shotsDir, `${journey.name}-${String(shot).padStart(2, '0')}-${label}.png`);
        await page.screenshot({ path: file, fullPage: true });
      };
      const started = Date.now();
      try {
        await journey.run({ page, context, stack, screenshot });
        results.push({ name: journey.name, ok: true, ms: Date.now() - started });
        console.log(`  ok   ${journey.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        await screenshot('failure').catch(() => {});
        results.push({ name: journey.name, ok: false, error: String(e?.stack ?? e) });
        console.log(`  FAIL ${journey.name}: ${e?.stack ?? e}`);
      } finally {
        await page.close();
      }
    }
  } finally {
    await context.close();
    await browser.close();
    await stack.stop();
  }
  return results;
}

let results;
try {
  results = await main();
} catch (e) {
  console.error(`e2e: could not run: ${e?.stack ?? e}`);
  results = [{ name: 'e2e-setup', ok: false, error: String(e) }];
}
const passed = results.filter(r => r.ok).length;
const failed = results.length - passed;
if (reportFile) writeFileSync(reportFile, JSON.stringify({ passed, failed, results }, null, 2));
console.log(`e2e: ${passed} passed, ${failed} failed (logs and screenshots in .e2e-output/)`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
