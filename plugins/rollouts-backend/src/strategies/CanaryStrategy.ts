import { ConflictError } from '@backstage/errors';
import {
  AllowedAction,
  CanaryStep,
  ROLLOUT_ANNOTATIONS,
  RevisionView,
  RolloutAction,
} from '@internal/plugin-rollouts-common';
import { V1Deployment } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  clone,
  companionDeployment,
  ownCompanionOf,
  currentReplicaSet,
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
 * image behind the same Service, and traffic weight is the ratio of their replicas.
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
      weight: {
        desired: inFlight ? weightAt(steps, state.stepIndex) : 0,
        actual:
          stableReady + canaryReady > 0 && canary
            ? Math.round((canaryReady / (stableReady + canaryReady)) * 100)
            : 0,
        method: 'replica-ratio',
      },
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
    // Refused before anything is written when another Deployment holds the canary's name.
    this.canary(ctx, true);
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
      // Aborted or finished: no canary, stable at its full size.
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
    const now = ctx.now;

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
    const nextStep = (message: string): Transition => ({
      state: nextState(ctx, {
        phase: 'Progressing',
        stepIndex: state.stepIndex + 1,
        pause: undefined,
        stepStartedAt: now.toISOString(),
        message,
      }),
      event: 'step',
      message,
    });
    if ('setWeight' in step) {
      const current = this.canary(ctx);
      const canaryReady =
        canaryReplicas === 0 ||
        (!!current &&
          imageOf(current.spec?.template) === state.targetImage &&
          (current.status?.readyReplicas ?? 0) >= canaryReplicas);
      const stableScaled =
        (ctx.primary.status?.replicas ?? 0) <= stableReplicas;
      if (state.phase === 'Progressing' && canaryReady && stableScaled) {
        return nextStep(
          `Weight ${step.setWeight}% reached (${canaryReplicas} of ${total} replicas)`,
        );
      }
      return undefined;
    }
    const durationMs = parseDuration(step.pause.duration);
    if (state.phase !== 'Paused') {
      if (state.phase !== 'Progressing') return undefined;
      const reason =
        durationMs === undefined
          ? `Waiting for promotion at step ${state.stepIndex + 1} of ${
              steps.length
            }`
          : `Pausing ${step.pause.duration} at step ${state.stepIndex + 1} of ${
              steps.length
            }`;
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
        return nextStep(`Pause of ${step.pause.duration} elapsed`);
      }
      ctx.requeueAfter?.(durationMs - paused);
    }
    return undefined;
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
        state: nextState(ctx, {
          phase: 'Degraded',
          message:
            'The stable Deployment did not become ready with the new image',
        }),
        event: 'degraded',
        message: 'Progress deadline exceeded while finishing',
        notify: 'degraded' as const,
      };
    }
    if (!deploymentComplete(primary)) return undefined;
    const finished = this.canary(ctx);
    if (finished) await client.deleteCompanion(finished);
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
}
