import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  RolloutAction,
  WorkloadBinding,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { bindingOf, boundEntityOf } from '../engine/binding';
import { WorkloadSelector } from '../engine/selectors';
import type {
  ActionResult,
  ClusterHandle,
  RolloutEvent,
  WorkloadView,
} from '../engine/RolloutEngine';
import { ActionInput } from '../strategies/types';
import { ArgoRolloutsClient } from './ArgoRolloutsClient';
import { patchesFor } from './patches';
import { ArgoRollout } from './types';
import { argoPhaseActions, argoRolloutView } from './view';

/**
 * Argo Rollouts' Rollouts of an entity: found like its Deployments (the same selector, the same
 * cluster-side binding), shown from the watch-fed cache, and driven only by the patches the
 * kubectl-argo-rollouts plugin sends. Argo's controller moves them; this never reconciles them.
 */
export class ArgoRolloutsHandler {
  private readonly clients = new WeakMap<ClusterHandle, ArgoRolloutsClient>();
  /** Phase, step and revision last announced per Rollout, so a signal goes out only when they change. */
  private readonly announced = new Map<string, string>();

  /**
   * What to announce (a signal to the bound entity's pages) when a watched Rollout changed its
   * phase, step or revision; Argo's controller rewrites status often, most of it is not news.
   */
  changeOf(handle: ClusterHandle, ro: ArgoRollout): RolloutEvent | undefined {
    const namespace = ro.metadata?.namespace ?? '';
    const name = ro.metadata?.name ?? '';
    const key = `${handle.cluster.name}/${namespace}/${name}`;
    const entityRef = boundEntityOf(
      ro,
      handle.cache.namespaces.get('', namespace),
    );
    if (!entityRef) return undefined;
    const view = argoRolloutView(
      ro,
      handle.cache.replicaSets.ownedBy(ro.metadata?.uid ?? ''),
    );
    const summary = `${view.phase}|${view.step.index}|${view.revision}`;
    if (this.announced.get(key) === summary) return undefined;
    this.announced.set(key, summary);
    return {
      entityRef,
      cluster: handle.cluster.name,
      namespace,
      workload: name,
      action: 'argo-rollouts',
      actor: 'system',
      phase: view.phase,
      message: view.message,
      stepIndex: view.step.index,
      revision: view.revision,
      image: view.targetImage ?? view.stableImage,
    };
  }

  private client(handle: ClusterHandle) {
    let client = this.clients.get(handle);
    if (!client) {
      client = new ArgoRolloutsClient(handle.cache);
      this.clients.set(handle, client);
    }
    return client;
  }

  /** The entity's Rollouts in one cluster, by name. */
  rollouts(handle: ClusterHandle, selector: WorkloadSelector): ArgoRollout[] {
    return handle.cache.rollouts
      .list(selector.namespace)
      .filter(ro => selector.matches(ro.metadata?.labels))
      .sort((a, b) =>
        `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
          `${b.metadata?.namespace}/${b.metadata?.name}`,
          'en',
        ),
      );
  }

  bindingOf(
    handle: ClusterHandle,
    ro: ArgoRollout,
    entity: Entity,
  ): WorkloadBinding {
    return bindingOf(
      ro,
      handle.cache.namespaces.get('', ro.metadata!.namespace!),
      stringifyEntityRef(entity),
    );
  }

  /** One Rollout's view; nothing is possible on a Rollout the cluster does not bind to the entity. */
  view(handle: ClusterHandle, ro: ArgoRollout, entity: Entity): WorkloadView {
    const owned = handle.cache.replicaSets.ownedBy(ro.metadata?.uid ?? '');
    const binding = this.bindingOf(handle, ro, entity);
    return {
      view: {
        ...argoRolloutView(ro, owned),
        cluster: handle.cluster.name,
        binding,
      },
      possible: binding.status === 'bound' ? argoPhaseActions(ro, owned) : [],
    };
  }

  views(
    handle: ClusterHandle,
    selector: WorkloadSelector,
    entity: Entity,
  ): WorkloadView[] {
    return this.rollouts(handle, selector).map(ro =>
      this.view(handle, ro, entity),
    );
  }

  /**
   * Sends an action's patches to a Rollout read fresh from the API server, after the same checks
   * as the engine's own rollouts: still bound to the entity (403), the step and revision the caller
   * saw (409), an action the state allows (409).
   */
  async act(options: {
    entity: Entity;
    handle: ClusterHandle;
    rollout: ArgoRollout;
    action: RolloutAction | 'start';
    input: ActionInput;
    expected: { stepIndex?: number; revision?: number };
  }): Promise<ActionResult> {
    const { handle, entity, action } = options;
    const ns = options.rollout.metadata!.namespace!;
    const name = options.rollout.metadata!.name!;
    const client = this.client(handle);
    const fresh = await client.read(ns, name);
    if (!fresh)
      throw new NotFoundError(`Rollout ${ns}/${name} no longer exists`);
    const binding = this.bindingOf(handle, fresh, entity);
    if (binding.status !== 'bound') throw new NotAllowedError(binding.message);
    if (action === 'start') {
      throw new ConflictError(
        `${name} is delivered by Argo Rollouts: start a rollout by changing its image in Git (or with kubectl argo rollouts set image)`,
      );
    }
    const owned = handle.cache.replicaSets.ownedBy(fresh.metadata?.uid ?? '');
    const view = argoRolloutView(fresh, owned);
    const { expected } = options;
    if (
      (expected.stepIndex !== undefined &&
        expected.stepIndex !== view.step.index) ||
      (expected.revision !== undefined && expected.revision !== view.revision)
    ) {
      throw new ConflictError('The rollout moved on since you looked');
    }
    const patches = patchesFor(fresh, action, owned, {
      toRevision: options.input.toRevision,
      now: new Date(),
    });
    const possible = argoPhaseActions(fresh, owned);
    if (!possible.includes(action)) {
      throw new ConflictError(
        `Cannot ${action} ${name}: the rollout is ${view.phase}${
          possible.length ? ` (possible: ${possible.join(', ')})` : ''
        }`,
      );
    }
    const latest = await client.send(fresh, patches);
    return {
      ...this.view(handle, latest, entity),
      before: {
        stepIndex: view.step.index,
        revision: view.revision,
        image: view.targetImage ?? view.stableImage,
      },
    };
  }
}
