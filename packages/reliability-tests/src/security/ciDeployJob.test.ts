import { Entity } from '@backstage/catalog-model';
import { ROLLOUT_ENTITY_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { RedTeamPortal, startRedTeamPortal } from '../harness/redTeamPortal';
import { VALID_VALUES, startScaffolder } from '../harness/scaffolder';
import {
  GithubOidcIssuer,
  startGithubOidcIssuer,
} from '../harness/tokenIssuers';

jest.setTimeout(300_000);

const NAME = 'orders-svc';
const NAMESPACE = 'shop';
const REPOSITORY = 'acme/orders-svc';
const REQUEST_TOKEN = 'actions-id-token-request-token';
const VERSION = `sha-${'c'.repeat(40)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

/**
 * The CI/CD job of a generated service, end to end: the real template renders the service, its
 * manifests run on kube-sim, its catalog-info.yaml is the entity, and the deploy job's own script
 * (bash, jq, real curl) asks a loopback stand-in of GitHub Actions' token endpoint for an OIDC
 * token and starts the rollout on a backend composed like packages/backend, whose `jwks` external
 * access verifies it. No Backstage secret is involved anywhere.
 */
describe("a generated service's deploy job and its GitHub Actions identity", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-deploy-job-'));
  let sim: KubeSim;
  let github: GithubOidcIssuer;
  let portal: RedTeamPortal;
  let tokenEndpoint: http.Server;
  let tokenOrigin: string;
  let workflow: any;
  /** The repository whose identity the token endpoint hands out. */
  let jobRepository = REPOSITORY;

  const image = () =>
    sim.control.get('apps/v1', 'Deployment', NAMESPACE, NAME)?.spec?.template
      ?.spec?.containers?.[0]?.image;

  beforeAll(async () => {
    const scaffolder = await startScaffolder({
      workingDirectory: path.join(work, 'scaffolder'),
      localDirectory: path.join(work, 'services'),
    });
    let files: Map<string, string>;
    try {
      const rendered = await scaffolder.dryRun({
        ...VALID_VALUES,
        name: NAME,
        namespace: NAMESPACE,
        strategy: 'RollingUpdate',
      });
      if (rendered.error) {
        throw new Error(`The template did not render: ${rendered.error}`);
      }
      files = rendered.files;
    } finally {
      await scaffolder.stop();
    }
    workflow = parse(files.get('.github/workflows/ci.yaml')!);

    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    const manifests = [...files.entries()]
      .filter(
        ([file]) =>
          file.startsWith('deploy/kubernetes/') &&
          !file.endsWith('kustomization.yaml'),
      )
      .flatMap(([, text]) => parseAllDocuments(text).map(d => d.toJS()))
      // kube-sim serves no autoscaling API; the HPA is not what this test is about.
      .filter(o => o && o.kind !== 'HorizontalPodAutoscaler');
    await sim.control.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
      ...manifests,
    ]);
    await sim.control.waitFor(
      () =>
        sim.control.get('apps/v1', 'Deployment', NAMESPACE, NAME)?.status
          ?.readyReplicas > 0,
      30_000,
    );

    // The entity the template registers; the GitHub target also writes the project slug.
    const entity = parse(files.get('catalog-info.yaml')!) as Entity;
    entity.metadata.annotations = {
      ...entity.metadata.annotations,
      [ROLLOUT_ENTITY_ANNOTATIONS.githubProjectSlug]: REPOSITORY,
    };
    github = await startGithubOidcIssuer();
    portal = await startRedTeamPortal({
      kubeUrl: sim.url,
      entities: [entity],
      github,
      users: { 'user:default/reader': [] },
    });
    await portal.waitForCatalog([`component:default/${NAME}`]);

    // GitHub Actions' token endpoint: the job's request token in, an OIDC token for the audience out.
    tokenEndpoint = http.createServer(async (req, res) => {
      const url = new URL(req.url!, 'http://127.0.0.1');
      if (req.headers.authorization !== `bearer ${REQUEST_TOKEN}`) {
        res.writeHead(401).end(JSON.stringify({ message: 'Bad credentials' }));
        return;
      }
      const value = await github.mint({
        repository: jobRepository,
        audience: url.searchParams.get('audience') ?? undefined,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count: 1, value }));
    });
    await new Promise<void>(resolve =>
      tokenEndpoint.listen(0, '127.0.0.1', () => resolve()),
    );
    tokenOrigin = `http://127.0.0.1:${
      (tokenEndpoint.address() as AddressInfo).port
    }`;
  });

  afterAll(async () => {
    await new Promise(resolve => tokenEndpoint?.close(resolve));
    await portal?.stop();
    await github?.close();
    await sim?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** The deploy step's script as the runner runs it, with the values its `env:` would give. */
  function runDeployStep(): Promise<{ status: number | null; output: string }> {
    fs.writeFileSync(path.join(work, 'summary.md'), '');
    const env = {
      PATH: process.env.PATH,
      HOME: work,
      CURL_HOME: work,
      GITHUB_STEP_SUMMARY: path.join(work, 'summary.md'),
      GITHUB_RUN_ID: '4242',
      GITHUB_SHA: 'c'.repeat(40),
      ACTIONS_ID_TOKEN_REQUEST_URL: `${tokenOrigin}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      ...workflow.env,
      BACKSTAGE_URL: portal.url,
      OIDC_AUDIENCE: github.audience,
      IMAGE_VERSION: VERSION,
      IMAGE_DIGEST: DIGEST,
    };
    const step = workflow.jobs.deploy.steps[0];
    return new Promise((resolve, reject) => {
      const child = spawn(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run],
        { env },
      );
      let output = '';
      child.stdout.on('data', d => (output += d));
      child.stderr.on('data', d => (output += d));
      child.on('error', reject);
      child.on('close', status => resolve({ status, output }));
    });
  }

  it('asks for id-token: write and holds no Backstage secret', () => {
    expect(workflow.jobs.deploy.permissions).toEqual({ 'id-token': 'write' });
    expect(JSON.stringify(workflow)).not.toMatch(/BACKSTAGE_TOKEN/);
  });

  it("is refused when the token is another repository's, and the workload stays as it was", async () => {
    jobRepository = 'acme/some-other-repo';
    const before = image();
    const { status, output } = await runDeployStep();
    expect(status).not.toBe(0);
    expect(output).toMatch(
      /GitHub Actions of acme\/some-other-repo may start rollouts only of the entity whose github.com\/project-slug is acme\/some-other-repo/,
    );
    expect(image()).toBe(before);
  });

  it('starts a rollout of its own image with its own identity, and the cluster runs it', async () => {
    jobRepository = REPOSITORY;
    const { status, output } = await runDeployStep();
    expect({ status, output }).toMatchObject({ status: 0 });
    const wanted = `${workflow.env.IMAGE_REPOSITORY}:${VERSION}@${DIGEST}`;
    await sim.control.waitFor(() => image() === wanted, 30_000);
    const started = (await portal.audit()).filter(
      e => e.eventId === 'rollout-start' && e.status === 'succeeded',
    );
    expect(started.at(-1)?.endMeta).toMatchObject({
      actor: `service:external:github-actions:repo:${REPOSITORY}:environment:production`,
      entityRef: `component:default/${NAME}`,
      namespace: NAMESPACE,
      workload: NAME,
      image: wanted,
    });
  });
});
