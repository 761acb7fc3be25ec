import { createMockDirectory } from '@backstage/backend-test-utils';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parse } from 'yaml';
import {
  checkDockerfile,
  checkManifestRules,
  checkWorkflow,
  licenseAllowed,
  parseManifests,
  parseToml,
  unpinnedActions,
} from './__testUtils__/artifactChecks';
import { startScaffolder } from './__testUtils__/dryRun';

jest.setTimeout(120_000);

const base = {
  name: 'orders-api',
  description: 'Takes orders',
  owner: 'group:default/team-a',
  system: 'system:default/shop',
  port: 8080,
  strategy: 'RollingUpdate',
  cluster: 'local',
  namespace: 'shop',
  target: 'local',
};

describe('rust-service template, rendered by the real scaffolder (dry run)', () => {
  let scaffolder: Awaited<ReturnType<typeof startScaffolder>>;
  beforeAll(async () => {
    scaffolder = await startScaffolder();
  });
  afterAll(async () => scaffolder?.stop());

  describe.each([
    {
      strategy: 'RollingUpdate',
      values: { strategy: 'RollingUpdate', port: 8080 },
      annotations: { 'rollouts.backstage.io/strategy': 'RollingUpdate' },
      services: ['orders-api'],
    },
    {
      strategy: 'Canary',
      values: { strategy: 'Canary', canarySteps: [10, 25, 60], port: 3000 },
      annotations: {
        'rollouts.backstage.io/strategy': 'Canary',
        'rollouts.backstage.io/canary-steps': JSON.stringify([
          { setWeight: 10 },
          { pause: {} },
          { setWeight: 25 },
          { pause: {} },
          { setWeight: 60 },
          { pause: {} },
          { setWeight: 100 },
        ]),
        'rollouts.backstage.io/analysis': 'orders-api-analysis',
      },
      services: ['orders-api'],
    },
    {
      strategy: 'BlueGreen',
      values: {
        strategy: 'BlueGreen',
        autoPromotion: true,
        scaleDownDelay: '2m',
        port: 9090,
      },
      annotations: {
        'rollouts.backstage.io/strategy': 'BlueGreen',
        'rollouts.backstage.io/active-service': 'orders-api',
        'rollouts.backstage.io/preview-service': 'orders-api-preview',
        'rollouts.backstage.io/auto-promotion': 'true',
        'rollouts.backstage.io/scale-down-delay': '2m',
      },
      services: ['orders-api', 'orders-api-preview'],
    },
    {
      strategy: 'Canary through the Gateway API',
      values: {
        strategy: 'Canary',
        canarySteps: [20, 50],
        trafficRouting: 'gateway-api',
        gatewayName: 'public',
        gatewayNamespace: 'gateways',
        port: 8080,
      },
      annotations: {
        'rollouts.backstage.io/strategy': 'Canary',
        'rollouts.backstage.io/canary-steps': JSON.stringify([
          { setWeight: 20 },
          { pause: {} },
          { setWeight: 50 },
          { pause: {} },
          { setWeight: 100 },
        ]),
        'rollouts.backstage.io/analysis': 'orders-api-analysis',
        'rollouts.backstage.io/http-route': 'orders-api',
        'rollouts.backstage.io/http-route-rule': '0',
        'rollouts.backstage.io/stable-service': 'orders-api',
        'rollouts.backstage.io/canary-service': 'orders-api-canary',
      },
      services: ['orders-api', 'orders-api-canary'],
    },
  ])('$strategy', ({ values, ...expected }) => {
    let result: Awaited<ReturnType<typeof scaffolder.dryRun>>;
    beforeAll(async () => {
      result = await scaffolder.dryRun({ ...base, ...values });
    });

    it('completes every step', () => {
      expect(result.status).toBe(200);
      expect(result.log.join('\n')).toContain(
        'Finished step Render Kubernetes manifests',
      );
      expect([...result.files.keys()]).toEqual(
        expect.arrayContaining([
          'Cargo.toml',
          'rust-toolchain.toml',
          'Dockerfile',
          '.dockerignore',
          '.github/workflows/ci.yaml',
          '.github/dependabot.yml',
          'catalog-info.yaml',
          'README.md',
          'src/main.rs',
          'tests/http.rs',
          'deploy/kubernetes/deployment.yaml',
        ]),
      );
      expect([...result.files.keys()].filter(f => f.endsWith('.njk'))).toEqual(
        [],
      );
      expect(
        [...result.files.values()].filter(text => text.includes('${{ values')),
      ).toEqual([]);
    });

    it('has a workflow that passes actionlint and our rules', async () => {
      const workflow = result.files.get('.github/workflows/ci.yaml')!;
      expect(await checkWorkflow(workflow)).toEqual([]);
      const parsed = parse(workflow);
      expect(parsed.env).toMatchObject({
        IMAGE_REPOSITORY: 'ghcr.io/example-org/orders-api',
        ROLLOUT_CLUSTER: 'local',
        ROLLOUT_ENTITY: 'component/default/orders-api',
      });
      const build = parsed.jobs.image.steps.find((s: any) => s.id === 'build');
      expect(build.with).toMatchObject({ sbom: true, provenance: 'mode=max' });
      expect(parsed.jobs.deploy.steps[0].run).toContain(
        '/api/rollouts/entities/${ROLLOUT_ENTITY}/rollouts',
      );
      expect(parsed.jobs.deploy.if).toContain('refs/heads/main');
      expect(parsed.jobs.image.needs).toEqual(['check', 'deny']);
    });

    it('has a Dockerfile that passes dockerfile-utils and our rules', () => {
      const rustVersion = /channel = "([^"]+)"/.exec(
        result.files.get('rust-toolchain.toml')!,
      )![1];
      expect(
        checkDockerfile(result.files.get('Dockerfile')!, {
          port: values.port,
          rustVersion,
        }),
      ).toEqual([]);
    });

    it('has manifests valid against the Kubernetes schemas and our security rules', () => {
      const { objects, problems } = parseManifests(result.files);
      expect(problems).toEqual([]);
      expect(checkManifestRules(objects, 'orders-api')).toEqual([]);
      const deployment = objects.find(o => o.kind === 'Deployment');
      expect(deployment.metadata.annotations).toEqual({
        'rollouts.backstage.io/entity': 'component:default/orders-api',
        ...expected.annotations,
      });
      expect(deployment.metadata.namespace).toBe('shop');
      expect(
        deployment.spec.template.spec.containers[0].ports[0].containerPort,
      ).toBe(values.port);
      const services = objects
        .filter(o => o.kind === 'Service')
        .map(o => o.metadata.name);
      expect(services.sort()).toEqual(expected.services);
      const configMap = objects.find(
        o => o.kind === 'ConfigMap' && o.metadata.name === 'orders-api-config',
      );
      expect(configMap.data.PORT).toBe(String(values.port));
    });

    if (
      (values as { trafficRouting?: string }).trafficRouting === 'gateway-api'
    ) {
      it('routes through an HTTPRoute of the entity to the stable and canary Services, and says what the platform provides', () => {
        const { objects } = parseManifests(result.files);
        const route = objects.find(o => o.kind === 'HTTPRoute');
        expect(route).toMatchObject({
          apiVersion: 'gateway.networking.k8s.io/v1',
          metadata: {
            name: 'orders-api',
            namespace: 'shop',
            annotations: {
              'rollouts.backstage.io/entity': 'component:default/orders-api',
            },
          },
          spec: {
            parentRefs: [{ name: 'public', namespace: 'gateways' }],
            rules: [
              {
                backendRefs: [
                  { name: 'orders-api', port: 80, weight: 100 },
                  { name: 'orders-api-canary', port: 80, weight: 0 },
                ],
              },
            ],
          },
        });
        const selectorOf = (name: string) =>
          objects.find(o => o.kind === 'Service' && o.metadata.name === name)
            .spec.selector;
        expect(selectorOf('orders-api')).toEqual({
          'app.kubernetes.io/name': 'orders-api',
          'rollouts.backstage.io/role': 'stable',
        });
        expect(selectorOf('orders-api-canary')).toEqual({
          'app.kubernetes.io/name': 'orders-api',
          'rollouts.backstage.io/role': 'canary',
          'rollouts.backstage.io/owner': 'orders-api',
        });
        const deployment = objects.find(o => o.kind === 'Deployment');
        expect(
          deployment.spec.template.metadata.labels[
            'rollouts.backstage.io/role'
          ],
        ).toBe('stable');
        expect(
          parse(result.files.get('deploy/kubernetes/kustomization.yaml')!)
            .resources,
        ).toEqual(
          expect.arrayContaining(['service-canary.yaml', 'httproute.yaml']),
        );
        const readme = result.files.get('README.md')!;
        expect(readme).toMatch(/### Traffic through the Gateway API/);
        expect(readme).toMatch(/the Gateway `public` in namespace `gateways`/);
      });
    }

    it('has a catalog-info.yaml that maps the entity to its workloads', () => {
      const entity = parse(result.files.get('catalog-info.yaml')!);
      expect(entity).toMatchObject({
        kind: 'Component',
        metadata: {
          name: 'orders-api',
          annotations: {
            'backstage.io/kubernetes-id': 'orders-api',
            'backstage.io/kubernetes-namespace': 'shop',
            'rollouts.backstage.io/strategy': values.strategy,
            'rollouts.backstage.io/image-repository':
              'ghcr.io/example-org/orders-api',
          },
        },
        spec: {
          owner: 'group:default/team-a',
          system: 'system:default/shop',
          type: 'service',
        },
      });
      expect(entity.metadata.links.length).toBeGreaterThan(0);
    });
  });

  describe('refuses wrong input with a clear message', () => {
    it.each([
      ['an upper-case name', { name: 'Orders' }, 'name'],
      ['a path as name', { name: '../etc' }, 'name'],
      ['a name ending with a dash', { name: 'orders-' }, 'name'],
      ['a name too long', { name: `a${'b'.repeat(40)}` }, 'name'],
      ['a privileged port', { port: 80 }, 'port'],
      ['a port out of range', { port: 70000 }, 'port'],
      [
        'an expression as image',
        { imageRepository: 'ghcr.io/x/${{ secrets.GITHUB_TOKEN }}' },
        'imageRepository',
      ],
      ['an unknown strategy', { strategy: 'YOLO' }, 'strategy'],
    ])('%s (form schema)', async (_, values, field) => {
      const result = await scaffolder.dryRun({ ...base, ...values });
      expect(result.status).toBe(400);
      const properties = result.body.errors.map(
        (e: { property: string }) => e.property,
      );
      expect(properties).toContainEqual(
        expect.stringMatching(new RegExp(`^instance\\.${field}`)),
      );
    });

    it.each([
      [
        'canary steps that do not increase',
        { strategy: 'Canary', canarySteps: [50, 20] },
        'Canary steps must increase: step 2 (20%) is not above step 1 (50%)',
      ],
      ['a name reserved by Cargo', { name: 'test' }, 'reserved by Cargo'],
      [
        'a cluster the portal does not know',
        { cluster: 'prod' },
        'Unknown cluster "prod": configured clusters are "local"',
      ],
    ])('%s (server-side action)', async (_, values, message) => {
      const result = await scaffolder.dryRun({ ...base, ...values });
      expect(result.status).toBe(400);
      expect(result.body.error).toMatchObject({ name: 'InputError' });
      expect(result.body.error.message).toContain(message);
      expect(result.files.size).toBe(0);
    });
  });

  it('refuses a canary weight of 100 or more (form schema: strategy options do not match)', async () => {
    const result = await scaffolder.dryRun({
      ...base,
      strategy: 'Canary',
      canarySteps: [50, 100],
    });
    expect(result.status).toBe(400);
    expect(
      result.body.errors.map((e: { message: string }) => e.message),
    ).toContainEqual(expect.stringMatching(/exactly one/));
    const accepted = await scaffolder.dryRun({
      ...base,
      strategy: 'Canary',
      canarySteps: [50, 99],
    });
    expect(accepted.status).toBe(200);
  });

  it('renders the GitHub target with the repository in the links and image', async () => {
    const result = await scaffolder.dryRun({
      ...base,
      target: 'github',
      repoUrl: 'github.com?owner=Acme-Corp&repo=orders-api',
    });
    expect(result.status).toBe(200);
    expect(result.log.join('\n')).toContain(
      'Skipping because publish:github does not support dry-run',
    );
    const entity = parse(result.files.get('catalog-info.yaml')!);
    expect(entity.metadata.annotations['github.com/project-slug']).toBe(
      'Acme-Corp/orders-api',
    );
    // The CI identity of Acme-Corp/orders-api may start only images of this repository.
    expect(
      entity.metadata.annotations['rollouts.backstage.io/image-repository'],
    ).toBe('ghcr.io/acme-corp/orders-api');
    expect(entity.metadata.links).toContainEqual(
      expect.objectContaining({
        url: 'https://github.com/Acme-Corp/orders-api',
      }),
    );
    const workflow = parse(result.files.get('.github/workflows/ci.yaml')!);
    expect(workflow.env.IMAGE_REPOSITORY).toBe('ghcr.io/acme-corp/orders-api');
    expect(
      await checkWorkflow(result.files.get('.github/workflows/ci.yaml')!),
    ).toEqual([]);
  });

  describe('supply chain of the generated service', () => {
    let files: Map<string, string>;
    let workflow: any;
    beforeAll(async () => {
      const result = await scaffolder.dryRun({
        ...base,
        target: 'github',
        repoUrl: 'github.com?owner=acme&repo=orders-api',
      });
      if (result.status !== 200)
        throw new Error(`dry run failed: ${JSON.stringify(result.body)}`);
      files = result.files;
      workflow = parse(files.get('.github/workflows/ci.yaml')!);
    });

    it('pins every action to a full commit SHA with its version in a comment', () => {
      const text = files.get('.github/workflows/ci.yaml')!;
      expect(unpinnedActions(text)).toEqual([]);
      const uses = Object.values<any>(workflow.jobs).flatMap(job =>
        job.steps.filter((s: any) => s.uses).map((s: any) => s.uses),
      );
      expect(uses.length).toBeGreaterThanOrEqual(8);
      for (const ref of uses)
        expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    });

    it.each([
      ['a tag', 'actions/checkout@v7'],
      ['a branch', 'actions/checkout@main'],
      ['a short SHA', 'actions/checkout@3d3c42e # v7.0.1'],
      [
        'a SHA without its version',
        'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1',
      ],
    ])('fails the workflow check on an action pinned to %s', async (_, ref) => {
      const text = files
        .get('.github/workflows/ci.yaml')!
        .replace(/uses: actions\/checkout@\S+ # \S+/, `uses: ${ref}`);
      expect(await checkWorkflow(text)).toEqual([
        `action not pinned to a full commit SHA with its version in a comment: uses: ${ref}`,
      ]);
    });

    it.each([
      [
        'a SHA nobody verified',
        `actions/checkout@${'f'.repeat(40)} # v7.0.1`,
        `job check: actions/checkout@${'f'.repeat(
          40,
        )} is not a verified pin (VERIFIED_ACTIONS)`,
      ],
      [
        'a SHA labelled with another version',
        'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v6.0.0',
        'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 is v7.0.1, not v6.0.0',
      ],
    ])('fails the workflow check on %s', async (_, ref, problem) => {
      const text = files
        .get('.github/workflows/ci.yaml')!
        .replace(/uses: actions\/checkout@\S+ # \S+/, `uses: ${ref}`);
      expect(await checkWorkflow(text)).toEqual([problem]);
    });

    it('fails the workflow check on an input the pinned version does not have', async () => {
      const text = files
        .get('.github/workflows/ci.yaml')!
        .replace('persist-credentials: false', 'persist-credential: false');
      expect(await checkWorkflow(text)).toContain(
        'job check: actions/checkout v7.0.1 has no input "persist-credential"',
      );
    });

    it('checks the crates with cargo deny before any image is built', () => {
      const deny = workflow.jobs.deny;
      expect(deny.permissions).toEqual({ contents: 'read' });
      expect(deny.steps.map((s: any) => s.uses?.split('@')[0])).toContain(
        'EmbarkStudios/cargo-deny-action',
      );
      expect(workflow.jobs.image.needs).toContain('deny');
      const config = parseToml(files.get('deny.toml')!);
      expect(config.advisories).toMatchObject({
        unmaintained: 'workspace',
        yanked: 'deny',
        ignore: [],
      });
      // Vulnerability and unsound advisories cannot be downgraded: no such keys in the config.
      expect(Object.keys(config.advisories)).not.toContain('vulnerability');
      expect(config.licenses.allow).toEqual(
        expect.arrayContaining(['Apache-2.0', 'MIT']),
      );
      expect(
        config.licenses.allow.filter((l: string) => /GPL/.test(l)),
      ).toEqual([]);
      expect(config.licenses.private).toEqual({ ignore: true });
      expect(config.sources).toMatchObject({
        'unknown-registry': 'deny',
        'unknown-git': 'deny',
      });
    });

    it.each([
      ['MIT OR Apache-2.0', ['MIT'], true],
      ['MIT/Apache-2.0', ['Apache-2.0'], true],
      ['MIT AND BSD-3-Clause', ['MIT'], false],
      ['(MIT OR Apache-2.0) AND Unicode-3.0', ['MIT', 'Unicode-3.0'], true],
      ['(MIT OR Apache-2.0) AND Unicode-3.0', ['MIT'], false],
      ['Apache-2.0 WITH LLVM-exception', ['Apache-2.0'], false],
      ['GPL-3.0-only', ['MIT'], false],
      ['', ['MIT'], false],
    ])(
      'reads the license expression %p against %p as cargo-deny does',
      (expression, allowed, expected) => {
        expect(licenseAllowed(expression, allowed)).toBe(expected);
      },
    );

    describe('the check job, run for real (bash, with cargo recorded)', () => {
      const dir = createMockDirectory();
      const stepRunning = (pattern: RegExp) =>
        workflow.jobs.check.steps.find((s: any) => pattern.test(s.run ?? ''));

      function runStep(
        run: string,
        project: Record<string, string>,
        env: Record<string, string> = {},
      ) {
        dir.setContent({
          project,
          bin: { cargo: '#!/bin/bash\nprintf "%s\\n" "$@" > "$CARGO_ARGS"\n' },
          'github-env': '',
        });
        fs.chmodSync(dir.resolve('bin/cargo'), 0o755);
        const result = spawnSync(
          'bash',
          ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run],
          {
            cwd: dir.resolve('project'),
            encoding: 'utf8',
            env: {
              PATH: `${dir.resolve('bin')}:${process.env.PATH}`,
              GITHUB_ENV: dir.resolve('github-env'),
              CARGO_ARGS: dir.resolve('cargo-args'),
              ...workflow.env,
              ...env,
            },
          },
        );
        const read = (file: string) =>
          fs.existsSync(dir.resolve(file))
            ? fs.readFileSync(dir.resolve(file), 'utf8')
            : '';
        return {
          status: result.status,
          stdout: result.stdout,
          githubEnv: read('github-env'),
          cargoArgs: read('cargo-args').split('\n').filter(Boolean),
        };
      }

      it('builds with --locked once Cargo.lock is committed, and warns while it is not', () => {
        const lockStep = stepRunning(/Cargo\.lock/);
        const withLock = runStep(lockStep.run, {
          'Cargo.lock': 'version = 4\n',
        });
        expect(withLock).toMatchObject({
          status: 0,
          githubEnv: 'CARGO_LOCKED=true\n',
        });
        const withoutLock = runStep(lockStep.run, {});
        expect(withoutLock).toMatchObject({ status: 0, githubEnv: '' });
        expect(withoutLock.stdout).toContain(
          '::warning::Cargo.lock is not committed',
        );
        for (const command of [/^cargo clippy/, /^cargo test/]) {
          const step = stepRunning(command);
          expect(
            runStep(step.run, {}, { CARGO_LOCKED: 'true' }).cargoArgs,
          ).toContain('--locked');
          expect(runStep(step.run, {}).cargoArgs).not.toContain('--locked');
        }
        expect(files.get('Dockerfile')).toMatch(
          /if \[ -f Cargo\.lock \]; then locked=--locked;[\s\S]*cargo build --release \$locked/,
        );
      });

      it('fails while rust-toolchain.toml, RUST_VERSION and the builder image name different Rust versions', () => {
        const step = stepRunning(/rust-toolchain\.toml/);
        const project = {
          'rust-toolchain.toml': files.get('rust-toolchain.toml')!,
          Dockerfile: files.get('Dockerfile')!,
        };
        expect(runStep(step.run, project).status).toBe(0);
        const bumped = runStep(step.run, {
          ...project,
          Dockerfile: project.Dockerfile.replace(
            /^FROM rust:[^-]+-/m,
            'FROM rust:1.99.0-',
          ),
        });
        expect(bumped.status).toBe(1);
        expect(bumped.stdout).toContain(
          `::error::Rust ${workflow.env.RUST_VERSION} (RUST_VERSION) must also be the channel of rust-toolchain.toml and the tag of the Dockerfile's builder image`,
        );
        expect(
          runStep(step.run, project, { RUST_VERSION: '1.99.0' }).status,
        ).toBe(1);
      });
    });

    it('signs the pushed image by digest and attests its SBOM in the job that pushes, keyless', () => {
      const image = workflow.jobs.image;
      expect(image.permissions).toEqual({
        contents: 'read',
        packages: 'write',
        'id-token': 'write',
      });
      const build = image.steps.find((s: any) => s.id === 'build');
      const sign = image.steps.find((s: any) =>
        /cosign sign/.test(s.run ?? ''),
      );
      // Signed exactly when pushed.
      expect(build.with.push).toBe(`\${{ ${sign.if} }}`);
      expect(sign.env).toEqual({
        IMAGE_DIGEST: '${{ steps.build.outputs.digest }}',
      });
      expect(sign.run).toContain('image="${IMAGE_REPOSITORY}@${IMAGE_DIGEST}"');
      expect(sign.run).toContain('cosign sign --yes "$image"');
      expect(sign.run).toMatch(
        /cosign attest --yes --type spdxjson --predicate "\$RUNNER_TEMP\/sbom\.spdx\.json" "\$image"/,
      );
      expect(sign.run).not.toMatch(/--key\b/);
      // The SBOM covers the builder stage too, where Cargo.lock names the crates in the binary.
      const builder = files.get('Dockerfile')!.split(/^FROM /m)[1];
      expect(builder).toMatch(/^ARG BUILDKIT_SBOM_SCAN_STAGE=true$/m);
      const installer = image.steps.find((s: any) =>
        /^sigstore\/cosign-installer@/.test(s.uses ?? ''),
      );
      expect(installer.if).toBe(sign.if);
      const withIdToken = Object.entries<any>(workflow.jobs)
        .filter(([, job]) => job.permissions?.['id-token'] === 'write')
        .map(([id]) => id);
      expect(withIdToken.sort()).toEqual(['deploy', 'image']);
    });

    it('keeps actions, images and crates current with grouped Dependabot updates', () => {
      const dependabot = parse(files.get('.github/dependabot.yml')!);
      expect(
        dependabot.updates.map((u: any) => [
          u['package-ecosystem'],
          u.directory,
          Object.values<any>(u.groups ?? {}).map(g => g.patterns),
        ]),
      ).toEqual([
        ['cargo', '/', [['*']]],
        ['docker', '/', [['*']]],
        ['github-actions', '/', [['*']]],
      ]);
    });

    it("says in the README how to refresh the pins and verify a signature with the workflow's identity", () => {
      const readme = files.get('README.md')!;
      expect(readme).toContain('## Pinned versions');
      expect(readme).toContain('docker buildx imagetools inspect');
      expect(readme).toContain('git ls-remote --tags');
      expect(readme).toContain(
        'cosign verify ghcr.io/acme/orders-api@sha256:<digest> \\\n' +
          '  --certificate-identity "https://github.com/acme/orders-api/.github/workflows/ci.yaml@refs/heads/main" \\\n' +
          '  --certificate-oidc-issuer https://token.actions.githubusercontent.com',
      );
      expect(readme).toContain('cosign verify-attestation --type spdxjson');
      expect(readme).toContain('`repo:acme/orders-api:environment:production`');
      expect(readme).not.toContain('BACKSTAGE_TOKEN');
    });

    it('tells a service created without a GitHub repository to name it, or its deploy token is refused', async () => {
      const local = await scaffolder.dryRun(base);
      const readme = local.files.get('README.md')!;
      expect(
        parse(local.files.get('catalog-info.yaml')!).metadata.annotations,
      ).not.toHaveProperty('github.com/project-slug');
      expect(readme.replace(/\s+/g, ' ')).toContain(
        "add `github.com/project-slug: <owner>/<repo>` to the annotations of `catalog-info.yaml`, or the portal refuses the deploy job's token",
      );
    });
  });

  describe('hostile values cannot change the generated documents', () => {
    // One line: the description refuses control characters (see the test below).
    const hostile =
      'x" spec: owner: evil # ${{ secrets.GITHUB_TOKEN }} {% raw %} `rm -rf /` \\ \' ]]';
    let result: Awaited<ReturnType<typeof scaffolder.dryRun>>;
    beforeAll(async () => {
      result = await scaffolder.dryRun({
        ...base,
        strategy: 'RollingUpdate',
        description: hostile,
        owner: `group:default/a"\nb`,
        system: 'system:default/x\n  lifecycle: hacked',
      });
    });

    it('keeps them as plain strings in catalog-info.yaml', () => {
      expect(result.status).toBe(200);
      const entity = parse(result.files.get('catalog-info.yaml')!);
      expect(entity.metadata.description).toBe(hostile);
      expect(entity.spec.owner).toBe(`group:default/a"\nb`);
      expect(entity.spec.system).toBe('system:default/x\n  lifecycle: hacked');
      expect(entity.spec.lifecycle).toBe('experimental');
    });

    it('keeps them as plain strings in Cargo.toml', () => {
      const cargo = result.files.get('Cargo.toml')!;
      expect(cargo).toContain(`description = ${JSON.stringify(hostile)}`);
      expect(cargo.split('\n').filter(l => l.startsWith('spec'))).toEqual([]);
    });

    it('refuses a description with control characters, which TOML and YAML would take apart', async () => {
      for (const description of ['two\nlines', 'del\u007fchar', 'nul\u0000']) {
        const refused = await scaffolder.dryRun({ ...base, description });
        expect({ description, status: refused.status }).toEqual({
          description,
          status: 400,
        });
      }
    });

    it('never puts them in the workflow', async () => {
      const workflow = result.files.get('.github/workflows/ci.yaml')!;
      expect(workflow).not.toContain('evil');
      expect(await checkWorkflow(workflow)).toEqual([]);
    });
  });
});
