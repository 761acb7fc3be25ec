import {
  ControllerContext,
  TYPES,
  canonical,
  controllerOf,
  nowIso,
} from './types';
import { templateHash } from './deployments';

/**
 * A simulation of the Argo Rollouts controller (argoproj.io/v1alpha1 Rollout), not a replacement:
 * just enough of its documented behaviour for the demo and the tests to move.
 *
 * - one ReplicaSet per pod template, `<rollout>-<hash>` labelled `rollouts-pod-template-hash`,
 *   revision in `rollout.argoproj.io/revision`; pods come from kube-sim's ReplicaSet machinery;
 * - canary without a traffic router: `setWeight` scales the canary ReplicaSet to that share of
 *   `spec.replicas` (the stable one to the rest), `pause: {}` waits for a promote with the pause
 *   condition `CanaryPauseStep`, `pause: {duration}` for that long; with `trafficRouting` declared
 *   the weight is also written to `status.canary.weights`, as if a router had applied it;
 * - blue-green: the new ReplicaSet behind the preview Service, the pause condition
 *   `BlueGreenPause` when `autoPromotionEnabled: false`, the active Service switched on promotion,
 *   the old ReplicaSet scaled down after `scaleDownDelaySeconds` (default 30);
 * - the status fields clients read: `currentPodHash`, `stableRS`, `currentStepIndex`,
 *   `pauseConditions`, `controllerPause`, `abort`, `promoteFull`, `phase`, `message`,
 *   `observedGeneration` (a string, as Argo writes it), replica counts and `blueGreen` selectors.
 *
 * No analysis, experiments, traffic routers, workloadRef, anti-affinity or HPA.
 */

export const ROLLOUT_HASH = 'rollouts-pod-template-hash';
export const ROLLOUT_REVISION = 'rollout.argoproj.io/revision';
const SCALE_DOWN_DEADLINE = 'argo-rollouts.argoproj.io/scale-down-deadline';

function ready(rs: any | undefined): number {
  return rs?.status?.availableReplicas ?? 0;
}

function revisionOf(rs: any): number {
  return Number(rs.metadata.annotations?.[ROLLOUT_REVISION] ?? 0);
}

function withoutHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[ROLLOUT_HASH];
  return t;
}

/** Argo's client-side phase, computed controller-side as Argo 1.0+ does (`CalculateRolloutPhase`). */
function phaseOf(ro: any, st: any, replicas: number): [string, string] {
  for (const c of st.conditions ?? []) {
    if (c.type === 'InvalidSpec')
      return ['Degraded', `InvalidSpec: ${c.message}`];
    if (['RolloutAborted', 'ProgressDeadlineExceeded'].includes(c.reason))
      return ['Degraded', `${c.reason}: ${c.message}`];
  }
  if (ro.spec.paused) return ['Paused', 'manually paused'];
  if (st.pauseConditions?.length)
    return ['Paused', st.pauseConditions[0].reason];
  if ((st.updatedReplicas ?? 0) < replicas)
    return ['Progressing', 'more replicas need to be updated'];
  if ((st.availableReplicas ?? 0) < (st.updatedReplicas ?? 0))
    return ['Progressing', 'updated replicas are still becoming available'];
  if (ro.spec.strategy?.blueGreen) {
    if (st.blueGreen?.activeSelector !== st.currentPodHash)
      return ['Progressing', 'active service cutover pending'];
  } else if (!ro.spec.strategy?.canary?.trafficRouting) {
    if ((st.replicas ?? 0) > (st.updatedReplicas ?? 0))
      return ['Progressing', 'old replicas are pending termination'];
  }
  if (!st.stableRS || st.stableRS !== st.currentPodHash)
    return ['Progressing', 'waiting for all steps to complete'];
  return ['Healthy', ''];
}

/** Every field `a` sets is equal in `b` (apimachinery's semantic DeepDerivative). */
function derivative(a: any, b: any): boolean {
  if (a === undefined || a === null) return true;
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => derivative(x, b[i]))
    );
  }
  if (typeof a === 'object') {
    return (
      !!b &&
      typeof b === 'object' &&
      Object.keys(a).every(k => derivative(a[k], b[k]))
    );
  }
  return a === b;
}

function seconds(duration: unknown): number {
  if (typeof duration === 'number') return duration;
  const m = /^(\d+)(s|m|h)?$/.exec(String(duration ?? ''));
  if (!m) return 0;
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] ?? 's'] ?? 1);
}

/** @public */
export class ArgoRolloutController {
  constructor(private readonly ctx: ControllerContext) {}

