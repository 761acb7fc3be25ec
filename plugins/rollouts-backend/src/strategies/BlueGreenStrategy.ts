import { runAnalysis } from '../analysis/runAnalysis';
import { analysisOf } from '../analysis/view';
import { ConflictError } from '@backstage/errors';
import {
  AllowedAction,
  ROLLOUT_ANNOTATIONS,
  RevisionView,
  RolloutAction,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import {
  clone,
  SquattedObjectError,
  companionDeployment,
  ownCompanionOf,
  currentReplicaSet,
  deploymentComplete,
  deploymentDeadlineExceeded,
  imageOf,
  nextRevisionOf,
  POD_TEMPLATE_HASH,
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
import { boundEntityOf } from '../engine/binding';
import {
  ActionInput,
  RolloutStrategyHandler,
  RolloutViewBase,
  StrategyContext,
  Transition,
} from './types';
import { applyRestart, applyUndo, undoTarget } from './undo';
import {
  GatewayRouteConfig,
  blueGreenRouteOf,
  canaryPercent,
  routeAcceptance,
  routeName,
  routeWeights,
  trafficRouteView,
  TrafficRoutingError,
} from './traffic/gatewayApi';
import { requireRouteOwner } from '../clusters/WorkloadClient';

export const previewName = (primary: string) => `${primary}-preview`;

/** stepIndex values of a blue-green rollout. */
const PREVIEW = 0;
const PROMOTED = 1;
const REPLACING = 2;

const DEFAULT_SCALE_DOWN_DELAY_MS = 30_000;

function hashOf(rs?: V1ReplicaSet) {
  return rs?.metadata?.labels?.[POD_TEMPLATE_HASH];
}

/**
 * Blue-green on plain Deployments and two Services. `<name>-preview` runs the new version behind
 * the preview Service; both Services select pods by `pod-template-hash` (as Argo Rollouts does), so
 * promotion is one selector switch and rollback within the scale-down delay is another. After the
 * delay the primary Deployment `<name>` takes the new image (its old pods are scaled down by the
 * Deployment controller), the Services move to its new pods, and the preview Deployment is removed:
 * the workload ends as one Deployment running the new image, as the manifests in Git describe it.
 */
export class BlueGreenStrategy implements RolloutStrategyHandler {
  readonly name = 'BlueGreen' as const;

  private services(primary: V1Deployment) {
    const a = primary.metadata?.annotations ?? {};
    return {
      active: a[ROLLOUT_ANNOTATIONS.activeService],
      preview: a[ROLLOUT_ANNOTATIONS.previewService],
    };
  }

  /**
   * The engine's own preview Deployment. A squatter of its name is left alone: views and tidying
   * up ignore it, and a running rollout stops with SquattedObjectError (`strict`).
   */
  private preview(ctx: StrategyContext, strict = false) {
    return ownCompanionOf(
      ctx.cache,
      ctx.primary,
      'preview',
      previewName(ctx.primary.metadata!.name!),
      { ignoreSquatter: !strict },
    );
  }

  private inFlight(
    state?: RolloutState,
  ): state is RolloutState & { targetImage: string } {
    return !!state?.targetImage && state.phase !== 'Aborted';
  }

  private delayMs(primary: V1Deployment) {
    return (
      parseDuration(
        primary.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.scaleDownDelay],
      ) ?? DEFAULT_SCALE_DOWN_DELAY_MS
    );
  }

  view(ctx: StrategyContext): RolloutViewBase {
    const d = ctx.primary;
    const ns = d.metadata!.namespace!;
    const state = ctx.state;
    const names = this.services(d);
    const activeSvc = names.active
      ? ctx.cache.services.get(ns, names.active)
      : undefined;
    const previewSvc = names.preview
      ? ctx.cache.services.get(ns, names.preview)
      : undefined;
    const activeHash = activeSvc?.spec?.selector?.[POD_TEMPLATE_HASH];
    const previewHash = previewSvc?.spec?.selector?.[POD_TEMPLATE_HASH];
    const preview = this.preview(ctx);
    const primarySets = replicaSetsOf(ctx.cache, d);
    const sets = [
      ...(preview ? replicaSetsOf(ctx.cache, preview).slice(0, 1) : []),
      ...primarySets.filter(
        (rs, i) => i === 0 || (rs.status?.replicas ?? 0) > 0,
      ),
    ];
    const revisions: RevisionView[] = sets.map(rs => {
      const hash = hashOf(rs);
      let role: RevisionView['role'] = 'old';
      if (hash && hash === activeHash) role = 'active';
      else if (!activeHash && rs === primarySets[0]) role = 'active';
      else if (hash && hash === previewHash) role = 'preview';
      return {
        revision:
          rs === sets[0] && preview
            ? nextRevisionOf(ctx.cache, d)
            : revisionOf(rs),
        image: imageOf(rs.spec?.template),
        role,
        replicas: rs.status?.replicas ?? 0,
        ready: rs.status?.readyReplicas ?? 0,
      };
    });
    const inFlight = this.inFlight(state);
    let phase = state?.phase ?? 'Healthy';
    let message = state?.message ?? `Active: ${imageOf(d.spec?.template)}`;
    if (!names.active || !names.preview) {
      phase = 'Degraded';
      message = `Blue-green needs the ${ROLLOUT_ANNOTATIONS.activeService} and ${ROLLOUT_ANNOTATIONS.previewService} annotations`;
    } else if (!activeSvc || !previewSvc) {
      phase = 'Degraded';
      message = `Service ${
        !activeSvc ? names.active : names.preview
      } not found`;
    }
    const promoted = inFlight && state.stepIndex >= PROMOTED;
    const traffic = trafficRouteView(
      d,
      (namespace, name) => ctx.cache.httpRoutes.get(namespace, name),
      blueGreenRouteOf,
    );
    const activeRs = sets.find(rs => hashOf(rs) === activeHash);
    return {
      namespace: ns,
      workload: d.metadata!.name!,
      strategy: this.name,
      phase,
      message,
      step: {
        index: inFlight ? Math.min(state.stepIndex, REPLACING) : REPLACING,
        total: REPLACING,
      },
      steps: [],
      weight: traffic
        ? {
            desired: promoted ? 100 : 0,
            // The preview Service's share, as the route in the cluster has it.
            actual: traffic.weights ? canaryPercent(traffic.weights) : 0,
            method: 'gateway-api',
          }
        : {
            desired: promoted ? 100 : 0,
            actual:
              inFlight &&
              activeRs &&
              imageOf(activeRs.spec?.template) === state.targetImage
                ? 100
                : 0,
            method: 'service-switch',
          },
      ...(traffic ? { traffic } : {}),
      ...analysisOf(d, state, inFlight),
      revisions,
      ...stateViewFields(d, state, { inFlight, phase, now: ctx.now }),
    };
  }

  phaseActions(ctx: StrategyContext, view: RolloutViewBase): AllowedAction[] {
    const state = ctx.state;
    const undo: AllowedAction[] =
      replicaSetsOf(ctx.cache, ctx.primary).length > 1 ? ['rollback'] : [];
    if (this.inFlight(state)) {
      if (state.stepIndex === PROMOTED) return ['rollback'];
      if (state.stepIndex === REPLACING) return [];
      if (view.phase === 'Paused') return ['promote', 'promote-full', 'abort'];
      return ['abort'];
    }
    if (view.phase === 'Aborted') return ['retry', 'start'];
    if (view.phase === 'Degraded' && !this.services(ctx.primary).active)
      return [];
    return ['start', ...undo, 'restart'];
  }

  start(ctx: StrategyContext, image: string): Transition {
    if (this.inFlight(ctx.state)) {
      throw new ConflictError('A blue-green rollout is already in progress');
    }
    // Refused before anything is written when another Deployment holds the preview's name.
    this.preview(ctx, true);
    const names = this.services(ctx.primary);
    if (!names.active || !names.preview) {
      throw new ConflictError(
        `Blue-green needs the ${ROLLOUT_ANNOTATIONS.activeService} and ${ROLLOUT_ANNOTATIONS.previewService} annotations`,
      );
    }
    if (imageOf(ctx.primary.spec?.template) === image) {
      throw new ConflictError(
        `${ctx.primary.metadata?.name} already runs ${image}`,
      );
    }
    // Through a route: it exists, is the entity's and sends only to the two Services.
    const routed = blueGreenRouteOf(ctx.primary);
    if (routed) {
      const route = ctx.cache.httpRoutes.get(routed.namespace, routed.route);
      if (!route) {
        throw new TrafficRoutingError(
          `HTTPRoute ${routeName(routed)} not found`,
        );
      }
      const entityRef = boundEntityOf(
        ctx.primary,
        ctx.cache.namespaces.get('', routed.namespace),
      );
      if (!entityRef) {
        throw new SquattedObjectError(
          `${ctx.primary.metadata?.name} is not bound to an entity on the cluster side: the rollouts engine routes no traffic for it`,
        );
      }
      requireRouteOwner(route, ctx.cache.namespaces.get('', routed.namespace), {
        entityRef,
        workload: ctx.primary.metadata!.name!,
      });
      routeWeights(route, routed);
    }
    return {
      state: nextState(ctx, {
        phase: 'Progressing',
        revision: (ctx.state?.revision ?? 0) + 1,
        stepIndex: PREVIEW,
        targetImage: image,
        stableImage: imageOf(ctx.primary.spec?.template),
        totalReplicas: ctx.primary.spec?.replicas ?? 1,
        pause: undefined,
        promotedAt: undefined,
        previousActiveHash: undefined,
        stepStartedAt: ctx.now.toISOString(),
        message: `Preview of ${image} starting`,
      }),
    };
  }

  private promote(ctx: StrategyContext, by: string): Transition {
    const now = ctx.now.toISOString();
    const routed = blueGreenRouteOf(ctx.primary);
    const message = routed
      ? `Promoted ${by}: HTTPRoute ${routeName(
          routed,
        )} now sends all traffic to ${routed.canaryService} (${
          ctx.state?.targetImage
        })`
      : `Promoted ${by}: the active Service now selects ${ctx.state?.targetImage}`;
    return {
      state: nextState(ctx, {
        phase: 'Healthy',
        stepIndex: PROMOTED,
        pause: undefined,
        promotedAt: now,
        stepStartedAt: now,
        previousActiveHash: hashOf(currentReplicaSet(ctx.cache, ctx.primary)),
        message,
      }),
      message,
    };
  }

  act(
    ctx: StrategyContext,
    action: RolloutAction,
    input: ActionInput,
  ): Transition {
    const state = ctx.state;
    switch (action) {
      case 'promote':
      case 'promote-full':
        if (
          this.inFlight(state) &&
          state.stepIndex === PREVIEW &&
          state.phase === 'Paused'
        ) {
          return this.promote(ctx, 'by user');
        }
        break;
      case 'abort':
        if (this.inFlight(state) && state.stepIndex === PREVIEW) {
          return {
            state: nextState(ctx, {
              phase: 'Aborted',
              pause: undefined,
              message: `Aborted: ${input.reason || 'by user'}`,
            }),
            notify: 'aborted',
          };
        }
        break;
      case 'retry':
        if (state?.phase === 'Aborted' && state.targetImage) {
          return {
            state: nextState(ctx, {
              phase: 'Progressing',
              revision: state.revision + 1,
              stepIndex: PREVIEW,
              pause: undefined,
              stepStartedAt: ctx.now.toISOString(),
              message: `Retrying preview of ${state.targetImage}`,
            }),
          };
        }
        break;
      case 'rollback':
        if (this.inFlight(state) && state.stepIndex === PROMOTED) {
          // Within the scale-down delay the old version still runs: switch back, drop the preview.
          return {
            state: nextState(ctx, {
              phase: 'Healthy',
              targetImage: undefined,
              promotedAt: undefined,
              message: `Rolled back to ${state.stableImage}`,
            }),
          };
        }
        if (!this.inFlight(state)) {
          const target = undoTarget(ctx.cache, ctx.primary, input.toRevision);
          return {
            state: nextState(ctx, {
              phase: 'Healthy',
              message: `Rolled back to revision ${target.revision} (${target.image})`,
            }),
            mutate: d => applyUndo(d, target.template),
          };
        }
        break;
      case 'restart':
        if (!this.inFlight(state)) {
          return {
            state: nextState(ctx, {}),
            mutate: d => applyRestart(d, ctx.now),
          };
        }
        break;
      default:
        break;
    }
    throw new ConflictError(
      `Cannot ${action} a blue-green rollout that is ${
        state?.phase ?? 'Healthy'
      }${state?.stepIndex === PROMOTED ? ' (promoted)' : ''}`,
    );
  }

  private async select(
    ctx: StrategyContext,
    service: string,
    hash: string | undefined,
  ) {
    if (!hash) return;
    const ns = ctx.primary.metadata!.namespace!;
    const svc = ctx.cache.services.get(ns, service);
    if (!svc) return;
    if (svc.spec?.selector?.[POD_TEMPLATE_HASH] === hash) return;
    const entityRef = boundEntityOf(
      ctx.primary,
      ctx.cache.namespaces.get('', ns),
    );
    if (!entityRef) {
      throw new SquattedObjectError(
        `${ctx.primary.metadata?.name} is not bound to an entity on the cluster side: the rollouts engine switches no Service for it`,
      );
    }
    await ctx.client.setServiceSelector(
      ns,
      service,
      { ...svc.spec?.selector, [POD_TEMPLATE_HASH]: hash },
      { entityRef, workload: ctx.primary.metadata!.name! },
    );
  }

  /**
   * Through an HTTPRoute: sets the preview Service's share of the route's rule (0 or 100), only
   * on a route bound to the workload's entity. True once the route has it and its Gateway has
   * reported on that generation; without a route, true at once.
   */
  private async route(
    ctx: StrategyContext,
    config: GatewayRouteConfig | undefined,
    previewWeight: number,
  ): Promise<boolean> {
    if (!config) return true;
    let route = ctx.cache.httpRoutes.get(config.namespace, config.route);
    if (
      !route ||
      canaryPercent(routeWeights(route, config)) !== previewWeight
    ) {
      const entityRef = boundEntityOf(
        ctx.primary,
        ctx.cache.namespaces.get('', config.namespace),
      );
      if (!entityRef) {
        throw new SquattedObjectError(
          `${ctx.primary.metadata?.name} is not bound to an entity on the cluster side: the rollouts engine routes no traffic for it`,
        );
      }
      route = await ctx.client.setCanaryWeight(config, previewWeight, {
        entityRef,
        workload: ctx.primary.metadata!.name!,
      });
    }
    return routeAcceptance(route).accepted !== undefined;
  }

  async reconcile(ctx: StrategyContext): Promise<Transition | undefined> {
    const { primary, state, client } = ctx;
    const names = this.services(primary);
    if (!names.active || !names.preview) return undefined;
    // Through an HTTPRoute, promotion moves the route's traffic from the active Service (which
    // keeps the old pods until the end) to the preview Service, instead of re-pointing the active.
    const routed = blueGreenRouteOf(primary);
    const primaryRs = currentReplicaSet(ctx.cache, primary);
    const primaryHash = hashOf(primaryRs);
    const preview = this.preview(ctx, this.inFlight(state));

    if (!this.inFlight(state)) {
      // Idle, aborted or rolled back: all traffic back on the active Service (still on the pods
      // that served before), then both Services follow the primary's pods once they are ready.
      if (!(await this.route(ctx, routed, 0))) return undefined;
      if (
        primaryHash &&
        deploymentComplete(primary) &&
        imageOf(primaryRs?.spec?.template) === imageOf(primary.spec?.template)
      ) {
        await this.select(ctx, names.active, primaryHash);
        await this.select(ctx, names.preview, primaryHash);
      }
      if (preview) await client.deleteCompanion(preview);
      return undefined;
    }

    const total = state.totalReplicas ?? primary.spec?.replicas ?? 1;
    if (state.stepIndex === PREVIEW) {
      // Pin the active Service to today's pods before the preview's pods (same app labels)
      // appear; without a known hash yet, wait rather than let it select the preview too.
      if (!primaryHash) return undefined;
      await this.select(ctx, names.active, primaryHash);
      await this.route(ctx, routed, 0);
      if (
        !preview ||
        imageOf(preview.spec?.template) !== state.targetImage ||
        preview.spec?.replicas !== total
      ) {
        await client.applyCompanion(
          companionDeployment(primary, {
            name: previewName(primary.metadata!.name!),
            role: 'preview',
            image: state.targetImage,
            replicas: total,
          }),
          primary,
          'preview',
        );
        return undefined;
      }
      const previewRs = currentReplicaSet(ctx.cache, preview);
      if (!previewRs || imageOf(previewRs.spec?.template) !== state.targetImage)
        return undefined;
      await this.select(ctx, names.preview, hashOf(previewRs));
      if (deploymentDeadlineExceeded(preview) && state.phase !== 'Degraded') {
        return {
          state: nextState(ctx, {
            phase: 'Degraded',
            message: 'The preview did not become ready in time',
          }),
          event: 'degraded',
          message: 'Preview progress deadline exceeded',
          notify: 'degraded',
        };
      }
      if (deploymentComplete(preview)) {
        // Pre-promotion analysis, preview against active: before promoting (on its own or for
        // a person), and every interval while the preview waits.
        const moving = state.phase === 'Progressing';
        const analysis = await runAnalysis(ctx, state, {
          judged: 'preview',
          baseline: 'active',
          gate: moving,
        });
        if (analysis.transition) return analysis.transition;
        if (moving && analysis.hold) return undefined;
      }
      if (state.phase === 'Progressing' && deploymentComplete(preview)) {
        if (
          primary.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.autoPromotion] ===
          'true'
        ) {
          return { ...this.promote(ctx, 'automatically'), event: 'promote' };
        }
        const reason = 'Preview ready: waiting for promotion';
        return {
          state: nextState(ctx, {
            phase: 'Paused',
            pause: { reason, since: ctx.now.toISOString(), kind: 'approval' },
            message: reason,
          }),
          event: 'pause',
          message: reason,
          notify: 'paused',
        };
      }
      return undefined;
    }

    if (state.stepIndex === PROMOTED) {
      const previewRs = preview
        ? currentReplicaSet(ctx.cache, preview)
        : undefined;
      if (routed) {
        await this.select(ctx, names.preview, hashOf(previewRs));
        if (!(await this.route(ctx, routed, 100))) return undefined;
      } else {
        await this.select(ctx, names.active, hashOf(previewRs));
        await this.select(ctx, names.preview, hashOf(previewRs));
      }
      const delayMs = this.delayMs(primary);
      const waited =
        ctx.now.getTime() - Date.parse(state.promotedAt ?? state.updatedAt);
      if (waited < delayMs) {
        ctx.requeueAfter?.(delayMs - waited);
        return undefined;
      }
      const message = `Scale-down delay passed: replacing ${state.stableImage} with ${state.targetImage}`;
      return {
        state: nextState(ctx, {
          stepIndex: REPLACING,
          stepStartedAt: ctx.now.toISOString(),
          message,
        }),
        event: 'scale-down',
        message,
      };
    }

    // REPLACING: the primary takes the new image; traffic stays on the preview until it is ready.
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
    if (
      !deploymentComplete(primary) ||
      !primaryRs ||
      imageOf(primaryRs.spec?.template) !== state.targetImage
    ) {
      return undefined;
    }
    await this.select(ctx, names.active, primaryHash);
    // The active Service is on the new primary pods (ready): the route's traffic goes back to it.
    if (!(await this.route(ctx, routed, 0))) return undefined;
    await this.select(ctx, names.preview, primaryHash);
    if (preview) await client.deleteCompanion(preview);
    const message = `Rollout of ${state.targetImage} complete`;
    return {
      state: nextState(ctx, {
        phase: 'Healthy',
        stableImage: state.targetImage,
        targetImage: undefined,
        promotedAt: undefined,
        previousActiveHash: undefined,
        message,
      }),
      event: 'completed',
      message,
    };
  }
}
