import { ConflictError } from '@backstage/errors';
import {
  AllowedAction,
  CanaryStep,
  ROLLOUT_ANNOTATIONS,
  RevisionView,
  RolloutAction,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  clone,
  companionDeployment,
  ownCompanionOf,
  currentReplicaSet,
  SquattedObjectError,
  deploymentComplete,
  deploymentDeadlineExceeded,
  imageOf,
  nextRevisionOf,
  podCrashLooping,
  podReady,
  podsOf,
  replicaSetsOf,
  revisionOf,
  setImage,
} from './kube';
import {
  RolloutState,
  nextState,
  parseDuration,
  stateViewFields,
} from './state';
import {
  ActionInput,
  RolloutStrategyHandler,
  RolloutViewBase,
  StrategyContext,
  Transition,
} from './types';
import { applyRestart, applyUndo, undoTarget } from './undo';
import { boundEntityOf } from '../engine/binding';
import { requireRouteOwner } from '../clusters/WorkloadClient';
import {
  GatewayRouteConfig,
  HttpRoute,
  TrafficRoutingError,
  canaryPercent,
  canarySelector,
  checkStableService,
  gatewayRouteOf,
  routeAcceptance,
  routeName,
  routeWeights,
  routedCanaryReplicas,
  trafficRouteView,
} from './traffic/gatewayApi';
import { AnalysisOutcome, runAnalysis } from '../analysis/runAnalysis';
import { restartedRun } from '../analysis/verdict';
import { analysisOf } from '../analysis/view';

/**
 * Parsed steps annotations by their text: views read them on every status request, and a YAML
 * parse costs more than the rest of a view. Bounded by the few distinct texts a fleet has.
 */
const parsedSteps = new Map<string, unknown>();

function parseSteps(raw: string): unknown {
  if (parsedSteps.has(raw)) return parsedSteps.get(raw);
  let parsed: unknown;
  try {
    parsed = parseYaml(raw);
  } catch {
    parsed = undefined;
  }
  if (parsedSteps.size >= 1000) parsedSteps.clear();
  parsedSteps.set(raw, parsed);
  return parsed;
}

/** Reads the steps annotation (JSON or YAML, Argo Rollouts' vocabulary); invalid entries are dropped. */
export function readCanarySteps(d: V1Deployment): CanaryStep[] {
  const raw = d.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.canarySteps];
  if (!raw)
    return [
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: { duration: '30s' } },
    ];
  const parsed = parseSteps(raw);
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((s): CanaryStep[] => {
    if (s && typeof s.setWeight === 'number') {
      return [{ setWeight: Math.max(0, Math.min(100, s.setWeight)) }];
    }
    if (s && typeof s.pause === 'object') {
      const duration = s.pause?.duration;
      return [
        { pause: duration !== undefined ? { duration: String(duration) } : {} },
      ];
    }
    return [];
  });
}

/** The traffic weight in effect at a step: the last `setWeight` at or before it. */
export function weightAt(steps: CanaryStep[], index: number): number {
  if (index >= steps.length) return 100;
  let weight = 0;
  for (let i = 0; i <= index; i++) {
    const s = steps[i];
    if ('setWeight' in s) weight = s.setWeight;
  }
  return weight;
}

/** Canary replicas for a weight: round(total * w / 100), at least one for any weight above zero. */
export function canaryReplicasFor(total: number, weight: number) {
  if (weight <= 0) return 0;
  return Math.min(total, Math.max(1, Math.round((total * weight) / 100)));
}

export const canaryName = (primary: string) => `${primary}-canary`;

const IN_FLIGHT = ['Progressing', 'Paused', 'Degraded'];

/**
 * Canary on plain Deployments: `<name>` stays the stable version, `<name>-canary` runs the new
 * image. Without a traffic router both sit behind the same Service and traffic weight is the ratio
 * of their replicas; through the Gateway API (the Deployment names an HTTPRoute) the route's rule
 * splits the traffic between a stable and a canary Service exactly, and the canary is only scaled
 * to carry its share.
 */
