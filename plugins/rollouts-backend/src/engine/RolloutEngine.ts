import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  AllowedAction,
  KUBERNETES_NAMESPACE_ANNOTATION,
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
  RolloutAction,
  RolloutStrategy,
  RolloutView,
  WorkloadBinding,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { ClusterCache, WatchedKind } from '../cache/ClusterCache';
import { RolloutCluster } from '../clusters/clusters';
import { StaleWriteError, WorkloadClient } from '../clusters/WorkloadClient';
import { BlueGreenStrategy } from '../strategies/BlueGreenStrategy';
import { CanaryStrategy } from '../strategies/CanaryStrategy';
import { RollingUpdateStrategy } from '../strategies/RollingUpdateStrategy';
import { SquattedObjectError, clone } from '../strategies/kube';
import { RolloutState, readState, writeState } from '../strategies/state';
import {
  ActionInput,
  RolloutStrategyHandler,
  StrategyContext,
  Transition,
} from '../strategies/types';
import { WorkloadSelector, workloadSelectorFor } from './selectors';
import { ReconcileQueue } from './ReconcileQueue';
import { bindingOf } from './binding';
import { ArgoRolloutsHandler } from '../argo/ArgoRolloutsHandler';
import { ArgoRollout } from '../argo/types';
import { TrafficRoutingError } from '../strategies/traffic/gatewayApi';
import { MetricsQuerier, PrometheusClient } from '../analysis/PrometheusClient';

/** Something the engine did on its own or for a user, for history, signals and notifications. */
export interface RolloutEvent {
  entityRef: string;
  cluster: string;
  namespace: string;
  workload: string;
  action: string;
  actor: string;
  phase: string;
  message?: string;
  stepIndex: number;
  revision: number;
  image?: string;
  notify?: Transition['notify'];
}

export interface RolloutEngineListener {
  /** An engine-made transition (actor `system`). */
  onSystemEvent(event: RolloutEvent): Promise<void>;
  /** Any written state change, user or system. */
  onStateChange(event: RolloutEvent): Promise<void>;
}

export interface ClusterHandle {
  cluster: { name: string };
  /** The cluster's Prometheus, for analysis; absent when none is configured. */
  prometheus?: MetricsQuerier;
  cache: ClusterCache;
  client: WorkloadClient;
}

/** A workload as the cluster shows it, before anyone's permissions are applied. */
export interface WorkloadView {
  view: Omit<RolloutView, 'allowedActions'>;
  /** What the rollout's phase allows (empty when the workload is not bound to the entity). */
  possible: AllowedAction[];
}

export interface ActionResult extends WorkloadView {
  /** The view the action was aimed at (for history: step and revision). */
  before: { stepIndex: number; revision: number; image?: string };
}

/**
 * The workload an action is aimed at, and what the cluster says of its entity: a Deployment the
 * engine drives, or an Argo Rollout that Argo's controller drives.
 */
export type LocatedWorkload =
  | {
      kind?: 'deployment';
      handle: ClusterHandle;
      primary: V1Deployment;
      binding: WorkloadBinding;
    }
  | {
      kind: 'argo-rollout';
      handle: ClusterHandle;
      primary: ArgoRollout;
      binding: WorkloadBinding;
    };

const SYNC_TIMEOUT_MS = 10_000;

/**
 * Runs rollouts: reads views from the per-cluster caches, applies actions as guarded state
 * transitions, and reconciles the clusters towards each rollout's state.
 */
export class RolloutEngine {
  private readonly clusters = new Map<string, ClusterHandle>();
  private readonly strategies: Record<RolloutStrategy, RolloutStrategyHandler> =
    {
      RollingUpdate: new RollingUpdateStrategy(),
      Canary: new CanaryStrategy(),
      BlueGreen: new BlueGreenStrategy(),
    };
  private readonly argo = new ArgoRolloutsHandler();
  private listener?: RolloutEngineListener;
  private readonly queue = new ReconcileQueue(key => this.reconcileKey(key));
  /** The view last announced to each managed rollout's pages (see announceIfShownChanged), by key. */
  private readonly announced = new Map<string, string>();

