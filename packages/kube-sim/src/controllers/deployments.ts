import {
  ControllerContext,
  TYPES,
  canonical,
  controllerOf,
  nowIso,
} from './types';

/**
 * Deployment -> ReplicaSets, after kube-controller-manager's deployment controller: one ReplicaSet
 * per pod template (named by its `pod-template-hash`), revisions in `deployment.kubernetes.io/revision`,
 * RollingUpdate within maxSurge / maxUnavailable, Recreate, pause, progress deadline, conditions and
 * revision history clean-up.
 */

export const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';
/** Deployment annotations that are not copied to its ReplicaSets (as `kubectl rollout undo` also skips them). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  DESIRED,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** `pod-template-hash`: FNV-1a of the template, encoded as Kubernetes' SafeEncodeString does. */
export function templateHash(template: any, collisionCount = 0): string {
  const text =
    canonical(template) + (collisionCount ? String(collisionCount) : '');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h)
    .split('')
    .map(ch => SAFE[ch.charCodeAt(0) % SAFE.length])
    .join('');
}

/** The template's canonical form without its `pod-template-hash` label (no deep copy: it runs on every sync). */
function withoutHash(template: any): string {
  const t = template ?? {};
  const labels = t.metadata?.labels;
  if (!labels || !(HASH_LABEL in labels)) return canonical(t);
  const { [HASH_LABEL]: _hash, ...rest } = labels;
  return canonical({ ...t, metadata: { ...t.metadata, labels: rest } });
}

export function resolveIntOrPercent(
  value: unknown,
  total: number,
  roundUp: boolean,
): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? ''));
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function revisionOf(rs: any): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function copiedAnnotations(d: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (!NOT_COPIED.has(k)) out[k] = String(v);
  }
  return out;
}

function condition(
  type: string,
  status: string,
  reason: string,
  message: string,
  previous: any[] | undefined,
  nowMs: number,
  touch = true,
) {
  const prev = (previous ?? []).find(c => c.type === type);
  const same =
    prev &&
    prev.status === status &&
    prev.reason === reason &&
    prev.message === message;
  return {
    type,
    status,
    lastUpdateTime: same && !touch ? prev.lastUpdateTime : nowIso(nowMs),
    lastTransitionTime:
      prev && prev.status === status ? prev.lastTransitionTime : nowIso(nowMs),
    reason,
    message,
  };
}

export class DeploymentController {
  /** uid -> wall-clock ms of the last progress, kept precise for the scaled progress deadline. */
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {}

  /**
   * Syncs one Deployment with the ReplicaSets it controls (`owned`, in creation order). Returns when
   * it must be looked at again without any change (its progress deadline), or undefined.
   */
  reconcile(d: any, owned: any[]): number | undefined {
    if (d.metadata.deletionTimestamp) return undefined;
    const controlled = owned.filter(
      rs => controllerOf(rs)?.uid === d.metadata.uid,
    );
    return this.sync(d, controlled);
  }

  forget(uid: string) {
    this.lastProgress.delete(uid);
  }