export class CanaryStrategy implements RolloutStrategyHandler {
  readonly name = 'Canary' as const;

  /**
   * The engine's own canary Deployment. A squatter of its name is left alone: views and tidying up
   * ignore it, and a running canary stops with SquattedObjectError (`strict`).
   */
  private canary(ctx: StrategyContext, strict = false) {
    return ownCompanionOf(
      ctx.cache,
      ctx.primary,
      'canary',
      canaryName(ctx.primary.metadata!.name!),
      { ignoreSquatter: !strict },
    );
  }

  private inFlight(
    state?: RolloutState,
  ): state is RolloutState & { targetImage: string } {
    return !!state && IN_FLIGHT.includes(state.phase) && !!state.targetImage;
  }

  view(ctx: StrategyContext): RolloutViewBase {
    const d = ctx.primary;
    const steps = readCanarySteps(d);
    const state = ctx.state;
    const canary = this.canary(ctx);
    const inFlight = this.inFlight(state);
    const stableReady = d.status?.readyReplicas ?? 0;
    const canaryReady = canary?.status?.readyReplicas ?? 0;
    const revisions: RevisionView[] = [];
    const stableRs = currentReplicaSet(ctx.cache, d);
    revisions.push({
      revision: revisionOf(stableRs ?? d),
      image: imageOf(d.spec?.template),
      role: 'stable',
      replicas: d.status?.replicas ?? 0,
      ready: stableReady,
    });
    if (canary) {
      revisions.push({
        revision: nextRevisionOf(ctx.cache, d),
        image: imageOf(canary.spec?.template),
        role: 'canary',
        replicas: canary.status?.replicas ?? 0,
        ready: canaryReady,
      });
    }
    let phase = state?.phase ?? 'Healthy';
    let message = state?.message ?? `Stable: ${imageOf(d.spec?.template)}`;
    if (!inFlight && phase === 'Healthy' && deploymentDeadlineExceeded(d)) {
      phase = 'Degraded';
      message = 'Progress deadline exceeded on the stable Deployment';
    }
    const index = state
      ? Math.min(state.stepIndex, steps.length)
      : steps.length;
    const traffic = trafficRouteView(d, (ns, name) =>
      ctx.cache.httpRoutes.get(ns, name),
    );
    return {
      namespace: d.metadata!.namespace!,
      workload: d.metadata!.name!,
      strategy: this.name,
      phase,
      message,
      step: {
        index: inFlight || phase === 'Aborted' ? index : steps.length,
        total: steps.length,
      },
      steps,
      weight: traffic
        ? {
            desired: inFlight ? weightAt(steps, state.stepIndex) : 0,
            // What the route in the cluster says, not what the engine meant to write.
            actual: traffic.weights ? canaryPercent(traffic.weights) : 0,
            method: 'gateway-api',
          }
        : {
            desired: inFlight ? weightAt(steps, state.stepIndex) : 0,
            actual:
              stableReady + canaryReady > 0 && canary
                ? Math.round((canaryReady / (stableReady + canaryReady)) * 100)
                : 0,
            method: 'replica-ratio',
          },
      ...(traffic ? { traffic } : {}),
      ...analysisOf(d, state, inFlight),
      revisions,
      ...stateViewFields(d, state, { inFlight, phase, now: ctx.now }),
    };
  }

