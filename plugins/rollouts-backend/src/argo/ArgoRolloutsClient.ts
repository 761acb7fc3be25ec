import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  PatchStrategy,
  V1Deployment,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ClusterCache } from '../cache/ClusterCache';
import { statusOf, unavailable } from '../clusters/WorkloadClient';
import { ArgoPatch, TemplatePatch } from './patches';
import { ARGO_GROUP, ARGO_PLURAL, ARGO_VERSION, ArgoRollout } from './types';

/**
 * Reads and patches Argo Rollouts with the engine's own credential: exactly the requests of the
 * kubectl-argo-rollouts plugin. It never writes anything else to a Rollout.
 */
export class ArgoRolloutsClient {
  constructor(private readonly cache: ClusterCache) {}

  private ref(namespace: string, name: string) {
    return {
      group: ARGO_GROUP,
      version: ARGO_VERSION,
      plural: ARGO_PLURAL,
      namespace,
      name,
    };
  }

  /** Reads a Rollout from the API server (actions decide on the latest version). */
  async read(
    namespace: string,
    name: string,
  ): Promise<ArgoRollout | undefined> {
    try {
      const ro = (await this.cache.custom.getNamespacedCustomObject(
        this.ref(namespace, name),
      )) as ArgoRollout;
      this.cache.rollouts.observe(ro);
      return ro;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw unavailable(e, `Rollout ${namespace}/${name}`);
    }
  }

  /** Sends an action's patches in order; a status patch the CRD does not serve falls back. */
  async send(ro: ArgoRollout, patches: ArgoPatch[]): Promise<ArgoRollout> {
    const namespace = ro.metadata!.namespace!;
    const name = ro.metadata!.name!;
    const what = `Rollout ${namespace}/${name}`;
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    let latest = ro;
    let fellBack = false;
    for (const patch of patches) {
      try {
        if (patch.target === 'status') {
          try {
            latest = (await this.cache.custom.patchNamespacedCustomObjectStatus(
              { ...this.ref(namespace, name), body: patch.body },
              merge,
            )) as ArgoRollout;
          } catch (e) {
            if (statusOf(e) !== 404) throw e;
            // No status subresource (Argo Rollouts before v0.10): status lives in the main resource.
            fellBack = true;
            latest = (await this.cache.custom.patchNamespacedCustomObject(
              { ...this.ref(namespace, name), body: patch.fallback },
              merge,
            )) as ArgoRollout;
          }
        } else if (patch.target === 'rollout') {
          if (patch.unlessFallback && fellBack) continue;
          latest = (await this.cache.custom.patchNamespacedCustomObject(
            { ...this.ref(namespace, name), body: patch.body },
            merge,
          )) as ArgoRollout;
        } else if (patch.target === 'rollout-template') {
          latest = (await this.cache.custom.patchNamespacedCustomObject(
            { ...this.ref(namespace, name), body: patch.body },
            json,
          )) as ArgoRollout;
        } else if (patch.target === 'workload-template') {
          await this.patchWorkload(namespace, patch.workload, patch.body);
        }
      } catch (e) {
        if (statusOf(e) === 404)
          throw new NotFoundError(`${what} no longer exists`);
        throw unavailable(e, what);
      }
    }
    this.cache.rollouts.observe(latest);
    return latest;
  }

  /** Undo of a Rollout whose template lives in a Deployment (`workloadRef`): the Deployment changes. */
  private async patchWorkload(
    namespace: string,
    workload: { kind: string; name: string },
    body: TemplatePatch,
  ) {
    if (workload.kind !== 'Deployment') {
      throw new ConflictError(
        `Rolling back through a ${workload.kind} workloadRef is not supported; only Deployments`,
      );
    }
    const d: V1Deployment = await this.cache.apps.patchNamespacedDeployment(
      { namespace, name: workload.name, body },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    this.cache.deployments.observe(d);
  }
}