  /**
   * Syncs one Rollout with the ReplicaSets it controls. Returns when it must look again with no
   * other change (a timed pause, a scale-down delay), or undefined.
   */
  reconcile(ro: any, owned: any[], now = Date.now()): number | undefined {
    if (ro.metadata.deletionTimestamp || !ro.spec?.template) return undefined;
    const ctx = this.ctx;
    let due: number | undefined;
    const wakeAt = (at: number) => {
      if (due === undefined || at < due) due = at;
    };
    const replicas: number = ro.spec.replicas ?? 1;
    const rsList = owned.filter(
      rs => controllerOf(rs)?.uid === ro.metadata.uid,
    );
    const computed = templateHash(withoutHash(ro.spec.template));
    // As Argo's FindNewReplicaSet: the hash, or else a ReplicaSet whose (defaulted) template has
    // every field the Rollout's template sets, such as the one an undo copied the template from.
    let current =
      rsList.find(rs => rs.metadata.labels?.[ROLLOUT_HASH] === computed) ??
      rsList.find(rs =>
        derivative(
          withoutHash(ro.spec.template),
          withoutHash(rs.spec.template),
        ),
      );
    const hash: string = current?.metadata.labels?.[ROLLOUT_HASH] ?? computed;
    const maxRevision = Math.max(0, ...rsList.map(revisionOf));
    if (!current) {
      current = this.createReplicaSet(ro, hash, maxRevision + 1);
      rsList.push(current);
    } else if (revisionOf(current) < maxRevision) {
      // Going back to an older template (undo) makes its ReplicaSet the newest revision, as Argo does.
      current = this.updateReplicaSet(current, rs => {
        rs.metadata.annotations[ROLLOUT_REVISION] = String(maxRevision + 1);
      });
    }

    const prev = ro.status ?? {};
    const st: any = structuredClone(prev);
    const steps: any[] = ro.spec.strategy?.canary?.steps ?? [];
    if (st.currentPodHash !== hash) {
      // A new template starts over: steps from the first, no pause, no abort, no full promotion.
      st.currentPodHash = hash;
      st.currentStepIndex = ro.spec.strategy?.canary ? 0 : undefined;
      delete st.pauseConditions;
      delete st.controllerPause;
      delete st.abort;
      delete st.abortedAt;
      delete st.promoteFull;
      st.conditions = (st.conditions ?? []).filter(
        (c: any) => c.reason !== 'RolloutAborted',
      );
    }
    if (!st.stableRS) st.stableRS = hash;
    const stable = rsList.find(
      rs => rs.metadata.labels?.[ROLLOUT_HASH] === st.stableRS,
    );
    const promoted = st.stableRS === hash;

    if (st.abort && !promoted) {
      st.abortedAt = st.abortedAt ?? nowIso(now);
      delete st.pauseConditions;
      delete st.controllerPause;
      if (ro.spec.strategy?.canary) st.currentStepIndex = 0;
      st.conditions = [
        ...(st.conditions ?? []).filter((c: any) => c.type !== 'Progressing'),
        {
          type: 'Progressing',
          status: 'False',
          reason: 'RolloutAborted',
          message: `Rollout aborted update to revision ${revisionOf(current)}`,
          lastUpdateTime: nowIso(now),
          lastTransitionTime: nowIso(now),
        },
      ];
      this.scale(current, 0);
      if (stable) this.scale(stable, replicas);
      if (ro.spec.strategy?.blueGreen && stable) {
        this.selectService(
          ro,
          ro.spec.strategy.blueGreen.activeService,
          st.stableRS,
        );
        this.selectService(
          ro,
          ro.spec.strategy.blueGreen.previewService,
          st.stableRS,
        );
        st.blueGreen = {
          activeSelector: st.stableRS,
          previewSelector: st.stableRS,
        };
      }
    } else if (ro.spec.strategy?.blueGreen) {
      st.conditions = (st.conditions ?? []).filter(
        (c: any) => c.reason !== 'RolloutAborted',
      );
      this.blueGreen(ro, st, current, stable, rsList, now, wakeAt);
    } else {
      st.conditions = (st.conditions ?? []).filter(
        (c: any) => c.reason !== 'RolloutAborted',
      );
      this.canary(ro, st, steps, current, stable, now, wakeAt);
    }

    // Old ReplicaSets: canary scales them down at once, blue-green after their deadline.
    for (const listed of rsList) {
      const rs = ctx.store.get(
        TYPES.replicasets,
        listed.metadata.namespace,
        listed.metadata.name,
      )?.obj;
      const h = rs?.metadata.labels?.[ROLLOUT_HASH];
      if (!rs || h === hash || h === st.stableRS) continue;
      const deadline = rs.metadata.annotations?.[SCALE_DOWN_DEADLINE];
      if (deadline && Date.parse(deadline) > now) {
        wakeAt(Date.parse(deadline));
        continue;
      }
      this.scale(rs, 0);
    }

    const all = rsList.map(
      rs =>
        ctx.store.get(
          TYPES.replicasets,
          rs.metadata.namespace,
          rs.metadata.name,
        )?.obj ?? rs,
    );
    const cur = all.find(rs => rs.metadata.labels?.[ROLLOUT_HASH] === hash);
    st.replicas = all.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    st.updatedReplicas = cur?.status?.replicas ?? 0;
    st.readyReplicas = all.reduce(
      (n, rs) => n + (rs.status?.readyReplicas ?? 0),
      0,
    );
    st.availableReplicas = all.reduce((n, rs) => n + ready(rs), 0);
    st.observedGeneration = String(ro.metadata.generation ?? 1);
    st.selector = Object.entries({
      ...(ro.spec.selector?.matchLabels ?? {}),
      [ROLLOUT_HASH]: hash,
    })
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const [phase, message] = phaseOf(ro, st, replicas);
    st.phase = phase;
    st.message = message;
    for (const k of Object.keys(st)) if (st[k] === undefined) delete st[k];
    if (canonical(st) !== canonical(prev)) {
      const next = structuredClone(ro);
      next.status = st;
      ctx.store.update(TYPES.rollouts, next, { subresource: 'status' });
    }
    return due;
  }

