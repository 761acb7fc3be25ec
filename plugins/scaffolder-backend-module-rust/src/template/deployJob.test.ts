import { startRolloutRequestSchema } from '@rust-delivery-portal/plugin-rollouts-common';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { startScaffolder } from './__testUtils__/dryRun';

jest.setTimeout(120_000);

/** A GitHub-shaped OIDC token (header.payload.signature); the portal, not this script, checks it. */
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJyZXBvOmFjbWUvb3JkZXJzLWFwaTplbnZpcm9ubWVudDpwcm9kdWN0aW9uIiwiYXVkIjoiYmFja3N0YWdlLXJvbGxvdXRzIn0.c2lnbmF0dXJl';
const REQUEST_TOKEN = 'actions-request-token';
const ROLLOUTS_PATH =
  '/portal/api/rollouts/entities/component/default/orders-api/rollouts';

interface RecordedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Responder = (request: RecordedRequest) => {
  status: number;
  body: unknown;
};

/** GitHub Actions' token endpoint and the portal as they answer when all is well. */
const wellBehaved: Responder = request => {
  if (request.url.pathname === '/oidc/token') {
    return request.headers.authorization === `bearer ${REQUEST_TOKEN}`
      ? { status: 200, body: { count: 1, value: JWT } }
      : { status: 401, body: { message: 'Bad credentials' } };
  }
  if (request.method === 'POST' && request.url.pathname === ROLLOUTS_PATH) {
    return { status: 201, body: { items: [] } };
  }
  return { status: 404, body: { error: { name: 'NotFoundError' } } };
};

/**
 * Runs the generated deploy step's shell script for real (bash, jq, curl) against one loopback
 * server that plays both GitHub Actions' OIDC token endpoint (`/oidc/token`) and the portal
 * (`/portal`). Nothing leaves 127.0.0.1: the script gets no proxy variables and no curlrc.
 */