  phaseActions(ctx: StrategyContext, view: RolloutViewBase): AllowedAction[] {
    const undo: AllowedAction[] =
      replicaSetsOf(ctx.cache, ctx.primary).length > 1 ? ['rollback'] : [];
    switch (view.phase) {
      case 'Healthy':
        return ['start', ...undo, 'restart'];
      case 'Progressing':
        return this.finishing(ctx)
          ? ['abort']
          : ['promote', 'promote-full', 'abort', 'pause'];
      case 'Paused':
        if (ctx.state?.pause?.kind === 'traffic') return ['abort'];
        return ctx.state?.pause?.kind === 'user'
          ? ['resume', 'promote-full', 'abort']
          : ['promote', 'promote-full', 'abort'];
      case 'Degraded':
        return this.inFlight(ctx.state) ? ['abort'] : ['start', ...undo];
      case 'Aborted':
        return ['retry', 'start'];
      default:
        return [];
    }
  }

  private finishing(ctx: StrategyContext) {
    return (
      !!ctx.state && ctx.state.stepIndex >= readCanarySteps(ctx.primary).length
    );
  }

  start(ctx: StrategyContext, image: string): Transition {
    const state = ctx.state;
    if (this.inFlight(state)) {
      throw new ConflictError(
        'A canary is already in progress; abort or finish it first',
      );
    }
    // Refused before anything is written when another Deployment holds the canary's name, or the
    // route and Services it would go through are missing, misdeclared or another entity's.
    this.canary(ctx, true);
    const route = gatewayRouteOf(ctx.primary);
    if (route) this.routedObjects(ctx, route);
    if (imageOf(ctx.primary.spec?.template) === image) {
      throw new ConflictError(
        `${ctx.primary.metadata?.name} already runs ${image}`,
      );
    }
    const total =
      state?.phase === 'Aborted' && state.totalReplicas !== undefined
        ? state.totalReplicas
        : ctx.primary.spec?.replicas ?? 1;
    return {
      state: nextState(ctx, {
        phase: 'Progressing',
        revision: (state?.revision ?? 0) + 1,
        stepIndex: 0,
        targetImage: image,
        stableImage: imageOf(ctx.primary.spec?.template),
        totalReplicas: total,
        pause: undefined,
        unhealthySince: undefined,
        stepStartedAt: ctx.now.toISOString(),
        message: `Canary of ${image} started`,
      }),
    };
  }

  act(
    ctx: StrategyContext,
    action: RolloutAction,
    input: ActionInput,
  ): Transition {
    const state = ctx.state;
    const steps = readCanarySteps(ctx.primary);
    const now = ctx.now.toISOString();
    switch (action) {
      case 'promote': {
        if (!this.inFlight(state) || state.pause?.kind === 'user') break;
        const stepIndex = state.stepIndex + 1;
        return {
          state: nextState(ctx, {
            phase: 'Progressing',
            stepIndex,
            pause: undefined,
            // Carrying on past an inconclusive analysis is a person's decision: a new run begins.
            analysis:
              state.pause?.kind === 'analysis'
                ? restartedRun(state.analysis)
                : state.analysis,
            stepStartedAt: now,
            message:
              stepIndex >= steps.length
                ? 'Promoted: finishing'
                : `Promoted to step ${stepIndex + 1} of ${steps.length}`,
          }),
        };
      }
      case 'promote-full':
        if (!this.inFlight(state)) break;
        return {
          state: nextState(ctx, {
            phase: 'Progressing',
            stepIndex: steps.length,
            pause: undefined,
            stepStartedAt: now,
            message: 'Fully promoted: finishing',
          }),
        };
      case 'abort':
        if (!this.inFlight(state)) break;
        return {
          state: nextState(ctx, {
            phase: 'Aborted',
            pause: undefined,
            unhealthySince: undefined,
            message: `Aborted: ${input.reason || 'by user'}`,
          }),
          notify: 'aborted',
        };
      case 'retry':
        if (state?.phase !== 'Aborted' || !state.targetImage) break;
        return {
          state: nextState(ctx, {
            phase: 'Progressing',
            revision: state.revision + 1,
            stepIndex: 0,
            pause: undefined,
            unhealthySince: undefined,
            stepStartedAt: now,
            message: `Retrying canary of ${state.targetImage}`,
          }),
        };
      case 'pause':
        if (state?.phase !== 'Progressing' || !this.inFlight(state)) break;
        return {
          state: nextState(ctx, {
            phase: 'Paused',
            pause: {
              reason: input.reason || 'Paused by user',
              since: now,
              kind: 'user',
            },
          }),
        };
      case 'resume':
        if (state?.phase !== 'Paused' || state.pause?.kind !== 'user') break;
        return {
          state: nextState(ctx, {
            phase: 'Progressing',
            pause: undefined,
            stepStartedAt: now,
          }),
        };
      case 'rollback': {
        if (this.inFlight(state)) break;
        const target = undoTarget(ctx.cache, ctx.primary, input.toRevision);
        return {
          state: nextState(ctx, {
            phase: 'Healthy',
            message: `Rolled back to revision ${target.revision} (${target.image})`,
          }),
          mutate: d => applyUndo(d, target.template),
        };
      }
      case 'restart':
        if (this.inFlight(state)) break;
        return {
          state: nextState(ctx, {}),
          mutate: d => applyRestart(d, ctx.now),
        };
      default:
        break;
    }
    throw new ConflictError(
      `Cannot ${action} a canary that is ${state?.phase ?? 'Healthy'}`,
    );
  }