  private canary(
    ro: any,
    st: any,
    steps: any[],
    current: any,
    stable: any,
    now: number,
    wakeAt: (at: number) => void,
  ) {
    const replicas: number = ro.spec.replicas ?? 1;
    const routed = !!ro.spec.strategy.canary.trafficRouting;
    if (st.stableRS === st.currentPodHash) {
      st.currentStepIndex = steps.length;
      this.scale(current, replicas);
      delete st.canary;
      return;
    }
    let index: number = Math.min(st.currentStepIndex ?? 0, steps.length);
    if (st.promoteFull) index = steps.length;
    // The weight in force is the last setWeight before the current step.
    let weight: number =
      steps
        .slice(0, index)
        .filter(s => typeof s.setWeight === 'number')
        .map(s => s.setWeight)
        .pop() ?? 0;
    while (index < steps.length && !ro.spec.paused) {
      const step = steps[index];
      if (typeof step.setWeight === 'number') {
        weight = step.setWeight;
        const want = Math.ceil((replicas * weight) / 100);
        this.scale(current, want);
        if (stable) this.scale(stable, replicas - want);
        if (ready(current) < want) break;
        index++;
      } else if (step.pause) {
        const pausedAt = st.pauseConditions?.find(
          (c: any) => c.reason === 'CanaryPauseStep',
        );
        if (st.controllerPause && !pausedAt) {
          // Promoted: the pause condition was cleared by a client.
          delete st.controllerPause;
          index++;
          continue;
        }
        if (!pausedAt) {
          st.pauseConditions = [
            ...(st.pauseConditions ?? []),
            { reason: 'CanaryPauseStep', startTime: nowIso(now) },
          ];
          st.controllerPause = true;
          const d = seconds(step.pause.duration);
          if (d) wakeAt(now + this.ctx.duration(d));
          break;
        }
        const d = seconds(step.pause.duration);
        const ends = Date.parse(pausedAt.startTime) + this.ctx.duration(d);
        if (d && ends <= now) {
          st.pauseConditions = st.pauseConditions.filter(
            (c: any) => c !== pausedAt,
          );
          if (!st.pauseConditions.length) delete st.pauseConditions;
          delete st.controllerPause;
          index++;
          continue;
        }
        if (d) wakeAt(ends);
        break;
      } else {
        index++; // analysis, experiment and the rest are not simulated
      }
    }
    st.currentStepIndex = index;
    if (index >= steps.length) {
      // Past the last step (or fully promoted): no pause holds it any more.
      delete st.pauseConditions;
      delete st.controllerPause;
      weight = 100;
      this.scale(current, replicas);
      if (ready(current) >= replicas) {
        st.stableRS = st.currentPodHash;
        delete st.promoteFull;
        if (stable && stable !== current) this.scale(stable, 0);
      }
    }
    if (routed) {
      st.canary = {
        weights: {
          canary: { podTemplateHash: st.currentPodHash, weight },
          stable: { podTemplateHash: st.stableRS, weight: 100 - weight },
        },
      };
    }
  }

