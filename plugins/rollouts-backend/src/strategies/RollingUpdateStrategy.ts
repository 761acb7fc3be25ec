import { ConflictError } from '@backstage/errors';
import {
  AllowedAction,
  RolloutAction,
  RolloutPhase,
  RevisionView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  currentReplicaSet,
  deploymentComplete,
  deploymentDeadlineExceeded,
  imageOf,
  isoTime,
  replicaSetsOf,
  revisionOf,
  setImage,
} from './kube';
import { RolloutState } from './state';
import {
  ActionInput,
  RolloutStrategyHandler,
  RolloutViewBase,
  StrategyContext,
  Transition,
} from './types';
import { applyRestart, applyUndo, undoTarget } from './undo';

/**
 * Kubernetes' own rolling update: the engine only sets the image, pauses, undoes and restarts; the
 * Deployment controller does the rest, and the phase is read from the Deployment's status.
 */
export class RollingUpdateStrategy implements RolloutStrategyHandler {
  readonly name = 'RollingUpdate' as const;

  private phaseOf(ctx: StrategyContext): RolloutPhase {
    const d = ctx.primary;
    if (d.spec?.paused) return 'Paused';
    if (deploymentDeadlineExceeded(d)) return 'Degraded';
    if (deploymentComplete(d)) return 'Healthy';
    return 'Progressing';
  }

  view(ctx: StrategyContext): RolloutViewBase {
    const d = ctx.primary;
    const phase = this.phaseOf(ctx);
    const sets = replicaSetsOf(ctx.cache, d);
    const current = sets[0];
    const want = d.spec?.replicas ?? 1;
    const revisions: RevisionView[] = sets
      .filter((rs, i) => i === 0 || (rs.status?.replicas ?? 0) > 0)
      .map((rs, i) => ({
        revision: revisionOf(rs),
        image: imageOf(rs.spec?.template),
        role: i === 0 ? 'stable' : 'old',
        replicas: rs.status?.replicas ?? 0,
        ready: rs.status?.readyReplicas ?? 0,
      }));
    const targetImage = imageOf(d.spec?.template);
    const previous = sets.find(
      rs => rs !== current && (rs.status?.replicas ?? 0) > 0,
    );
    const updated = d.status?.updatedReplicas ?? 0;
    const inFlight = phase !== 'Healthy';
    const messages: Record<RolloutPhase, string> = {
      Healthy: `All ${want} replicas run ${targetImage}`,
      Progressing: `${updated} of ${want} replicas updated to ${targetImage}`,
      Paused: `Rollout paused with ${updated} of ${want} replicas updated`,
      Degraded:
        'Progress deadline exceeded: the new replicas did not become available in time',
      Aborted: 'Aborted',
    };
    return {
      namespace: d.metadata!.namespace!,
      workload: d.metadata!.name!,
      strategy: this.name,
      phase,
      message: messages[phase],
      step: { index: phase === 'Healthy' ? 1 : 0, total: 1 },
      steps: [],
      weight: {
        desired: 100,
        actual: want ? Math.round((Math.min(updated, want) / want) * 100) : 100,
        method: 'rolling',
      },
      revisions,
      stableImage:
        inFlight && previous ? imageOf(previous.spec?.template) : targetImage,
      targetImage: inFlight ? targetImage : undefined,
      pause:
        phase === 'Paused'
          ? {
              reason: ctx.state?.pause?.reason ?? 'Paused',
              since:
                ctx.state?.pause?.since ??
                ctx.state?.updatedAt ??
                ctx.now.toISOString(),
            }
          : undefined,
      revision: revisionOf(d),
      updatedAt:
        ctx.state?.updatedAt ??
        isoTime(d.metadata?.creationTimestamp) ??
        ctx.now.toISOString(),
    };
  }

  phaseActions(ctx: StrategyContext, view: RolloutViewBase): AllowedAction[] {
    const canUndo = replicaSetsOf(ctx.cache, ctx.primary).length > 1;
    const undo: AllowedAction[] = canUndo ? ['rollback'] : [];
    switch (view.phase) {
      case 'Healthy':
        return ['start', 'pause', ...undo, 'restart'];
      case 'Progressing':
        return ['start', 'pause', ...undo];
      case 'Paused':
        // As with kubectl: a paused Deployment takes a new image and rolls it out on resume.
        return ['start', 'resume', ...undo];
      default:
        return ['start', ...undo, 'restart'];
    }
  }

  private next(
    ctx: StrategyContext,
    patch: Partial<RolloutState>,
  ): RolloutState {
    return {
      phase: this.phaseOf(ctx),
      revision: revisionOf(ctx.primary),
      stepIndex: 0,
      ...ctx.state,
      ...patch,
      updatedAt: ctx.now.toISOString(),
    };
  }

  start(ctx: StrategyContext, image: string): Transition {
    if (imageOf(ctx.primary.spec?.template) === image) {
      throw new ConflictError(
        `${ctx.primary.metadata?.name} already runs ${image}`,
      );
    }
    return {
      state: this.next(ctx, {
        phase: 'Progressing',
        targetImage: image,
        pause: undefined,
      }),
      mutate: d => setImage(d.spec!.template!, image),
    };
  }

  act(
    ctx: StrategyContext,
    action: RolloutAction,
    input: ActionInput,
  ): Transition {
    const now = ctx.now.toISOString();
    switch (action) {
      case 'pause':
        return {
          state: this.next(ctx, {
            phase: 'Paused',
            pause: {
              reason: input.reason || 'Paused by user',
              since: now,
              kind: 'user',
            },
          }),
          mutate: d => {
            d.spec!.paused = true;
          },
        };
      case 'resume':
        return {
          state: this.next(ctx, { phase: 'Progressing', pause: undefined }),
          mutate: d => {
            d.spec!.paused = false;
          },
        };
      case 'rollback': {
        const target = undoTarget(ctx.cache, ctx.primary, input.toRevision);
        return {
          state: this.next(ctx, {
            phase: 'Progressing',
            targetImage: target.image,
            pause: undefined,
          }),
          mutate: d => {
            applyUndo(d, target.template);
            d.spec!.paused = false;
          },
          message: `Rolled back to revision ${target.revision} (${target.image})`,
        };
      }
      case 'restart':
        return {
          state: this.next(ctx, { phase: 'Progressing' }),
          mutate: d => applyRestart(d, ctx.now),
        };
      default:
        throw new ConflictError(`A rolling update cannot ${action}`);
    }
  }

  async reconcile(ctx: StrategyContext): Promise<Transition | undefined> {
    // Kubernetes drives the rollout; the engine records phase changes once, so history and
    // notifications see "completed" and "degraded" exactly once across backend replicas.
    const phase = this.phaseOf(ctx);
    const previous = ctx.state?.phase;
    if (phase === previous || (previous === undefined && phase === 'Healthy')) {
      return undefined;
    }
    if (!currentReplicaSet(ctx.cache, ctx.primary) && phase !== 'Healthy') {
      return undefined;
    }
    const state = this.next(ctx, { phase });
    if (phase === 'Healthy') {
      // The completed row names the image now running: release pipelines date a stage's health on
      // an image from it.
      return {
        state: {
          ...state,
          targetImage: undefined,
          stableImage: imageOf(ctx.primary.spec?.template),
        },
        event: 'completed',
        message: `Rollout of ${imageOf(ctx.primary.spec?.template)} complete`,
      };
    }
    if (phase === 'Degraded') {
      return {
        state,
        event: 'degraded',
        message: 'Progress deadline exceeded',
        notify: 'degraded',
      };
    }
    return { state };
  }
}