  async reconcile(ctx: StrategyContext): Promise<Transition | undefined> {
    const { primary, state, client } = ctx;
    if (!state) return undefined;
    const canary = this.canary(ctx, this.inFlight(state));

    if (!this.inFlight(state)) {
      // Aborted, finished or rolled back: all traffic on the stable (whose pods never went away),
      // then no canary, stable at its full size.
      if (!(await this.trafficBackToStable(ctx))) return undefined;
      if (canary) await client.deleteCompanion(canary);
      if (
        state.phase === 'Aborted' &&
        state.totalReplicas !== undefined &&
        primary.spec?.replicas !== state.totalReplicas
      ) {
        const body = clone(primary);
        body.spec!.replicas = state.totalReplicas;
        await client.replaceDeployment(body);
      }
      return undefined;
    }

    const steps = readCanarySteps(primary);
    const total = state.totalReplicas ?? primary.spec?.replicas ?? 1;

    const route = gatewayRouteOf(primary);
    if (route) return this.reconcileRouted(ctx, state, route, steps, total);

    if (state.stepIndex >= steps.length) {
      return this.finish(ctx, state, total);
    }

    const weight = weightAt(steps, state.stepIndex);
    const canaryReplicas = canaryReplicasFor(total, weight);
    const stableReplicas = total - canaryReplicas;
    if (
      !canary ||
      canary.spec?.replicas !== canaryReplicas ||
      imageOf(canary.spec?.template) !== state.targetImage
    ) {
      await client.applyCompanion(
        companionDeployment(primary, {
          name: canaryName(primary.metadata!.name!),
          role: 'canary',
          image: state.targetImage,
          replicas: canaryReplicas,
          keepStrategy: true,
        }),
        primary,
        'canary',
      );
    }
    if (primary.spec?.replicas !== stableReplicas) {
      const body = clone(primary);
      body.spec!.replicas = stableReplicas;
      ctx.primary = await client.replaceDeployment(body);
    }

    const gate = this.healthGate(ctx, state);
    if (gate) return gate;

    const step = steps[state.stepIndex];
    if ('setWeight' in step) {
      const current = this.canary(ctx);
      const canaryReady =
        canaryReplicas === 0 ||
        (!!current &&
          imageOf(current.spec?.template) === state.targetImage &&
          (current.status?.readyReplicas ?? 0) >= canaryReplicas);
      const stableScaled =
        (ctx.primary.status?.replicas ?? 0) <= stableReplicas;
      const moving =
        state.phase === 'Progressing' && canaryReady && stableScaled;
      const analysis = await this.analyse(ctx, state, weight, moving);
      if (analysis.transition) return analysis.transition;
      if (moving && !analysis.hold) {
        return this.nextStep(
          ctx,
          state,
          `Weight ${step.setWeight}% reached (${canaryReplicas} of ${total} replicas)`,
        );
      }
      return undefined;
    }
    return this.analysedPause(ctx, state, step, steps.length, weight);
  }