  private blueGreen(
    ro: any,
    st: any,
    current: any,
    stable: any,
    rsList: any[],
    now: number,
    wakeAt: (at: number) => void,
  ) {
    const bg = ro.spec.strategy.blueGreen;
    const replicas: number = ro.spec.replicas ?? 1;
    this.scale(current, replicas);
    const promote = () => {
      this.selectService(ro, bg.activeService, st.currentPodHash);
      const old = rsList.filter(
        rs =>
          rs.metadata.labels?.[ROLLOUT_HASH] !== st.currentPodHash &&
          (rs.spec.replicas ?? 0) > 0,
      );
      const delay = this.ctx.duration(bg.scaleDownDelaySeconds ?? 30);
      for (const rs of old) {
        if (!rs.metadata.annotations?.[SCALE_DOWN_DEADLINE]) {
          this.updateReplicaSet(rs, r => {
            r.metadata.annotations[SCALE_DOWN_DEADLINE] = new Date(
              now + delay,
            ).toISOString();
          });
          wakeAt(now + delay);
        }
      }
      st.stableRS = st.currentPodHash;
      st.blueGreen = {
        ...(st.blueGreen ?? {}),
        activeSelector: st.currentPodHash,
      };
      delete st.pauseConditions;
      delete st.controllerPause;
      delete st.promoteFull;
    };
    this.selectService(ro, bg.previewService, st.currentPodHash);
    st.blueGreen = {
      ...(st.blueGreen ?? {}),
      previewSelector: st.currentPodHash,
    };
    if (st.stableRS === st.currentPodHash) {
      if (
        st.blueGreen.activeSelector !== st.currentPodHash &&
        ready(current) >= replicas
      )
        promote();
      return;
    }
    if (stable) this.scale(stable, replicas);
    this.selectService(ro, bg.activeService, st.stableRS);
    st.blueGreen.activeSelector = st.stableRS;
    if (ready(current) < replicas || ro.spec.paused) return;
    if (st.promoteFull || bg.autoPromotionEnabled !== false) {
      promote();
      return;
    }
    const paused = st.pauseConditions?.find(
      (c: any) => c.reason === 'BlueGreenPause',
    );
    if (st.controllerPause && !paused) {
      promote();
      return;
    }
    if (!paused) {
      st.pauseConditions = [
        ...(st.pauseConditions ?? []),
        { reason: 'BlueGreenPause', startTime: nowIso(now) },
      ];
      st.controllerPause = true;
    }
  }

  private createReplicaSet(ro: any, hash: string, revision: number): any {
    const template = withoutHash(ro.spec.template);
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), [ROLLOUT_HASH]: hash },
    };
    const created = this.ctx.store.create(TYPES.replicasets, {
      metadata: {
        name: `${ro.metadata.name}-${hash}`,
        namespace: ro.metadata.namespace,
        labels: template.metadata.labels,
        annotations: { [ROLLOUT_REVISION]: String(revision) },
        ownerReferences: [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Rollout',
            name: ro.metadata.name,
            uid: ro.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 0,
        minReadySeconds: ro.spec.minReadySeconds,
        selector: {
          matchLabels: {
            ...(ro.spec.selector?.matchLabels ?? {}),
            [ROLLOUT_HASH]: hash,
          },
        },
        template,
      },
    });
    this.ctx.events.record(
      ro,
      'Normal',
      'RolloutUpdated',
      `Rollout updated to revision ${revision}`,
      'rollouts-controller',
    );
    return created.obj;
  }

  private updateReplicaSet(rs: any, change: (rs: any) => void): any {
    const fresh =
      this.ctx.store.get(
        TYPES.replicasets,
        rs.metadata.namespace,
        rs.metadata.name,
      )?.obj ?? rs;
    const next = structuredClone(fresh);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}) };
    change(next);
    return this.ctx.store.update(TYPES.replicasets, next).obj;
  }

  private scale(rs: any | undefined, replicas: number) {
    if (!rs) return;
    const fresh = this.ctx.store.get(
      TYPES.replicasets,
      rs.metadata.namespace,
      rs.metadata.name,
    )?.obj;
    if (!fresh || (fresh.spec.replicas ?? 0) === replicas) return;
    this.updateReplicaSet(fresh, next => {
      next.spec.replicas = replicas;
      if (replicas === 0) delete next.metadata.annotations[SCALE_DOWN_DEADLINE];
    });
  }

  /** Points a Service at one ReplicaSet's pods by adding the hash to its selector, as Argo does. */
  private selectService(ro: any, name: string | undefined, hash: string) {
    if (!name) return;
    const svc = this.ctx.store.get(
      TYPES.services,
      ro.metadata.namespace,
      name,
    )?.obj;
    if (!svc || svc.spec?.selector?.[ROLLOUT_HASH] === hash) return;
    const next = structuredClone(svc);
    next.metadata.annotations = {
      ...(next.metadata.annotations ?? {}),
      'argo-rollouts.argoproj.io/managed-by-rollouts': ro.metadata.name,
    };
    next.spec.selector = {
      ...(next.spec.selector ?? {}),
      [ROLLOUT_HASH]: hash,
    };
    this.ctx.store.update(TYPES.services, next);
  }
}