  /**
   * An engine over the configured clusters, each with its own watch-fed cache whose changes
   * reconcile the rollout they belong to.
   */
  static fromClusters(
    clusters: RolloutCluster[],
    logger: LoggerService,
    defaults: { unreadyThresholdMs: number },
  ) {
    let engine: RolloutEngine | undefined = undefined;
    const handles = clusters.map(cluster => {
      const cache = new ClusterCache(cluster, logger, (kind, obj) =>
        engine?.changed(cluster.name, kind, obj),
      );
      return {
        cluster,
        cache,
        client: new WorkloadClient(cache),
        prometheus: cluster.prometheusUrl
          ? new PrometheusClient(cluster.prometheusUrl)
          : undefined,
      };
    });
    engine = new RolloutEngine(handles, logger, defaults);
    return engine;
  }

  constructor(
    handles: ClusterHandle[],
    private readonly logger: LoggerService,
    private readonly defaults: { unreadyThresholdMs: number },
  ) {
    for (const handle of handles) {
      this.clusters.set(handle.cluster.name, handle);
    }
  }

  setListener(listener: RolloutEngineListener) {
    this.listener = listener;
  }

  clusterNames() {
    return [...this.clusters.keys()];
  }

  async stop() {
    await this.queue.stop();
    await Promise.all([...this.clusters.values()].map(c => c.cache.stop()));
  }