  /**
   * The canary's analysis at this step: measured in the background every interval, and before
   * the rollout moves on (`moving`: a weight reached, a timed pause over).
   */
  private async analyse(
    ctx: StrategyContext,
    state: RolloutState,
    weight: number,
    moving: boolean,
  ): Promise<AnalysisOutcome> {
    // No canary pods take traffic at weight 0: there is nothing to judge yet.
    if (weight <= 0) return { hold: false };
    return runAnalysis(ctx, state, {
      judged: 'canary',
      baseline: 'stable',
      stepIndex: state.stepIndex,
      gate: moving,
    });
  }

  /** A pause step whose end waits for the step's analysis; the analysis runs during it too. */
  private async analysedPause(
    ctx: StrategyContext,
    state: RolloutState,
    step: { pause: { duration?: string } },
    total: number,
    weight: number,
  ): Promise<Transition | undefined> {
    const durationMs = parseDuration(step.pause.duration);
    const over =
      durationMs !== undefined &&
      state.phase === 'Paused' &&
      state.pause?.kind === 'step' &&
      ctx.now.getTime() - Date.parse(state.stepStartedAt ?? state.updatedAt) >=
        durationMs;
    const analysis = await this.analyse(ctx, state, weight, over);
    if (analysis.transition) return analysis.transition;
    if (over && analysis.hold) return undefined;
    return this.pauseStep(ctx, state, step, total);
  }

  private nextStep(
    ctx: StrategyContext,
    state: RolloutState,
    message: string,
  ): Transition {
    return {
      state: nextState(ctx, {
        phase: 'Progressing',
        stepIndex: state.stepIndex + 1,
        pause: undefined,
        stepStartedAt: ctx.now.toISOString(),
        message,
      }),
      event: 'step',
      message,
    };
  }

  /** A `pause` step: Paused until promoted, or for its duration. */
  private pauseStep(
    ctx: StrategyContext,
    state: RolloutState,
    step: { pause: { duration?: string } },
    total: number,
  ): Transition | undefined {
    const now = ctx.now;
    const durationMs = parseDuration(step.pause.duration);
    if (state.phase !== 'Paused') {
      if (state.phase !== 'Progressing') return undefined;
      const reason =
        durationMs === undefined
          ? `Waiting for promotion at step ${state.stepIndex + 1} of ${total}`
          : `Pausing ${step.pause.duration} at step ${
              state.stepIndex + 1
            } of ${total}`;
      return {
        state: nextState(ctx, {
          phase: 'Paused',
          pause: { reason, since: now.toISOString(), kind: 'step' },
          stepStartedAt: now.toISOString(),
          message: reason,
        }),
        event: 'pause',
        message: reason,
        notify: durationMs === undefined ? 'paused' : undefined,
      };
    }
    if (durationMs !== undefined && state.pause?.kind === 'step') {
      const paused =
        now.getTime() - Date.parse(state.stepStartedAt ?? state.updatedAt);
      if (paused >= durationMs) {
        return this.nextStep(
          ctx,
          state,
          `Pause of ${step.pause.duration} elapsed`,
        );
      }
      ctx.requeueAfter?.(durationMs - paused);
    }
    return undefined;
  }

  /** The entity the workload is bound to: the route and Services must be bound to it too. */
  private owner(ctx: StrategyContext) {
    const ns = ctx.primary.metadata!.namespace!;
    const entityRef = boundEntityOf(
      ctx.primary,
      ctx.cache.namespaces.get('', ns),
    );
    if (!entityRef) {
      throw new SquattedObjectError(
        `${ctx.primary.metadata?.name} is not bound to an entity on the cluster side: the rollouts engine routes no traffic for it`,
      );
    }
    return { entityRef, workload: ctx.primary.metadata!.name! };
  }