describe('the generated deploy job', () => {
  const dir = createMockDirectory();
  let workflow: any;
  let server: http.Server;
  let origin: string;
  let requests: RecordedRequest[];
  let respond: Responder;

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
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', chunk => chunks.push(chunk));
      req.on('end', () => {
        const request = {
          method: req.method!,
          url: new URL(req.url!, 'http://127.0.0.1'),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        requests.push(request);
        const { status, body } = respond(request);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>(resolve =>
      server.listen(0, '127.0.0.1', () => resolve()),
    );
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise(resolve => server?.close(resolve));
  });

  beforeEach(() => {
    requests = [];
    respond = wellBehaved;
  });

  /** The step as the runner runs it; `undefined` leaves a variable unset. */
  function runDeployStep(
    overrides: Record<string, string | undefined> = {},
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    dir.setContent({ 'summary.md': '' });
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: dir.path,
      CURL_HOME: dir.path,
      GITHUB_STEP_SUMMARY: dir.resolve('summary.md'),
      GITHUB_RUN_ID: '4242',
      GITHUB_SHA: 'a'.repeat(40),
      // What the runner sets for a job with `id-token: write`.
      ACTIONS_ID_TOKEN_REQUEST_URL: `${origin}/oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      ...workflow.env,
      BACKSTAGE_URL: `${origin}/portal/`,
      OIDC_AUDIENCE: 'backstage-rollouts',
      IMAGE_VERSION: `sha-${'a'.repeat(40)}`,
      IMAGE_DIGEST: `sha256:${'b'.repeat(64)}`,
      ...overrides,
    };
    const definedEnv = Object.fromEntries(
      Object.entries(env).filter(([, value]) => value !== undefined),
    ) as NodeJS.ProcessEnv;
    const step = workflow.jobs.deploy.steps[0];
    return new Promise((resolve, reject) => {
      const child = spawn(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run],
        { env: definedEnv },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', data => (stdout += data));
      child.stderr.on('data', data => (stderr += data));
      child.on('error', reject);
      child.on('close', status => resolve({ status, stdout, stderr }));
    });
  }

  it('asks for an OIDC token and nothing else, holds no Backstage secret, and reads values only through env', () => {
    const job = workflow.jobs.deploy;
    expect(job.permissions).toEqual({ 'id-token': 'write' });
    expect(job.environment).toBe('production');
    const step = job.steps[0];
    expect(step.env).toEqual({
      BACKSTAGE_URL: '${{ vars.BACKSTAGE_URL }}',
      OIDC_AUDIENCE:
        "${{ vars.BACKSTAGE_OIDC_AUDIENCE || 'backstage-rollouts' }}",
      IMAGE_VERSION: '${{ needs.image.outputs.version }}',
      IMAGE_DIGEST: '${{ needs.image.outputs.digest }}',
    });
    expect(JSON.stringify(job)).not.toMatch(/secrets\.|BACKSTAGE_TOKEN/);
    // Credentials reach curl through header files, never on its command line.
    expect(step.run).not.toMatch(/-H "Authorization/);
  });

  it("gets an OIDC token for the portal's audience and starts the rollout with it as the Bearer token", async () => {
    const { status, stdout, stderr } = await runDeployStep();
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(requests.map(r => `${r.method} ${r.url.pathname}`)).toEqual([
      'GET /oidc/token',
      `POST ${ROLLOUTS_PATH}`,
    ]);
    const [tokenRequest, rolloutRequest] = requests;
    expect(tokenRequest.headers.authorization).toBe(`bearer ${REQUEST_TOKEN}`);
    expect(Object.fromEntries(tokenRequest.url.searchParams)).toEqual({
      'api-version': '2.0',
      audience: 'backstage-rollouts',
    });
    expect(rolloutRequest.headers.authorization).toBe(`Bearer ${JWT}`);
    expect(rolloutRequest.headers['content-type']).toBe('application/json');
    expect(
      startRolloutRequestSchema.parse(JSON.parse(rolloutRequest.body)),
    ).toEqual({
      cluster: 'local',
      image: `ghcr.io/example-org/orders-api:sha-${'a'.repeat(
        40,
      )}@sha256:${'b'.repeat(64)}`,
      reason: `GitHub Actions run 4242 of ${'a'.repeat(40)}`,
    });
    // The runner masks the token in every later log line.
    expect(stdout).toContain(`::add-mask::${JWT}`);
    expect(fs.readFileSync(dir.resolve('summary.md'), 'utf8')).toContain(
      'Rollout of ghcr.io/example-org/orders-api:sha-',
    );
  });

  it('sends a configured audience as one query parameter, however it is spelled', async () => {
    const audience = 'https://portal.example.com/rollouts?x=1&y=2 #z';
    const { status } = await runDeployStep({ OIDC_AUDIENCE: audience });
    expect(status).toBe(0);
    expect(Object.fromEntries(requests[0].url.searchParams)).toEqual({
      'api-version': '2.0',
      audience,
    });
  });

  it('fails with a clear message when the job has no id-token permission', async () => {
    const { status, stdout } = await runDeployStep({
      ACTIONS_ID_TOKEN_REQUEST_URL: undefined,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined,
    });
    expect(status).toBe(1);
    expect(stdout).toContain(
      "::error::No GitHub Actions OIDC token: the deploy job needs 'permissions: id-token: write'",
    );
    expect(requests).toEqual([]);
  });

  it('fails with a clear message when BACKSTAGE_URL is not set', async () => {
    const { status, stdout } = await runDeployStep({ BACKSTAGE_URL: '' });
    expect(status).toBe(1);
    expect(stdout).toContain(
      '::error::Set the BACKSTAGE_URL repository variable',
    );
    expect(requests).toEqual([]);
  });

  it('stops before the portal when GitHub Actions refuses the token', async () => {
    const { status, stdout } = await runDeployStep({
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'expired-request-token',
    });
    expect(status).toBe(1);
    expect(stdout).toContain(
      '::error::GitHub Actions refused an OIDC token for audience backstage-rollouts',
    );
    expect(requests.map(r => r.url.pathname)).toEqual(['/oidc/token']);
  });

  it("fails with the portal's error when the portal refuses the rollout", async () => {
    respond = request =>
      request.url.pathname === ROLLOUTS_PATH
        ? {
            status: 403,
            body: {
              error: {
                name: 'NotAllowedError',
                message: 'image is not from ghcr.io/example-org/orders-api',
              },
            },
          }
        : wellBehaved(request);
    const { status, stdout } = await runDeployStep();
    expect(status).not.toBe(0);
    expect(stdout).toContain(
      'NotAllowedError","message":"image is not from ghcr.io/example-org/orders-api',
    );
    // A refusal is final: no retries.
    expect(requests.map(r => r.url.pathname)).toEqual([
      '/oidc/token',
      ROLLOUTS_PATH,
    ]);
  });
});
