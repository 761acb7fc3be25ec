import { Config } from '@backstage/config';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import {
  boundEntityRefs,
  kubeConfigFor,
  normalizeEntityRef,
  readRolloutClusters,
  RolloutClusterConfig,
} from '@rust-delivery-portal/plugin-rollouts-node';
import { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { requireServiceNamespace } from './binding';

/**
 * A kind the apply step may write, by apiVersion and kind.
 * @public
 */
export interface AppliedKind {
  apiVersion: string;
  kind: string;
}

/**
 * The namespaced kinds the template renders (`buildManifests`), and so the only ones it applies:
 * no Namespace, RBAC, Secret or cluster-scoped object can ride along in a workspace's folder.
 * @public
 */
export const APPLIED_KINDS: readonly AppliedKind[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  // Canaries through the Gateway API (the platform provides the Gateway, never applied here).
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
];

/**
 * What happened (or, in a check, would happen) to one object.
 * @public
 */
export interface AppliedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** `skipped` when the cluster does not serve the object's API (e.g. a development cluster). */
  operation: 'created' | 'replaced' | 'skipped';
}

/**
 * The writes an apply will make, decided from reads only.
 * @public
 */
export interface ApplyPlan {
  cluster: string;
  namespace: string;
  entityRef: string;
  /** True when the namespace does not exist yet and is created (without a binding annotation). */
  createNamespace: boolean;
  objects: Array<AppliedObject & { desired: KubernetesObject }>;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: number })?.code === 404;
}

function isConflict(error: unknown): boolean {
  return (error as { code?: number })?.code === 409;
}

/** A 401/403 from the cluster says the writer credential lacks a verb, not that the user erred. */
function forbidden(
  error: unknown,
  cluster: string,
  verb: string,
  what: string,
): Error | undefined {
  const code = (error as { code?: number })?.code;
  if (code !== 401 && code !== 403) return undefined;
  return new NotAllowedError(
    `Cluster ${cluster} refused to ${verb} ${what} (${code}): the rollouts engine's credential (rollouts.clusters[].serviceAccountToken) needs the role of plugins/rollouts-backend/rbac/rollouts-engine.yaml`,
  );
}

/** client-node's discovery found no such apiVersion/kind on the cluster. */
function isKindNotServed(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return (
    (isNotFound(error) &&
      message.includes('Failed to fetch resource metadata')) ||
    message.includes('Unrecognized API version and kind')
  );
}

function describeOwner(refs: string[] | 'invalid' | undefined): string {
  if (refs === undefined) {
    return `belongs to no entity (it has no ${ROLLOUT_ANNOTATIONS.entity} annotation)`;
  }
  if (refs === 'invalid') {
    return `has a ${ROLLOUT_ANNOTATIONS.entity} annotation that names no entity`;
  }
  return `belongs to ${refs.join(', ')}`;
}

/**
 * Applies a service's manifests to a configured cluster without taking anything over: only the
 * kinds the template renders, never into a `kube-*` namespace, creating what does not exist and
 * replacing only objects whose `rollouts.backstage.io/entity` annotation names the same entity.
 * Every object is read and judged before the first write, so a refusal leaves the cluster as it
 * was. Writes use the rollouts engine's credential; one API client per cluster, built on first
 * use and then reused.
 * @public
 */
export class ClusterApplier {
  private readonly clients = new Map<string, KubernetesObjectApi>();
  private readonly kinds: readonly AppliedKind[];

  constructor(
    private readonly clusters: RolloutClusterConfig[],
    options: { kinds?: readonly AppliedKind[] } = {},
  ) {
    this.kinds = options.kinds ?? APPLIED_KINDS;
  }

  static fromConfig(config: Config): ClusterApplier {
    return new ClusterApplier(readRolloutClusters(config));
  }

  clusterNames(): string[] {
    return this.clusters.map(cluster => cluster.name);
  }

  /** Throws an InputError naming the configured clusters when `name` is not one of them. */
  requireCluster(name: string): RolloutClusterConfig {
    const cluster = this.clusters.find(candidate => candidate.name === name);
    if (!cluster) {
      const known = this.clusterNames();
      throw new InputError(
        `Unknown cluster "${name}": configured clusters are ${
          known.length
            ? known.map(n => `"${n}"`).join(', ')
            : 'none (kubernetes.clusterLocatorMethods)'
        }`,
      );
    }
    return cluster;
  }

  private client(name: string): KubernetesObjectApi {
    let client = this.clients.get(name);
    if (!client) {
      client = KubernetesObjectApi.makeApiClient(
        kubeConfigFor(this.requireCluster(name), 'writer'),
      );
      this.clients.set(name, client);
    }
    return client;
  }