  /**
   * The route (from the cache) and the Services a routed canary goes through, checked before
   * anything is written: the route exists, is bound to the workload's entity and its rule sends
   * only to the two Services; the canary Service exists and the stable one does not select the
   * canary's pods.
   */
  private routedObjects(ctx: StrategyContext, config: GatewayRouteConfig) {
    const owner = this.owner(ctx);
    const route = ctx.cache.httpRoutes.get(config.namespace, config.route);
    if (!route) {
      throw new TrafficRoutingError(`HTTPRoute ${routeName(config)} not found`);
    }
    requireRouteOwner(
      route,
      ctx.cache.namespaces.get('', config.namespace),
      owner,
    );
    const weights = routeWeights(route, config);
    checkStableService(
      ctx.cache.services.get(config.namespace, config.stableService),
      ctx.primary,
      config,
    );
    if (!ctx.cache.services.get(config.namespace, config.canaryService)) {
      throw new TrafficRoutingError(
        `Service ${config.namespace}/${config.canaryService} (${ROLLOUT_ANNOTATIONS.canaryService}) not found`,
      );
    }
    return { owner, route, current: canaryPercent(weights) };
  }

  /**
   * Sends every request to the stable Service before the canary goes away (abort, finish,
   * rollback): true once the route sends the canary nothing and its Gateway has taken that
   * generation, or when there is no route of this workload's to change.
   */
  private async trafficBackToStable(ctx: StrategyContext): Promise<boolean> {
    let config: GatewayRouteConfig | undefined;
    let route: HttpRoute | undefined;
    let current = 0;
    try {
      config = gatewayRouteOf(ctx.primary);
      if (!config) return true;
      ({ route, current } = this.routedObjects(ctx, config));
    } catch (e) {
      // A route that is missing, misdeclared or another entity's carries no weight the engine
      // put there: nothing to take back.
      if (
        e instanceof TrafficRoutingError ||
        e instanceof SquattedObjectError
      ) {
        return true;
      }
      throw e;
    }
    if (current > 0) {
      route = await ctx.client.setCanaryWeight(config, 0, this.owner(ctx));
    }
    return routeAcceptance(route).accepted !== undefined;
  }