  private scaleRs(d: any, rs: any, replicas: number): any {
    const from = rs.spec.replicas ?? 0;
    const next = structuredClone(rs);
    next.spec.replicas = replicas;
    next.metadata.annotations = {
      ...(next.metadata.annotations ?? {}),
      [REVISION]: next.metadata.annotations?.[REVISION],
      [DESIRED]: String(d.spec.replicas ?? 1),
      [MAX_REPLICAS]: String((d.spec.replicas ?? 1) + this.maxSurge(d)),
    };
    const stored = this.ctx.store.update(TYPES.replicasets, next);
    if (from !== replicas) {
      this.ctx.events.record(
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${replicas > from ? 'up' : 'down'} replica set ${
          rs.metadata.name
        } from ${from} to ${replicas}`,
        'deployment-controller',
      );
      this.lastProgress.set(d.metadata.uid, Date.now());
    }
    return stored.obj;
  }

  private maxSurge(d: any): number {
    if (d.spec.strategy?.type === 'Recreate') return 0;
    return resolveIntOrPercent(
      d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%',
      d.spec.replicas ?? 1,
      true,
    );
  }

  private maxUnavailable(d: any): number {
    if (d.spec.strategy?.type === 'Recreate') return 0;
    const replicas = d.spec.replicas ?? 1;
    let mu = resolveIntOrPercent(
      d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%',
      replicas,
      false,
    );
    if (mu === 0 && this.maxSurge(d) === 0) mu = 1;
    return Math.min(mu, replicas);
  }

  private sync(d: any, owned: any[]): number | undefined {
    const ctx = this.ctx;
    const replicas = d.spec.replicas ?? 1;
    const paused = !!d.spec.paused;
    const uid = d.metadata.uid;
    const generationChanged =
      (d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 1);
    if (generationChanged || !this.lastProgress.has(uid)) {
      const fromStatus = (d.status?.conditions ?? []).find(
        (c: any) => c.type === 'Progressing',
      )?.lastUpdateTime;
      this.lastProgress.set(
        uid,
        generationChanged || !fromStatus ? Date.now() : Date.parse(fromStatus),
      );
    }
    const templateKey = withoutHash(d.spec.template);
    let newRs = owned.find(rs => withoutHash(rs.spec.template) === templateKey);
    let oldRss = owned.filter(rs => rs !== newRs);
    const maxRevision = owned.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    let createdMessage: string | undefined;

    if (!newRs && !paused) {
      const hash = templateHash(d.spec.template);
      const template = structuredClone(d.spec.template);
      template.metadata = template.metadata ?? {};
      template.metadata.labels = {
        ...(template.metadata.labels ?? {}),
        [HASH_LABEL]: hash,
      };
      const oldTotal = oldRss.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      let initial = replicas;
      if (oldTotal > 0) {
        initial =
          d.spec.strategy?.type === 'Recreate'
            ? 0
            : Math.max(
                0,
                Math.min(replicas, replicas + this.maxSurge(d) - oldTotal),
              );
      }
      const created = ctx.store.create(TYPES.replicasets, {
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: template.metadata.labels,
          annotations: {
            ...copiedAnnotations(d),
            [DESIRED]: String(replicas),
            [MAX_REPLICAS]: String(replicas + this.maxSurge(d)),
            [REVISION]: String(maxRevision + 1),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: d.metadata.name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          replicas: initial,
          minReadySeconds: d.spec.minReadySeconds ?? 0,
          selector: {
            ...d.spec.selector,
            matchLabels: {
              ...(d.spec.selector?.matchLabels ?? {}),
              [HASH_LABEL]: hash,
            },
          },
          template,
        },
      });
      newRs = created.obj;
      createdMessage = `Created new replica set "${newRs.metadata.name}"`;
      this.lastProgress.set(uid, Date.now());
      if (initial > 0) {
        ctx.events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${newRs.metadata.name} from 0 to ${initial}`,
          'deployment-controller',
        );
      }
    } else if (newRs && !paused) {
      // Keep the new ReplicaSet's revision the highest (a rollback makes an old one new again) and its
      // annotations in step with the Deployment's.
      const wanted = {
        ...copiedAnnotations(d),
        [REVISION]: String(
          revisionOf(newRs) < maxRevision ? maxRevision + 1 : revisionOf(newRs),
        ),
        [DESIRED]: String(replicas),
        [MAX_REPLICAS]: String(replicas + this.maxSurge(d)),
      };
      if (canonical(wanted) !== canonical(newRs.metadata.annotations ?? {})) {
        const next = structuredClone(newRs);
        next.metadata.annotations = wanted;
        if (revisionOf(newRs) < maxRevision)
          this.lastProgress.set(uid, Date.now());
        newRs = ctx.store.update(TYPES.replicasets, next).obj;
      }
    }

    if (newRs && !paused) {
      if (d.spec.strategy?.type === 'Recreate') {
        const oldActive = oldRss.filter(rs => (rs.spec.replicas ?? 0) > 0);
        oldRss = oldRss.map(rs =>
          (rs.spec.replicas ?? 0) > 0 ? this.scaleRs(d, rs, 0) : rs,
        );
        const oldPods = oldRss.reduce(
          (n, rs) => n + (rs.status?.replicas ?? 0),
          0,
        );
        if (
          oldActive.length === 0 &&
          oldPods === 0 &&
          (newRs.spec.replicas ?? 0) !== replicas
        ) {
          newRs = this.scaleRs(d, newRs, replicas);
        }
      } else {
        newRs = this.rollingUpdate(d, newRs, oldRss);
        oldRss = oldRss.map(rs => {
          const current = ctx.store.get(
            TYPES.replicasets,
            rs.metadata.namespace,
            rs.metadata.name,
          )?.obj;
          return current?.metadata.uid === rs.metadata.uid ? current : rs;
        });
      }
    }