  /**
   * The checks that need no cluster: the namespace is not a system one, and every object is of
   * an applied kind, in that namespace and bound to `entityRef`. Throws one InputError naming
   * every object refused.
   */
  checkManifests(
    namespace: string,
    entityRef: string,
    objects: KubernetesObject[],
  ): void {
    requireServiceNamespace(namespace);
    const wanted = normalizeEntityRef(entityRef);
    const allowed = this.kinds.map(k => `${k.apiVersion} ${k.kind}`);
    const refusals: string[] = [];
    for (const object of objects) {
      const kind = `${object.apiVersion} ${object.kind}`;
      const name = object.metadata?.name;
      if (!allowed.includes(kind)) {
        refusals.push(
          `${kind} ${name} is not a kind the template applies (only ${allowed.join(
            ', ',
          )})`,
        );
        continue;
      }
      const objectNamespace = object.metadata?.namespace ?? namespace;
      if (objectNamespace !== namespace) {
        refusals.push(
          `${object.kind} ${name} is in namespace "${objectNamespace}", expected "${namespace}"`,
        );
        continue;
      }
      const own = boundEntityRefs(object);
      const annotation = ROLLOUT_ANNOTATIONS.entity;
      if (own === undefined) {
        refusals.push(
          `${object.kind} ${name} in the manifests has no ${annotation} annotation; it must name ${wanted}`,
        );
      } else if (own === 'invalid' || own.join() !== wanted) {
        refusals.push(
          `${object.kind} ${name} in the manifests names ${object.metadata?.annotations?.[annotation]} in its ${annotation} annotation, not ${wanted}`,
        );
      }
    }
    if (refusals.length) throw new InputError(refusals.join('; '));
  }

  /**
   * Reads the namespace and every object, and decides what to write: create what is missing,
   * replace what is bound to `entityRef`, skip kinds the cluster does not serve. Anything else is
   * refused, all refusals in one InputError. Writes nothing.
   */
  async plan(
    clusterName: string,
    namespace: string,
    entityRef: string,
    objects: KubernetesObject[],
  ): Promise<ApplyPlan> {
    this.checkManifests(namespace, entityRef, objects);
    const wanted = normalizeEntityRef(entityRef);
    const client = this.client(clusterName);
    const refusals: string[] = [];

    let existingNamespace: KubernetesObject | undefined;
    try {
      existingNamespace = await client.read({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      });
    } catch (error) {
      if (!isNotFound(error)) {
        throw (
          forbidden(error, clusterName, 'get', `namespace ${namespace}`) ??
          error
        );
      }
    }
    const listed = boundEntityRefs(existingNamespace);
    if (listed === 'invalid') {
      refusals.push(
        `namespace ${namespace} ${describeOwner(
          listed,
        )}: choose another namespace`,
      );
    } else if (listed && !listed.includes(wanted)) {
      refusals.push(
        `namespace ${namespace} holds the workloads of ${listed.join(
          ', ',
        )}: choose another namespace`,
      );
    }

    const planned: ApplyPlan['objects'] = [];
    for (const object of objects) {
      const header = {
        apiVersion: object.apiVersion!,
        kind: object.kind!,
        namespace,
        name: object.metadata!.name!,
      };
      let existing: KubernetesObject | undefined;
      try {
        existing = await client.read({
          apiVersion: header.apiVersion,
          kind: header.kind,
          metadata: { name: header.name, namespace },
        });
      } catch (error) {
        if (isKindNotServed(error)) {
          planned.push({ ...header, operation: 'skipped', desired: object });
          continue;
        }
        if (!isNotFound(error)) {
          throw (
            forbidden(
              error,
              clusterName,
              'get',
              `${header.kind} ${namespace}/${header.name}`,
            ) ?? error
          );
        }
      }
      const desired: KubernetesObject = {
        ...object,
        metadata: { ...object.metadata, namespace },
      };
      if (!existing) {
        planned.push({ ...header, operation: 'created', desired });
        continue;
      }
      const owner = boundEntityRefs(existing);
      if (Array.isArray(owner) && owner.length === 1 && owner[0] === wanted) {
        // The resourceVersion read here guards the write: a change in between is a conflict.
        desired.metadata!.resourceVersion = existing.metadata?.resourceVersion;
        planned.push({ ...header, operation: 'replaced', desired });
      } else {
        refusals.push(
          `${header.kind} ${namespace}/${
            header.name
          } already exists and ${describeOwner(
            owner,
          )}: choose another name or namespace`,
        );
      }
    }
    if (refusals.length) throw new InputError(refusals.join('; '));
    return {
      cluster: clusterName,
      namespace,
      entityRef: wanted,
      createNamespace: !existingNamespace,
      objects: planned,
    };
  }

  /**
   * Plans (reads and judges everything), then writes: the namespace if it is missing, then each
   * object in order. Returns what happened to each object.
   */
  async apply(
    clusterName: string,
    namespace: string,
    entityRef: string,
    objects: KubernetesObject[],
  ): Promise<AppliedObject[]> {
    const plan = await this.plan(clusterName, namespace, entityRef, objects);
    const client = this.client(clusterName);
    if (plan.createNamespace) {
      try {
        // Not annotated: a namespace's binding says a team owns all of it, which only the
        // cluster's administrators may say.
        await client.create({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: namespace },
        });
      } catch (error) {
        if (!isConflict(error)) {
          throw (
            forbidden(error, clusterName, 'create', `namespace ${namespace}`) ??
            error
          );
        }
      }
    }
    const applied: AppliedObject[] = [];
    for (const { desired, ...object } of plan.objects) {
      try {
        if (object.operation === 'created') await client.create(desired);
        if (object.operation === 'replaced') await client.replace(desired);
      } catch (error) {
        if (isConflict(error)) {
          throw new ConflictError(
            `${object.kind} ${namespace}/${object.name} changed on cluster ${clusterName} while the template applied it; run the template again`,
          );
        }
        throw (
          forbidden(
            error,
            clusterName,
            object.operation === 'created' ? 'create' : 'update',
            `${object.kind} ${namespace}/${object.name}`,
          ) ?? error
        );
      }
      applied.push(object);
    }
    return applied;
  }
}