  /**
   * A canary whose traffic goes through an HTTPRoute. The order of writes never sends a request to
   * a backend without ready pods: the canary is scaled up and ready before its weight goes up;
   * its weight goes down (and the Gateway has reported on that generation of the route) before it
   * is scaled down. The stable keeps its full size throughout.
   */
  private async reconcileRouted(
    ctx: StrategyContext,
    state: RolloutState & { targetImage: string },
    config: GatewayRouteConfig,
    steps: CanaryStep[],
    total: number,
  ): Promise<Transition | undefined> {
    const { client } = ctx;
    const checked = this.routedObjects(ctx, config);
    const owner = checked.owner;
    let { current } = checked;
    let latest = checked.route;
    await client.setServiceSelector(
      config.namespace,
      config.canaryService,
      canarySelector(ctx.primary),
      owner,
    );
    const finishing = state.stepIndex >= steps.length;
    const weight = finishing ? 100 : weightAt(steps, state.stepIndex);
    const need = routedCanaryReplicas(total, weight);
    const settled = () => routeAcceptance(latest).accepted !== undefined;
    // Weight down first, then scale down: the pods stay while the route may still send to them.
    const keep =
      current > weight || !settled()
        ? Math.max(need, routedCanaryReplicas(total, current))
        : need;
    const canary = this.canary(ctx, true);
    if (
      !canary ||
      canary.spec?.replicas !== keep ||
      imageOf(canary.spec?.template) !== state.targetImage
    ) {
      await client.applyCompanion(
        companionDeployment(ctx.primary, {
          name: canaryName(ctx.primary.metadata!.name!),
          role: 'canary',
          image: state.targetImage,
          replicas: keep,
          keepStrategy: true,
        }),
        ctx.primary,
        'canary',
      );
    }
    const primaryFinished =
      imageOf(ctx.primary.spec?.template) === state.targetImage;
    if (!primaryFinished && ctx.primary.spec?.replicas !== total) {
      const body = clone(ctx.primary);
      body.spec!.replicas = total;
      ctx.primary = await client.replaceDeployment(body);
    }

    const gate = this.healthGate(ctx, state);
    if (gate) return gate;

    const live = this.canary(ctx);
    const canaryReady =
      need === 0 ||
      (!!live &&
        imageOf(live.spec?.template) === state.targetImage &&
        (live.status?.readyReplicas ?? 0) >= need);
    // Scale up and ready first, then weight up; weight down at once.
    if (
      state.phase !== 'Paused' &&
      ((current < weight && canaryReady) || current > weight) &&
      !(finishing && primaryFinished)
    ) {
      latest = await client.setCanaryWeight(config, weight, owner);
      current = weight;
    }

    const acceptance = routeAcceptance(latest);
    if (acceptance.accepted === false) {
      if (state.phase !== 'Progressing') return undefined;
      const reason = acceptance.message!;
      return {
        state: nextState(ctx, {
          phase: 'Paused',
          pause: { reason, since: ctx.now.toISOString(), kind: 'traffic' },
          message: reason,
        }),
        event: 'pause',
        message: reason,
        notify: 'paused',
      };
    }
    if (state.phase === 'Paused' && state.pause?.kind === 'traffic') {
      if (!acceptance.accepted) return undefined;
      return {
        state: nextState(ctx, {
          phase: 'Progressing',
          pause: undefined,
          message: `HTTPRoute ${routeName(config)} accepted again`,
        }),
      };
    }
    const atWeight =
      current === weight && canaryReady && acceptance.accepted === true;

    if (finishing) {
      if (!atWeight && !primaryFinished) return undefined;
      return this.finishRouted(ctx, state, config, owner, total, latest);
    }
    const step = steps[state.stepIndex];
    if ('setWeight' in step) {
      const moving = state.phase === 'Progressing' && atWeight && keep === need;
      const analysis = await this.analyse(ctx, state, weight, moving);
      if (analysis.transition) return analysis.transition;
      if (moving && !analysis.hold) {
        return this.nextStep(
          ctx,
          state,
          `Weight ${step.setWeight}% reached on HTTPRoute ${routeName(
            config,
          )} (${need} canary replicas)`,
        );
      }
      return undefined;
    }
    return this.analysedPause(ctx, state, step, steps.length, weight);
  }

  /**
   * Last step done, through the route: all traffic is on the canary (ready at full size); the
   * stable Deployment takes the new image; once its pods are ready the traffic moves back to it,
   * and only then does the canary go away.
   */
  /**
   * The stable Deployment takes the new image at its full size: `ready` once it has rolled out,
   * Degraded (with `degradedMessage`) past its progress deadline, `undefined` while it moves.
   */
  private async stableOnNewImage(
    ctx: StrategyContext,
    state: RolloutState & { targetImage: string },
    total: number,
    degradedMessage: string,
  ): Promise<Transition | undefined | 'ready'> {
    const { primary, client } = ctx;
    if (
      imageOf(primary.spec?.template) !== state.targetImage ||
      primary.spec?.replicas !== total
    ) {
      const body = clone(primary);
      setImage(body.spec!.template!, state.targetImage);
      body.spec!.replicas = total;
      await client.replaceDeployment(body);
      return undefined;
    }
    if (deploymentDeadlineExceeded(primary) && state.phase !== 'Degraded') {
      return {
        state: nextState(ctx, { phase: 'Degraded', message: degradedMessage }),
        event: 'degraded',
        message: 'Progress deadline exceeded while finishing',
        notify: 'degraded' as const,
      };
    }
    return deploymentComplete(primary) ? 'ready' : undefined;
  }