  /**
   * Told of every change a cluster's watches report: queues a reconcile of the rollout the object
   * belongs to (its primary Deployment), when the engine manages one there.
   */
  changed(clusterName: string, kind: WatchedKind, obj: KubernetesObject) {
    const handle = this.clusters.get(clusterName);
    const namespace = obj.metadata?.namespace;
    if (handle && kind === 'rollouts') {
      // Argo's controller moves it; the pages showing it only need to hear of it.
      const event = this.argo.changeOf(handle, obj as ArgoRollout);
      if (event) this.listener?.onStateChange(event).catch(() => {});
      return;
    }
    if (!handle || !namespace || kind === 'services' || kind === 'namespaces')
      return;
    if (kind === 'httproutes') {
      // A route's weights or its Gateway's verdict changed: the canaries that route through it.
      for (const d of handle.cache.deployments.list(namespace)) {
        const a = d.metadata?.annotations;
        if (
          a?.[ROLLOUT_ANNOTATIONS.httpRoute] === obj.metadata?.name &&
          a?.[ROLLOUT_ANNOTATIONS.state]
        ) {
          this.queue.add(this.keyOf(clusterName, namespace, d.metadata!.name!));
        }
      }
      return;
    }
    const name = this.primaryNameOf(handle, kind, obj);
    if (!name) return;
    const primary = handle.cache.deployments.get(namespace, name);
    if (!primary?.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.state]) return;
    this.queue.add(this.keyOf(clusterName, namespace, name));
  }

  /** The primary Deployment a Deployment, ReplicaSet or Pod belongs to, from labels and owners. */
  private primaryNameOf(
    handle: ClusterHandle,
    kind: WatchedKind,
    obj: KubernetesObject,
  ): string | undefined {
    const owner = obj.metadata?.labels?.[ROLLOUT_LABELS.owner];
    if (owner) return owner;
    const controller = (obj.metadata?.ownerReferences ?? []).find(
      o => o.controller,
    );
    if (kind === 'deployments') return obj.metadata?.name;
    if (kind === 'replicasets') {
      if (controller?.kind !== 'Deployment') return undefined;
      const d = handle.cache.deployments.get(
        obj.metadata!.namespace!,
        controller.name,
      );
      return d?.metadata?.labels?.[ROLLOUT_LABELS.owner] ?? controller.name;
    }
    if (kind === 'pods' && controller?.kind === 'ReplicaSet') {
      const rs = handle.cache.replicaSets.get(
        obj.metadata!.namespace!,
        controller.name,
      );
      return rs ? this.primaryNameOf(handle, 'replicasets', rs) : undefined;
    }
    return undefined;
  }

  private async reconcileKey(key: string) {
    const [clusterName, namespace, name] = JSON.parse(key) as string[];
    const handle = this.clusters.get(clusterName);
    const primary = handle?.cache.deployments.get(namespace, name);
    if (handle && primary) await this.reconcileLogged(handle, primary);
    if (handle) await this.announceIfShownChanged(handle, namespace, name);
  }

  /**
   * The change that queued this key (a pod turning unready, a ReplicaSet or the canary Deployment
   * scaling, a route's weights) may have changed what the entity's pages show with no state
   * change of the rollout, which is all `emitChange` announces: pages would see it only at their
   * next poll (3 s while progressing, 10 s while paused). So the view is compared with the one
   * last announced, and a difference is announced as a `cluster` change.
   */
  private async announceIfShownChanged(
    handle: ClusterHandle,
    namespace: string,
    name: string,
  ) {
    const key = this.keyOf(handle.cluster.name, namespace, name);
    const latest = handle.cache.deployments.get(namespace, name);
    const state = latest ? readState(latest) : undefined;
    if (!latest || !state?.entityRef) {
      this.announced.delete(key);
      return;
    }
    const shown = this.shownOf(handle, latest);
    if (this.announced.get(key) === shown) return;
    this.announced.set(key, shown);
    if (!this.listener) return;
    try {
      await this.listener.onStateChange({
        entityRef: state.entityRef,
        cluster: handle.cluster.name,
        namespace,
        workload: name,
        action: 'cluster',
        actor: 'system',
        phase: state.phase,
        message: state.message,
        stepIndex: state.stepIndex,
        revision: state.revision,
        image: state.targetImage ?? state.stableImage,
      });
    } catch (e) {
      this.logger.warn(`Publishing a cluster change of ${name} failed: ${e}`);
    }
  }

  /** What the entity's pages show of one workload, as a string to compare. */
  private shownOf(handle: ClusterHandle, primary: V1Deployment): string {
    return JSON.stringify(
      this.strategyOf(primary).view(this.context(handle, primary)),
    );
  }

  /** Reconciles one workload; failures are logged, and the next change or pass tries again. */
  private async reconcileLogged(handle: ClusterHandle, primary: V1Deployment) {
    try {
      await this.reconcileWorkload(handle, primary);
    } catch (e) {
      // Losing every race in a row is not worth a warning: somebody else moved the rollout.
      if (!(e instanceof StaleWriteError)) {
        this.logger.warn(
          `Reconcile of ${handle.cluster.name}/${primary.metadata?.namespace}/${primary.metadata?.name} failed: ${e}`,
        );
      }
    }
  }

  private async synced(handle: ClusterHandle) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      handle.cache.synced(),
      new Promise<void>(resolve => {
        timer = setTimeout(resolve, SYNC_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  strategyOf(d: V1Deployment): RolloutStrategyHandler {
    const declared = d.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.strategy];
    if (declared === 'Canary' || declared === 'BlueGreen') {
      return this.strategies[declared];
    }
    return this.strategies.RollingUpdate;
  }

  private context(
    handle: ClusterHandle,
    primary: V1Deployment,
  ): StrategyContext {
    const key = this.keyOf(
      handle.cluster.name,
      primary.metadata!.namespace!,
      primary.metadata!.name!,
    );
    return {
      cache: handle.cache,
      client: handle.client,
      primary,
      state: readState(primary),
      now: new Date(),
      defaults: this.defaults,
      analysis: {
        clusterName: handle.cluster.name,
        prometheus: handle.prometheus,
      },
      // Slightly late rather than early: the step then finds its time elapsed on the first try.
      requeueAfter: ms => this.queue.addAfter(key, ms + 20),
    };
  }

  private keyOf(cluster: string, namespace: string, name: string) {
    return JSON.stringify([cluster, namespace, name]);
  }

  /** The entity's primary Deployments in one cluster (engine-made canary/preview ones excluded). */
  private primaries(handle: ClusterHandle, selector: WorkloadSelector) {
    return handle.cache.deployments
      .list(selector.namespace)
      .filter(d => !d.metadata?.labels?.[ROLLOUT_LABELS.owner])
      .filter(d => selector.matches(d.metadata?.labels))
      .sort((a, b) =>
        `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
          `${b.metadata?.namespace}/${b.metadata?.name}`,
          'en',
        ),
      );
  }

  /** What the cluster says of the workload's entity (its own annotation, or its namespace's). */
  bindingOf(handle: ClusterHandle, primary: V1Deployment, entity: Entity) {
    return bindingOf(
      primary,
      handle.cache.namespaces.get('', primary.metadata!.namespace!),
      stringifyEntityRef(entity),
    );
  }

  /** Views of every workload of the entity in every cluster, from the caches only. */
  async views(entity: Entity): Promise<WorkloadView[]> {
    const selector = workloadSelectorFor(entity);
    if (!selector) return [];
    const views: WorkloadView[] = [];
    for (const handle of this.clusters.values()) {
      await this.synced(handle);
      for (const primary of this.primaries(handle, selector)) {
        views.push(this.workloadView(handle, primary, entity));
      }
      views.push(...this.argo.views(handle, selector, entity));
    }
    return views;
  }

  /** One workload's view; nothing is possible on a workload the cluster does not bind to the entity. */
  private workloadView(
    handle: ClusterHandle,
    primary: V1Deployment,
    entity: Entity,
  ): WorkloadView {
    const ctx = this.context(handle, primary);
    const strategy = this.strategyOf(primary);
    const binding = this.bindingOf(handle, primary, entity);
    const view = {
      ...strategy.view(ctx),
      cluster: handle.cluster.name,
      binding,
    };
    return {
      view,
      possible:
        binding.status === 'bound' ? strategy.phaseActions(ctx, view) : [],
    };
  }

  /**
   * Finds the workload an action is aimed at, from the cache, with its binding: 404 for an unknown
   * cluster or workload, 400 for an entity that does not say its namespace (an action needs one
   * place to look, not every namespace of the cluster).
   */
  async locate(
    entity: Entity,
    clusterName: string,
    workload?: string,
  ): Promise<LocatedWorkload> {
    const handle = this.clusters.get(clusterName);
    if (!handle) {
      throw new NotFoundError(`Unknown cluster "${clusterName}"`);
    }
    const selector = workloadSelectorFor(entity);
    if (!selector) {
      throw new NotFoundError(
        `${stringifyEntityRef(
          entity,
        )} has no backstage.io/kubernetes-id or backstage.io/kubernetes-label-selector annotation`,
      );
    }
    if (!selector.namespace) {
      throw new InputError(
        `${stringifyEntityRef(
          entity,
        )} needs the ${KUBERNETES_NAMESPACE_ANNOTATION} annotation to act on its rollouts: actions are taken in one namespace`,
      );
    }
    await this.synced(handle);
    const candidates: LocatedWorkload[] = [
      ...this.primaries(handle, selector).map(primary => ({
        handle,
        primary,
        binding: this.bindingOf(handle, primary, entity),
      })),
      ...this.argo.rollouts(handle, selector).map(primary => ({
        kind: 'argo-rollout' as const,
        handle,
        primary,
        binding: this.argo.bindingOf(handle, primary, entity),
      })),
    ];
    if (workload) {
      const found = candidates.find(c => c.primary.metadata?.name === workload);
      if (!found) {
        throw new NotFoundError(
          `No workload "${workload}" of ${stringifyEntityRef(
            entity,
          )} in cluster ${clusterName}`,
        );
      }
      return found;
    }
    if (candidates.length === 0) {
      throw new NotFoundError(
        `No workload of ${stringifyEntityRef(
          entity,
        )} in cluster ${clusterName}`,
      );
    }
    if (candidates.length > 1) {
      throw new InputError(
        `${stringifyEntityRef(
          entity,
        )} has several workloads in ${clusterName} (${candidates
          .map(c => c.primary.metadata?.name)
          .join(', ')}): say which one in "workload"`,
      );
    }
    return candidates[0];
  }

  /**
   * Applies a user action (or a start) on a located workload as one state transition written with
   * the Deployment's resourceVersion. A lost race re-reads the Deployment; if the rollout moved on
   * meanwhile the action is refused with 409 instead of being applied twice. The binding is checked
   * again on every fresh read: a workload that stopped naming the entity is not acted on.
   */
  async act(options: {
    entity: Entity;
    located: LocatedWorkload;
    action: RolloutAction | 'start';
    image?: string;
    input: ActionInput;
    expected: { stepIndex?: number; revision?: number };
    actor: string;
  }): Promise<ActionResult> {
    if (options.located.kind === 'argo-rollout') {
      // Argo's controller drives it: the engine only sends the kubectl plugin's patches.
      return this.argo.act({
        ...options,
        handle: options.located.handle,
        rollout: options.located.primary,
      });
    }
    const entityRef = stringifyEntityRef(options.entity);
    const { handle, primary: located } = options.located;
    const ns = located.metadata!.namespace!;
    const name = located.metadata!.name!;
    let expected = { ...options.expected };
    let firstPhase: string | undefined;
    let before: ActionResult['before'] | undefined;

    for (let attempt = 0; attempt < 5; attempt++) {
      const fresh = await handle.client.readDeployment(ns, name);
      if (!fresh)
        throw new NotFoundError(`Workload ${ns}/${name} no longer exists`);
      const binding = this.bindingOf(handle, fresh, options.entity);
      if (binding.status !== 'bound')
        throw new NotAllowedError(binding.message);
      const ctx = this.context(handle, fresh);
      const strategy = this.strategyOf(fresh);
      const view = strategy.view(ctx);
      // A rolling update's phase and step follow the Deployment status, which the controller
      // rewrites all the time; what the caller aimed at there is the revision.
      const statusDriven = strategy.name === 'RollingUpdate';
      if (
        (expected.stepIndex !== undefined &&
          !(statusDriven && options.expected.stepIndex === undefined) &&
          expected.stepIndex !== view.step.index) ||
        (expected.revision !== undefined &&
          expected.revision !== view.revision) ||
        (!statusDriven && firstPhase !== undefined && firstPhase !== view.phase)
      ) {
        throw new ConflictError('The rollout moved on since you looked');
      }
      if (attempt === 0) {
        expected = {
          stepIndex: expected.stepIndex ?? view.step.index,
          revision: expected.revision ?? view.revision,
        };
        firstPhase = view.phase;
        before = {
          stepIndex: view.step.index,
          revision: view.revision,
          image: view.targetImage ?? view.stableImage,
        };
      }
      const possible = strategy.phaseActions(ctx, view);
      if (!possible.includes(options.action)) {
        throw new ConflictError(
          `Cannot ${options.action} ${name}: the rollout is ${view.phase}${
            possible.length ? ` (possible: ${possible.join(', ')})` : ''
          }`,
        );
      }
      const transition =
        options.action === 'start'
          ? strategy.start(ctx, options.image!)
          : strategy.act(ctx, options.action, options.input);
      let written: V1Deployment;
      try {
        written = await this.write(handle, fresh, transition, entityRef);
      } catch (e) {
        if (e instanceof StaleWriteError) continue;
        throw e;
      }
      await this.emitChange(
        handle,
        written,
        options.action,
        options.actor,
        transition,
      );
      // Start the side effects at once; a lost race here is fine, the scheduled pass retries.
      await this.reconcileWorkload(handle, written).catch(e => {
        if (!(e instanceof StaleWriteError)) {
          this.logger.warn(
            `Reconcile of ${ns}/${name} after ${options.action} failed: ${e}`,
          );
        }
      });
      const latest = handle.cache.deployments.get(ns, name) ?? written;
      return {
        ...this.workloadView(handle, latest, options.entity),
        before: before!,
      };
    }
    throw new ConflictError('The rollout moved on since you looked');
  }

  private async write(
    handle: ClusterHandle,
    primary: V1Deployment,
    transition: Transition,
    entityRef?: string,
  ) {
    const body = clone(primary);
    transition.mutate?.(body);
    const state: RolloutState = {
      ...transition.state,
      entityRef: entityRef ?? transition.state.entityRef,
    };
    writeState(body, state);
    return handle.client.replaceDeployment(body);
  }

  private async emitChange(
    handle: ClusterHandle,
    written: V1Deployment,
    action: string,
    actor: string,
    transition: Transition,
  ) {
    const state = readState(written);
    if (!state?.entityRef || !this.listener) return;
    const event: RolloutEvent = {
      entityRef: state.entityRef,
      cluster: handle.cluster.name,
      namespace: written.metadata!.namespace!,
      workload: written.metadata!.name!,
      action,
      actor,
      phase: state.phase,
      message: transition.message ?? state.message,
      stepIndex: state.stepIndex,
      revision: state.revision,
      image: state.targetImage ?? state.stableImage,
      notify: transition.notify,
    };
    // This announcement covers the view as written: the watch event of the write says nothing new.
    this.announced.set(
      this.keyOf(handle.cluster.name, event.namespace, event.workload),
      this.shownOf(handle, written),
    );
    try {
      if (actor === 'system' && transition.event) {
        await this.listener.onSystemEvent(event);
      }
      await this.listener.onStateChange(event);
    } catch (e) {
      this.logger.warn(
        `Publishing ${action} of ${event.workload} failed: ${e}`,
      );
    }
  }

  /**
   * One pass over every rollout the engine manages (Deployments carrying its state annotation).
   * Run by a scheduler task with global scope; safe to run concurrently anyway, because every
   * state change is guarded by resourceVersion and every side effect is idempotent.
   */
  async reconcileAll(): Promise<void> {
    for (const handle of this.clusters.values()) {
      await this.synced(handle);
      const managed = handle.cache.deployments
        .list()
        .filter(d => !d.metadata?.labels?.[ROLLOUT_LABELS.owner])
        .filter(d => d.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.state]);
      for (const d of managed) await this.reconcileLogged(handle, d);
    }
  }

  /**
   * Reconciles one workload until it stops moving (a few transitions at most per pass). A
   * transition is written onto the very version it was computed from; when that write loses the
   * resourceVersion race (the Deployment controller updates status all the time), the Deployment is
   * read again and the transition computed anew in the same pass, instead of a pass later.
   */
  private async reconcileWorkload(
    handle: ClusterHandle,
    primary: V1Deployment,
  ) {
    const namespace = primary.metadata!.namespace!;
    const name = primary.metadata!.name!;
    let current = primary;
    for (let i = 0; i < 5; i++) {
      const ctx = this.context(handle, current);
      if (!ctx.state) return;
      const transition = await this.strategyOf(current)
        .reconcile(ctx)
        .catch(e => squatted(ctx.state!, ctx.now, e));
      if (!transition) return;
      try {
        current = await this.write(handle, ctx.primary, transition);
      } catch (e) {
        if (!(e instanceof StaleWriteError)) throw e;
        const fresh = await handle.client.readDeployment(namespace, name);
        if (!fresh) return;
        current = fresh;
        continue;
      }
      for (const row of transition.events ?? []) {
        await this.emitChange(handle, current, row.event, 'system', {
          ...transition,
          ...row,
          notify: undefined,
        });
      }
      if (transition.event) {
        await this.emitChange(
          handle,
          current,
          transition.event,
          'system',
          transition,
        );
      }
    }
  }
}

/**
 * A running rollout whose companion's name, Service or HTTPRoute belongs to somebody else, or
 * whose traffic route does not fit its declaration, stops as Degraded with the reason (once), so
 * its owners see it and can abort; nothing is overwritten.
 */
function squatted(
  state: RolloutState,
  now: Date,
  error: unknown,
): Transition | undefined {
  if (
    !(error instanceof SquattedObjectError) &&
    !(error instanceof TrafficRoutingError)
  )
    throw error;
  if (state.phase === 'Degraded' && state.message === error.message) {
    return undefined;
  }
  return {
    state: {
      ...state,
      phase: 'Degraded',
      message: error.message,
      updatedAt: now.toISOString(),
    },
    event: 'degraded',
    message: error.message,
    notify: 'degraded',
  };
}
