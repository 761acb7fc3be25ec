import { createMockDirectory } from '@backstage/backend-test-utils';
import { parse, parseAllDocuments } from 'yaml';
import { startScaffolder, VALID_VALUES } from '../harness/scaffolder';

jest.setTimeout(120_000);

/** Patterns of credentials that must never be committed into a generated repository. */
const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  [
    'GitHub token',
    /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}/,
  ],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['Slack token', /\bxox[baprs]-[A-Za-z0-9-]{10,}/],
  ['JWT', /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  [
    'password assignment',
    // `id-token: write` is a workflow permission, not a credential.
    /\b(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*["']?(?!\$\{\{)(?!\$\{?[A-Z_]+)(?!(?:read|write|none)\b)[^\s"'#]{6,}/i,
  ],
];

const stepsOf = (job: any): any[] => job.steps ?? [];
const runsOf = (job: any): string =>
  stepsOf(job)
    .map(s => (typeof s.run === 'string' ? s.run : ''))
    .join('\n');
/** Steps that build an image with docker/build-push-action. */
const buildStepsOf = (job: any) =>
  stepsOf(job).filter(s => /^docker\/build-push-action@/.test(s.uses ?? ''));
/** Steps that install or run cosign. */
const signingStepsOf = (job: any) =>
  stepsOf(job).filter(
    s =>
      /^sigstore\//.test(s.uses ?? '') ||
      /\bcosign\s/.test(typeof s.run === 'string' ? s.run : ''),
  );
/** A `with.push` or `if` value as the expression it is, without `${{ }}`. */
const asExpression = (value: unknown) =>
  String(value)
    .replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, '$1')
    .trim();

/** Write scopes a job may hold, and only when it does what needs them. */
const WRITE_SCOPES_ALLOWED: Record<string, (job: any) => boolean> = {
  // Pushing an image to the registry (ghcr.io with GITHUB_TOKEN).
  packages: job =>
    buildStepsOf(job).some(s => asExpression(s.with?.push) !== 'false'),
  // Keyless signing of the image the job pushes, or the deploy job's OIDC identity towards the portal.
  'id-token': job =>
    (buildStepsOf(job).length > 0 && /\bcosign sign\b/.test(runsOf(job))) ||
    /\$\{?ACTIONS_ID_TOKEN_REQUEST_URL\b/.test(runsOf(job)),
};

/**
 * A `uses:` line pinned the way Dependabot and Renovate keep current: a full commit SHA and the
 * version it is, in a comment. Local actions and Docker images by digest are pinned by what they are.
 */
const PINNED_USES =
  /^\s*(?:-\s+)?uses:\s+(?:[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}\s+#\s+v\d+(?:\.\d+){0,2}\S*|\.\/\S+|docker:\/\/\S+@sha256:[0-9a-f]{64})\s*$/;

/** Secrets a generated workflow may read: the registry's. A Backstage credential is not one of them. */
const SECRETS_ALLOWED = new Set(['GITHUB_TOKEN', 'REGISTRY_PASSWORD']);

const VARIANTS = [
  { strategy: 'RollingUpdate', target: 'local' },
  { strategy: 'Canary', target: 'local', canarySteps: [10, 30, 60] },
  {
    strategy: 'BlueGreen',
    target: 'local',
    autoPromotion: false,
    scaleDownDelay: '2m',
  },
  {
    strategy: 'Canary',
    target: 'github',
    repoUrl: 'github.com?owner=acme&repo=orders-api',
  },
];

describe('generated repository policy (every strategy and target)', () => {
  const root = createMockDirectory();
  let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
  const outputs = new Map<string, Map<string, string>>();
  const figures = {
    variants: 0,
    files: 0,
    workflows: 0,
    jobs: 0,
    deployments: 0,
    containers: 0,
  };

  beforeAll(async () => {
    root.setContent({ work: {}, local: {} });
    scaffolder = await startScaffolder({
      workingDirectory: root.resolve('work'),
      localDirectory: root.resolve('local'),
    });
    for (const variant of VARIANTS) {
      const run = await scaffolder.dryRun({ ...VALID_VALUES, ...variant });
      if (run.status !== 200 || run.error) {
        throw new Error(
          `${JSON.stringify(variant)} did not render: ${run.status} ${
            run.error
          }`,
        );
      }
      outputs.set(`${variant.strategy}/${variant.target}`, run.files);
    }
  });

  afterAll(async () => {
    console.log(
      `[reliability] generated repository policy: ${JSON.stringify(figures)}`,
    );
    await scaffolder?.stop();
  });

  const each = () => [...outputs.entries()];
  const workflowsOf = (files: Map<string, string>) =>
    [...files]
      .filter(([p]) => /^\.github\/workflows\/.+\.ya?ml$/.test(p))
      .map(([p, t]) => [p, parse(t)] as const);
  const manifestsOf = (files: Map<string, string>) =>
    [...files]
      .filter(([p]) => /\.ya?ml$/.test(p) && !p.startsWith('.github/'))
      .flatMap(([p, t]) =>
        parseAllDocuments(t).map(d => [p, d.toJS()] as const),
      )
      .filter(([, o]) => o && typeof o === 'object' && 'kind' in o);

  it('renders every variant', () => {
    expect([...outputs.keys()]).toHaveLength(VARIANTS.length);
    figures.variants = outputs.size;
  });

  it('holds no secret values: no credentials in any file, no Secret manifests with data', () => {
    const violations: string[] = [];
    for (const [variant, files] of each()) {
      for (const [file, text] of files) {
        figures.files++;
        for (const [label, pattern] of SECRET_PATTERNS) {
          const match = text.match(pattern)?.[0];
          if (match) violations.push(`${variant} ${file}: ${label} ${match}`);
        }
      }
      for (const [file, o] of manifestsOf(files)) {
        if (
          o.kind === 'Secret' &&
          (Object.keys(o.data ?? {}).length ||
            Object.keys(o.stringData ?? {}).length)
        ) {
          violations.push(
            `${variant} ${file}: Secret ${o.metadata?.name} carries values`,
          );
        }
      }
      // Secrets in the workflow are only ever read from the secrets context.
      for (const [file, wf] of workflowsOf(files)) {
        const envs = [
          wf.env ?? {},
          ...Object.values<any>(wf.jobs).flatMap(j => [
            j.env ?? {},
            ...(j.steps ?? []).map((s: any) => s.env ?? {}),
          ]),
        ];
        for (const env of envs) {
          for (const [key, value] of Object.entries(env)) {
            if (
              /TOKEN|PASSWORD|SECRET|KEY/i.test(key) &&
              !/^\$\{\{\s*secrets\.[A-Z_]+\s*\}\}$/.test(String(value))
            ) {
              violations.push(
                `${variant} ${file}: env ${key} is not read from secrets: ${value}`,
              );
            }
          }
        }
      }
    }
    expect(violations).toEqual([]);
    expect(figures.files).toBeGreaterThan(50);
  });

  it('gives workflows least privilege: nothing by default, read per job, write only where a step needs it', () => {
    const violations: string[] = [];
    for (const [variant, files] of each()) {
      const workflows = workflowsOf(files);
      if (workflows.length === 0) violations.push(`${variant}: no workflow`);
      for (const [file, wf] of workflows) {
        figures.workflows++;
        if (JSON.stringify(wf.permissions) !== '{}')
          violations.push(
            `${variant} ${file}: top-level permissions ${JSON.stringify(
              wf.permissions,
            )}`,
          );
        for (const [jobId, job] of Object.entries<any>(wf.jobs)) {
          figures.jobs++;
          if (typeof job.permissions !== 'object' || job.permissions === null) {
            violations.push(
              `${variant} ${file} ${jobId}: no explicit permissions (${JSON.stringify(
                job.permissions,
              )})`,
            );
            continue;
          }
          for (const [scope, level] of Object.entries<string>(
            job.permissions,
          )) {
            if (!['read', 'write', 'none'].includes(level))
              violations.push(`${variant} ${jobId}: ${scope}: ${level}`);
            if (
              level === 'write' &&
              !(WRITE_SCOPES_ALLOWED[scope]?.(job) ?? false)
            ) {
              violations.push(
                `${variant} ${file} ${jobId}: ${scope}: write without a step that needs it`,
              );
            }
          }
        }
      }
    }
    expect(violations).toEqual([]);
    expect(figures.jobs).toBeGreaterThan(0);
  });

  it('runs only pinned code: every action by commit SHA with its version, every base image by digest', () => {
    const violations: string[] = [];
    let pinned = 0;
    for (const [variant, files] of each()) {
      for (const [file, text] of files) {
        if (!/^\.github\/workflows\/.+\.ya?ml$/.test(file)) continue;
        for (const line of text.split('\n')) {
          if (!/^\s*(?:-\s+)?uses:/.test(line)) continue;
          if (PINNED_USES.test(line)) pinned++;
          else violations.push(`${variant} ${file}: ${line.trim()}`);
        }
      }
      const dockerfile = files.get('Dockerfile') ?? '';
      const syntax = /^# syntax=(\S+)/.exec(dockerfile)?.[1];
      if (syntax && !/@sha256:[0-9a-f]{64}$/.test(syntax))
        violations.push(
          `${variant} Dockerfile: frontend ${syntax} not pinned by digest`,
        );
      const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map(m => m[1]);
      if (froms.length === 0)
        violations.push(`${variant}: no FROM in Dockerfile`);
      for (const image of froms) {
        if (!/^[^@\s]+:[^@/\s]+@sha256:[0-9a-f]{64}$/.test(image))
          violations.push(
            `${variant} Dockerfile: ${image} not pinned by tag and digest`,
          );
      }
    }
    expect(violations).toEqual([]);
    expect(pinned).toBeGreaterThan(VARIANTS.length * 5);
  });

  it('signs only where it pushes: cosign runs in the job that pushes, exactly when it pushes, by digest; every pushed image is signed', () => {
    const violations: string[] = [];
    let signingJobs = 0;
    for (const [variant, files] of each()) {
      for (const [file, wf] of workflowsOf(files)) {
        for (const [jobId, job] of Object.entries<any>(wf.jobs)) {
          const builds = buildStepsOf(job);
          const pushes = builds
            .map(s => asExpression(s.with?.push))
            .filter(push => push !== 'false' && push !== 'undefined');
          const signing = signingStepsOf(job);
          if (signing.length === 0) {
            if (pushes.length > 0)
              violations.push(
                `${variant} ${file} ${jobId}: pushes an image without signing it`,
              );
            continue;
          }
          signingJobs++;
          if (pushes.length !== 1) {
            violations.push(
              `${variant} ${file} ${jobId}: signs without pushing an image`,
            );
            continue;
          }
          for (const step of signing) {
            const name = step.name ?? step.uses;
            if (asExpression(step.if) !== pushes[0])
              violations.push(
                `${variant} ${file} ${jobId}: "${name}" runs when ${asExpression(
                  step.if,
                )}, the push when ${pushes[0]}`,
              );
            const run = typeof step.run === 'string' ? step.run : '';
            for (const command of run.matchAll(
              /\bcosign (sign|attest)\b[^\n]*/g,
            )) {
              if (/--key\b/.test(command[0]))
                violations.push(
                  `${variant} ${jobId}: "${command[0]}" signs with a key, not keylessly`,
                );
            }
            if (
              run &&
              !/image="\$\{IMAGE_REPOSITORY\}@\$\{IMAGE_DIGEST\}"/.test(run)
            )
              violations.push(
                `${variant} ${jobId}: "${name}" does not sign the image by its digest`,
              );
            if (run && !/cosign attest\b.*--type spdxjson/.test(run))
              violations.push(
                `${variant} ${jobId}: "${name}" does not attest the SBOM`,
              );
          }
        }
      }
    }
    expect(violations).toEqual([]);
    expect(signingJobs).toBe(VARIANTS.length);
  });

  it('deploys with its own OIDC identity: no Backstage credential, only the registry secrets', () => {
    const violations: string[] = [];
    for (const [variant, files] of each()) {
      for (const [file, wf] of workflowsOf(files)) {
        const text = JSON.stringify(wf);
        for (const [, name] of text.matchAll(
          /secrets\.([A-Za-z_][A-Za-z0-9_]*)/g,
        )) {
          if (!SECRETS_ALLOWED.has(name))
            violations.push(`${variant} ${file}: reads secrets.${name}`);
        }
        const deploy = Object.entries<any>(wf.jobs).filter(([, job]) =>
          /\/api\/rollouts\//.test(runsOf(job)),
        );
        if (deploy.length !== 1)
          violations.push(
            `${variant} ${file}: ${deploy.length} jobs call the rollouts API`,
          );
        for (const [jobId, job] of deploy) {
          if (JSON.stringify(job.permissions) !== '{"id-token":"write"}')
            violations.push(
              `${variant} ${jobId}: permissions ${JSON.stringify(
                job.permissions,
              )}`,
            );
          if (!/\$\{?ACTIONS_ID_TOKEN_REQUEST_URL\b/.test(runsOf(job)))
            violations.push(`${variant} ${jobId}: does not use its OIDC token`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('never checks out untrusted code with secrets: no pull_request_target, no persisted credentials, no secrets on pull requests', () => {
    const violations: string[] = [];
    let checkouts = 0;
    for (const [variant, files] of each()) {
      for (const [file, wf] of workflowsOf(files)) {
        let on = wf.on;
        if (typeof on === 'string') on = { [on]: null };
        else if (Array.isArray(on))
          on = Object.fromEntries(on.map((e: string) => [e, null]));
        for (const trigger of ['pull_request_target', 'workflow_run']) {
          if (trigger in on)
            violations.push(`${variant} ${file}: triggered by ${trigger}`);
        }
        for (const [jobId, job] of Object.entries<any>(wf.jobs)) {
          for (const step of job.steps ?? []) {
            if (/^actions\/checkout@/.test(step.uses ?? '')) {
              checkouts++;
              if (step.with?.['persist-credentials'] !== false)
                violations.push(
                  `${variant} ${jobId}: checkout persists credentials`,
                );
              if (
                /pull_request\.head|head_ref/.test(String(step.with?.ref ?? ''))
              )
                violations.push(`${variant} ${jobId}: checks out the PR head`);
            }
            // A step that reads secrets must not run for pull requests.
            if (/secrets\./.test(JSON.stringify(step))) {
              const guarded =
                /github\.event_name\s*!=\s*'pull_request'/.test(
                  String(step.if ?? ''),
                ) ||
                /github\.event_name\s*==\s*'push'/.test(String(job.if ?? ''));
              if (!guarded)
                violations.push(
                  `${variant} ${jobId}: step "${
                    step.name ?? step.uses
                  }" reads secrets on pull requests`,
                );
            }
          }
        }
      }
    }
    expect(violations).toEqual([]);
    expect(checkouts).toBeGreaterThan(0);
  });

  it('runs containers as non-root with a read-only root file system (manifests and Dockerfile)', () => {
    for (const [variant, files] of each()) {
      const deployments = manifestsOf(files).filter(([, o]) =>
        [
          'Deployment',
          'StatefulSet',
          'DaemonSet',
          'Job',
          'CronJob',
          'Pod',
        ].includes(o.kind),
      );
      expect({ variant, deployments: deployments.length }).toEqual({
        variant,
        deployments: 1,
      });
      for (const [file, o] of deployments) {
        figures.deployments++;
        const pod = o.spec.template.spec;
        expect({
          variant,
          file,
          pod: pod.securityContext?.runAsNonRoot,
        }).toEqual({ variant, file, pod: true });
        expect({
          variant,
          file,
          uid: pod.securityContext?.runAsUser ?? 1,
        }).not.toEqual({ variant, file, uid: 0 });
        expect({
          variant,
          file,
          hostNetwork: !!pod.hostNetwork,
          hostPID: !!pod.hostPID,
          hostIPC: !!pod.hostIPC,
        }).toEqual({
          variant,
          file,
          hostNetwork: false,
          hostPID: false,
          hostIPC: false,
        });
        for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
          figures.containers++;
          const sc = c.securityContext ?? {};
          expect({
            variant,
            container: c.name,
            readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
            allowPrivilegeEscalation: sc.allowPrivilegeEscalation,
            privileged: !!sc.privileged,
            dropsAll: (sc.capabilities?.drop ?? []).includes('ALL'),
            uidNotRoot: (sc.runAsUser ?? pod.securityContext?.runAsUser) !== 0,
          }).toEqual({
            variant,
            container: c.name,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            dropsAll: true,
            uidNotRoot: true,
          });
        }
      }
      // Dockerfile: the last stage runs as a numeric non-root user.
      const dockerfile = files.get('Dockerfile')!;
      const lastStage = dockerfile.split(/^FROM /m).pop()!;
      const users = [...lastStage.matchAll(/^USER\s+(\S+)/gm)].map(m => m[1]);
      expect({ variant, lastUser: users.pop() }).toEqual({
        variant,
        lastUser: expect.stringMatching(/^[1-9][0-9]*(:[1-9][0-9]*)?$/),
      });
    }
  });
});
