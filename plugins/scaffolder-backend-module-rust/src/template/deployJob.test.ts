import { startRolloutRequestSchema } from '@internal/plugin-rollouts-common';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parse } from 'yaml';
import { startScaffolder } from './__testUtils__/dryRun';

jest.setTimeout(120_000);

/**
 * Runs the generated deploy step's shell script for real (bash, jq), with `curl` replaced by a
 * recorder, and checks the request against the rollouts API's own request schema.
 */
describe('the generated deploy job', () => {
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
        strategy: 'Canary',
        canarySteps: [20, 50],
        cluster: 'local',
        namespace: 'shop',
        target: 'local',
      });
      workflow = parse(result.files.get('.github/workflows/ci.yaml')!);
    } finally {
      await scaffolder.stop();
    }
  });

  function runDeployStep(env: Record<string, string>) {
    dir.setContent({
      bin: {
        curl: '#!/bin/bash\nprintf "%s\\0" "$@" > "$CURL_ARGS"\n',
      },
      'summary.md': '',
    });
    fs.chmodSync(dir.resolve('bin/curl'), 0o755);
    const step = workflow.jobs.deploy.steps[0];
    const result = spawnSync(
      'bash',
      ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run],
      {
        encoding: 'utf8',
        env: {
          PATH: `${dir.resolve('bin')}:${process.env.PATH}`,
          CURL_ARGS: dir.resolve('curl-args'),
          GITHUB_STEP_SUMMARY: dir.resolve('summary.md'),
          GITHUB_RUN_ID: '4242',
          GITHUB_SHA: 'a'.repeat(40),
          ...workflow.env,
          IMAGE_VERSION: `sha-${'a'.repeat(40)}`,
          IMAGE_DIGEST: `sha256:${'b'.repeat(64)}`,
          ...env,
        },
      },
    );
    const args = fs.existsSync(dir.resolve('curl-args'))
      ? fs
          .readFileSync(dir.resolve('curl-args'), 'utf8')
          .split('\0')
          .slice(0, -1)
      : [];
    return { ...result, args };
  }

  it('reads secrets and outputs only through env', () => {
    const step = workflow.jobs.deploy.steps[0];
    expect(step.env).toEqual({
      BACKSTAGE_URL: '${{ vars.BACKSTAGE_URL }}',
      BACKSTAGE_TOKEN: '${{ secrets.BACKSTAGE_TOKEN }}',
      IMAGE_VERSION: '${{ needs.image.outputs.version }}',
      IMAGE_DIGEST: '${{ needs.image.outputs.digest }}',
    });
    expect(workflow.jobs.deploy.permissions).toEqual({});
  });

  it('starts a rollout through the rollouts API with a body the API accepts', () => {
    const { status, stderr, args } = runDeployStep({
      BACKSTAGE_URL: 'https://portal.example.com/',
      BACKSTAGE_TOKEN: 'static-token',
    });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(args[args.indexOf('-X') + 1]).toBe('POST');
    expect(args[args.indexOf('-X') + 2]).toBe(
      'https://portal.example.com/api/rollouts/entities/component/default/orders-api/rollouts',
    );
    expect(args).toContain('Authorization: Bearer static-token');
    const body = JSON.parse(args[args.indexOf('--data') + 1]);
    expect(startRolloutRequestSchema.parse(body)).toEqual({
      cluster: 'local',
      image: `ghcr.io/example-org/orders-api:sha-${'a'.repeat(
        40,
      )}@sha256:${'b'.repeat(64)}`,
      reason: `GitHub Actions run 4242 of ${'a'.repeat(40)}`,
    });
  });

  it('fails with a clear message when the portal is not configured', () => {
    const { status, stdout, args } = runDeployStep({
      BACKSTAGE_URL: '',
      BACKSTAGE_TOKEN: '',
    });
    expect(status).toBe(1);
    expect(stdout).toContain(
      '::error::Set the BACKSTAGE_URL variable and the BACKSTAGE_TOKEN secret',
    );
    expect(args).toEqual([]);
  });
});