  /** The canary goes away and the rollout is Healthy on the new image. */
  private async completed(
    ctx: StrategyContext,
    state: RolloutState & { targetImage: string },
  ): Promise<Transition> {
    const finished = this.canary(ctx);
    if (finished) await ctx.client.deleteCompanion(finished);
    const message = `Rollout of ${state.targetImage} complete`;
    return {
      state: nextState(ctx, {
        phase: 'Healthy',
        stableImage: state.targetImage,
        targetImage: undefined,
        pause: undefined,
        unhealthySince: undefined,
        message,
      }),
      event: 'completed',
      message,
    };
  }

  private async finishRouted(
    ctx: StrategyContext,
    state: RolloutState & { targetImage: string },
    config: GatewayRouteConfig,
    owner: { entityRef: string; workload: string },
    total: number,
    route: HttpRoute,
  ): Promise<Transition | undefined> {
    const { client } = ctx;
    const stable = await this.stableOnNewImage(
      ctx,
      state,
      total,
      'The stable Deployment did not become ready with the new image; traffic stays on the canary',
    );
    if (stable !== 'ready') return stable;
    let latest = route;
    if (canaryPercent(routeWeights(latest, config)) > 0) {
      latest = await client.setCanaryWeight(config, 0, owner);
    }
    if (routeAcceptance(latest).accepted === undefined) return undefined;
    return this.completed(ctx, state);
  }

  /** Aborts when canary pods crash-loop or stay unready longer than the threshold. */
  private healthGate(
    ctx: StrategyContext,
    state: RolloutState,
  ): Transition | undefined {
    const canary = this.canary(ctx);
    // The canary Deployment's pods, through its ReplicaSets (an index lookup, not a scan).
    const pods = canary
      ? replicaSetsOf(ctx.cache, canary).flatMap(rs => podsOf(ctx.cache, rs))
      : [];
    const unhealthy = pods.filter(p => podCrashLooping(p) || !podReady(p));
    if (unhealthy.length === 0) {
      return state.unhealthySince
        ? { state: nextState(ctx, { unhealthySince: undefined }) }
        : undefined;
    }
    if (!state.unhealthySince) {
      return {
        state: nextState(ctx, { unhealthySince: ctx.now.toISOString() }),
      };
    }
    const annotated = parseDuration(
      ctx.primary.metadata?.annotations?.[
        ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold
      ],
    );
    const thresholdMs = annotated ?? ctx.defaults.unreadyThresholdMs;
    const unhealthyFor = ctx.now.getTime() - Date.parse(state.unhealthySince);
    if (unhealthyFor < thresholdMs) {
      ctx.requeueAfter?.(thresholdMs - unhealthyFor);
      return undefined;
    }
    const crashing = unhealthy.filter(podCrashLooping).length;
    const message = crashing
      ? `Health gate: ${crashing} canary pod(s) crash-looping for over ${
          thresholdMs / 1000
        }s`
      : `Health gate: ${unhealthy.length} canary pod(s) unready for over ${
          thresholdMs / 1000
        }s`;
    return {
      state: nextState(ctx, {
        phase: 'Aborted',
        pause: undefined,
        unhealthySince: undefined,
        message,
      }),
      event: 'health-gate-abort',
      message,
      notify: 'aborted',
    };
  }

  /** Last step done: the stable Deployment takes the new image, then the canary goes away. */
  private async finish(
    ctx: StrategyContext,
    state: RolloutState & { targetImage: string },
    total: number,
  ) {
    const stable = await this.stableOnNewImage(
      ctx,
      state,
      total,
      'The stable Deployment did not become ready with the new image',
    );
    if (stable !== 'ready') return stable;
    return this.completed(ctx, state);
  }
}