    this.cleanup(d, newRs, oldRss);
    return this.writeStatus(d, newRs, oldRss, createdMessage);
  }

  private rollingUpdate(d: any, currentNewRs: any, oldRss: any[]): any {
    let newRs = currentNewRs;
    const replicas = d.spec.replicas ?? 1;
    const maxSurge = this.maxSurge(d);
    const maxUnavailable = this.maxUnavailable(d);
    const specTotal = () =>
      [newRs, ...oldRss].reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);

    // Scale up the new ReplicaSet within maxSurge.
    const newReplicas = newRs.spec.replicas ?? 0;
    if (newReplicas < replicas) {
      const room = replicas + maxSurge - specTotal();
      if (room > 0)
        newRs = this.scaleRs(
          d,
          newRs,
          newReplicas + Math.min(room, replicas - newReplicas),
        );
    } else if (newReplicas > replicas) {
      newRs = this.scaleRs(d, newRs, replicas);
    }

    // Scale down old ReplicaSets while at least replicas - maxUnavailable pods stay available.
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable = Math.max(
      0,
      (newRs.spec.replicas ?? 0) - (newRs.status?.availableReplicas ?? 0),
    );
    let budget = specTotal() - minAvailable - newUnavailable;
    if (budget <= 0) return newRs;
    const oldest = [...oldRss].sort((a, b) => revisionOf(a) - revisionOf(b));
    // Unhealthy old pods go first: removing them costs no availability.
    for (let i = 0; i < oldest.length && budget > 0; i++) {
      const rs = oldest[i];
      const unhealthy =
        (rs.spec.replicas ?? 0) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const cut = Math.min(unhealthy, budget);
      oldest[i] = this.scaleRs(d, rs, (rs.spec.replicas ?? 0) - cut);
      budget -= cut;
    }
    const available = [newRs, ...oldest].reduce(
      (n, rs) =>
        n + Math.min(rs.spec.replicas ?? 0, rs.status?.availableReplicas ?? 0),
      0,
    );
    let scaleDown = available - minAvailable;
    for (let i = 0; i < oldest.length && scaleDown > 0; i++) {
      const rs = oldest[i];
      const current = rs.spec.replicas ?? 0;
      if (current === 0) continue;
      const cut = Math.min(current, scaleDown);
      oldest[i] = this.scaleRs(d, rs, current - cut);
      scaleDown -= cut;
    }
    return newRs;
  }

  private cleanup(d: any, newRs: any, oldRss: any[]) {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const removable = oldRss
      .filter(
        rs =>
          rs !== newRs &&
          (rs.spec.replicas ?? 0) === 0 &&
          (rs.status?.replicas ?? 0) === 0,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    const excess = removable.length - limit;
    for (let i = 0; i < excess; i++) {
      const rs = removable[i];
      try {
        this.ctx.store.delete(
          TYPES.replicasets,
          rs.metadata.namespace,
          rs.metadata.name,
        );
      } catch {
        // Already gone.
      }
    }
  }

  private writeStatus(
    deployment: any,
    newRs: any | undefined,
    oldRss: any[],
    createdMessage?: string,
  ): number | undefined {
    let d = deployment;
    const ctx = this.ctx;
    const now = Date.now();
    const replicas = d.spec.replicas ?? 1;
    const all = [newRs, ...oldRss]
      .filter(Boolean)
      .filter(rs =>
        ctx.store.get(
          TYPES.replicasets,
          rs.metadata.namespace,
          rs.metadata.name,
        ),
      );
    const sum = (f: (rs: any) => number) => all.reduce((n, rs) => n + f(rs), 0);
    const prev = d.status ?? {};
    const status: any = {
      observedGeneration: d.metadata.generation,
      replicas: sum(rs => rs.status?.replicas ?? 0),
      updatedReplicas: newRs ? newRs.status?.replicas ?? 0 : 0,
      readyReplicas: sum(rs => rs.status?.readyReplicas ?? 0),
      availableReplicas: sum(rs => rs.status?.availableReplicas ?? 0),
    };
    status.unavailableReplicas = Math.max(
      0,
      sum(rs => rs.spec.replicas ?? 0) - status.availableReplicas,
    );
    // Progress: any change in these counts moves the deadline, as DeploymentProgressing does.
    const counts = [
      'replicas',
      'updatedReplicas',
      'readyReplicas',
      'availableReplicas',
    ];
    if (
      counts.some(k => (prev[k] ?? 0) !== status[k]) &&
      prev.observedGeneration !== undefined
    ) {
      if (
        status.updatedReplicas > (prev.updatedReplicas ?? 0) ||
        status.availableReplicas > (prev.availableReplicas ?? 0) ||
        status.replicas < (prev.replicas ?? 0) ||
        status.readyReplicas > (prev.readyReplicas ?? 0)
      ) {
        this.lastProgress.set(d.metadata.uid, now);
      }
    }
    const prevConditions: any[] = prev.conditions ?? [];
    const prevProgressing = prevConditions.find(c => c.type === 'Progressing');
    const minAvailable = replicas - this.maxUnavailable(d);
    const available = condition(
      'Available',
      status.availableReplicas >= minAvailable ? 'True' : 'False',
      status.availableReplicas >= minAvailable
        ? 'MinimumReplicasAvailable'
        : 'MinimumReplicasUnavailable',
      status.availableReplicas >= minAvailable
        ? 'Deployment has minimum availability.'
        : 'Deployment does not have minimum availability.',
      prevConditions,
      now,
      false,
    );
    const complete =
      !!newRs &&
      status.updatedReplicas === replicas &&
      (newRs.spec.replicas ?? 0) === replicas &&
      (newRs.status?.availableReplicas ?? 0) >= replicas &&
      status.replicas === replicas;
    const rsName = newRs?.metadata.name ?? d.metadata.name;
    const lastProgress = this.lastProgress.get(d.metadata.uid) ?? now;
    const deadline =
      lastProgress + ctx.duration(d.spec.progressDeadlineSeconds ?? 600);
    /** When the Progressing condition changes with time alone. */
    let nextAt: number | undefined;
    let progressing: any;
    if (d.spec.paused) {
      progressing = condition(
        'Progressing',
        'Unknown',
        'DeploymentPaused',
        'Deployment is paused',
        prevConditions,
        now,
        false,
      );
    } else if (complete) {
      progressing = condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${rsName}" has successfully progressed.`,
        prevConditions,
        now,
        prevProgressing?.reason !== 'NewReplicaSetAvailable',
      );
    } else if (now > deadline) {
      progressing = condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${rsName}" has timed out progressing.`,
        prevConditions,
        now,
        false,
      );
      if (prevProgressing?.reason !== 'ProgressDeadlineExceeded') {
        ctx.events.record(
          d,
          'Warning',
          'ProgressDeadlineExceeded',
          `Deployment "${d.metadata.name}" has timed out progressing.`,
          'deployment-controller',
        );
      }
    } else if (createdMessage) {
      nextAt = deadline + 1;
      progressing = condition(
        'Progressing',
        'True',
        'NewReplicaSetCreated',
        createdMessage,
        prevConditions,
        lastProgress,
      );
    } else if (
      prevProgressing?.reason === 'DeploymentPaused' ||
      prevProgressing?.reason === 'DeploymentResumed'
    ) {
      progressing = condition(
        'Progressing',
        'Unknown',
        'DeploymentResumed',
        'Deployment is resumed',
        prevConditions,
        now,
        false,
      );
      // Resumed turns to ReplicaSetUpdated on the next sync after any progress.
      nextAt = Math.max(now + 1, lastProgress + 1);
      if (
        prevProgressing.reason === 'DeploymentResumed' &&
        now - lastProgress > 0
      ) {
        nextAt = deadline + 1;
        progressing = condition(
          'Progressing',
          'True',
          'ReplicaSetUpdated',
          `ReplicaSet "${rsName}" is progressing.`,
          prevConditions,
          lastProgress,
        );
      }
    } else {
      nextAt = deadline + 1;
      progressing = condition(
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${rsName}" is progressing.`,
        prevConditions,
        lastProgress,
      );
    }
    status.conditions = [available, progressing];
    for (const k of [
      'readyReplicas',
      'availableReplicas',
      'unavailableReplicas',
      'updatedReplicas',
      'replicas',
    ]) {
      if (status[k] === 0) delete status[k];
    }
    const revision = newRs
      ? String(revisionOf(newRs))
      : d.metadata.annotations?.[REVISION];
    if (revision && d.metadata.annotations?.[REVISION] !== revision) {
      const next = structuredClone(d);
      next.metadata.annotations = {
        ...(next.metadata.annotations ?? {}),
        [REVISION]: revision,
      };
      d = ctx.store.update(TYPES.deployments, next).obj;
    }
    if (canonical(status) !== canonical(d.status ?? {})) {
      const next = structuredClone(d);
      next.status = status;
      ctx.store.update(TYPES.deployments, next, { subresource: 'status' });
    }
    return nextAt;
  }
}
