import { createMockDirectory } from '@backstage/backend-test-utils';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parse } from 'yaml';
import { startScaffolder } from './__testUtils__/dryRun';

jest.setTimeout(120_000);

const DIGEST = `sha256:${'c'.repeat(64)}`;
const SBOM = { spdxVersion: 'SPDX-2.3', packages: [{ name: 'axum' }] };

/**
 * Runs the image job's signing step for real (bash, jq) with `cosign` and `docker` replaced by
 * recorders: what is signed, in which order, with which SBOM. No registry and no Sigstore here.
 */
describe('the generated signing step', () => {
  const dir = createMockDirectory();
  let workflow: any;

  beforeAll(async () => {
    const scaffolder = await startScaffolder();
    try {
      const result = await scaffolder.dryRun({
        name: 'orders-api',
        description: 'Takes orders',
        owner: 'group:default/team-a',
        port: 8080,
        strategy: 'RollingUpdate',
        cluster: 'local',
        namespace: 'shop',
        target: 'local',
      });
      workflow = parse(result.files.get('.github/workflows/ci.yaml')!);
    } finally {
      await scaffolder.stop();
    }
  });

  const signStep = () =>
    workflow.jobs.image.steps.find((s: any) => /cosign sign/.test(s.run ?? ''));

  function runSignStep(sbom: string) {
    const recorder = (name: string) =>
      `#!/bin/bash\nprintf '${name} %s\\n' "$*" >> "$CALLS"\n`;
    dir.setContent({
      bin: {
        cosign: `${recorder(
          'cosign',
        )}if [ "$1" = attest ]; then cp "$6" "$PREDICATE"; fi\n`,
        docker: `${recorder('docker')}printf '%s' "$SBOM_OUTPUT"\n`,
      },
      tmp: {},
      'summary.md': '',
    });
    fs.chmodSync(dir.resolve('bin/cosign'), 0o755);
    fs.chmodSync(dir.resolve('bin/docker'), 0o755);
    const result = spawnSync(
      'bash',
      ['--noprofile', '--norc', '-eo', 'pipefail', '-c', signStep().run],
      {
        encoding: 'utf8',
        env: {
          PATH: `${dir.resolve('bin')}:${process.env.PATH}`,
          CALLS: dir.resolve('calls'),
          PREDICATE: dir.resolve('predicate.json'),
          SBOM_OUTPUT: sbom,
          RUNNER_TEMP: dir.resolve('tmp'),
          GITHUB_STEP_SUMMARY: dir.resolve('summary.md'),
          ...workflow.env,
          IMAGE_DIGEST: DIGEST,
        },
      },
    );
    const read = (file: string) =>
      fs.existsSync(dir.resolve(file))
        ? fs.readFileSync(dir.resolve(file), 'utf8')
        : '';
    return {
      status: result.status,
      calls: read('calls').split('\n').filter(Boolean),
      predicate: read('predicate.json'),
    };
  }

  it('signs the pushed digest keylessly, then attests the SBOM BuildKit attached to it', () => {
    const image = `ghcr.io/example-org/orders-api@${DIGEST}`;
    const { status, calls, predicate } = runSignStep(JSON.stringify(SBOM));
    expect(status).toBe(0);
    expect(calls).toEqual([
      `cosign sign --yes ${image}`,
      `docker buildx imagetools inspect ${image} --format {{ json .SBOM.SPDX }}`,
      `cosign attest --yes --type spdxjson --predicate ${dir.resolve(
        'tmp/sbom.spdx.json',
      )} ${image}`,
    ]);
    expect(JSON.parse(predicate)).toEqual(SBOM);
    expect(fs.readFileSync(dir.resolve('summary.md'), 'utf8')).toContain(
      `Signed ${image}`,
    );
  });

  it('fails instead of attesting when the image carries no SBOM', () => {
    const { status, calls } = runSignStep('null');
    expect(status).not.toBe(0);
    expect(calls.filter(call => call.startsWith('cosign attest'))).toEqual([]);
  });
});
