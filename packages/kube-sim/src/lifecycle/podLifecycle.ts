/**
 * The simulated kubelet's rules for one pod, apart from where the pod lives: kube-sim's own store
 * applies them to its pods, and `@internal/kube-real`'s node agent applies them to the pods a real
 * API server binds to its nodes. Given when the pod was bound and the time now, it says what the
 * pod's status is, which kubelet events that change emits, and when the pod changes next on its own.
 *
 * The timeline, in simulated seconds from the binding: images pulled and containers started after
 * 1.5 s, Ready after the readiness probe's `initialDelaySeconds` + 1 s. Images whose tag says
 * `crashloop` or `broken` start, exit with an error after 2 s and back off (10 s, 20 s, 40 s ...
 * capped at 5 min); tags with `notfound` or `doesnotexist` never pull.
 */

import { nowIso } from '../controllers/types';

/**
 * From the binding to the containers' start.
 * @public
 */
export const START_AFTER_BINDING = 1.5;
/** How long a crash-looping container runs before it exits. */
const CRASH_RUNS_FOR = 2;

/** @public */
export type ImageBehaviour = 'healthy' | 'crashloop' | 'pullError';

/** @public */
export function imageBehaviour(image: string): ImageBehaviour {
  const last = image.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  if (/crashloop|broken/.test(tag)) return 'crashloop';
  if (/notfound|doesnotexist/.test(tag)) return 'pullError';
  return 'healthy';
}

/**
 * What the kubelet remembers of a pod beyond its API object (wall-clock ms).
 * @public
 */
export interface PodClock {
  /** When the pod was bound to its node. */
  boundAt: number;
  /** When all its containers last became ready; kept by podLifecycle. */
  readyAt?: number;
  /**
   * The readiness probes of its containers fail (the application answers its probe with 503):
   * a container with a readiness probe is then not ready, as a kubelet reports once the probe
   * has failed `failureThreshold` times in a row; it is ready again as soon as this is cleared
   * (the probe passes). Containers without a readiness probe are not affected, as on a real node.
   */
  readinessFailing?: boolean;
  /** When its containers last stopped being ready after they had been; kept by podLifecycle. */
  unreadyAt?: number;
}

/** @public */
export interface PodLifecycleOptions {
  /** Milliseconds a simulated duration of `seconds` lasts. */
  duration(seconds: number): number;
  hostIP: string;
  /** The pod's address when it has none yet. */
  podIP: () => string;
}

/** @public */
export interface KubeletEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** @public */
export interface PodLifecycleStep {
  /** The status the pod has now; equal (as JSON) to the current one when nothing changed. */
  status: any;
  changed: boolean;
  /** The kubelet events of this change, in order. */
  events: KubeletEvent[];
  /** When the pod changes next on its own (wall-clock ms), if it does. */
  nextAt?: number;
}

interface ContainerView {
  status: any;
  ready: boolean;
  restarts: number;
  nextAt?: number;
}

function crashState(
  options: PodLifecycleOptions,
  c: any,
  runningSince: number,
  now: number,
): ContainerView {
  // Cycle: run CRASH_RUNS_FOR seconds, exit 1, back off 10 s * 2^n (max 300 s), start again.
  const { duration } = options;
  let t = runningSince;
  let restarts = 0;
  for (;;) {
    const exitAt = t + duration(CRASH_RUNS_FOR);
    if (now < exitAt) {
      return {
        ready: false,
        restarts,
        nextAt: exitAt,
        status: {
          state: { running: { startedAt: nowIso(t) } },
          ...(restarts > 0
            ? {
                lastState: {
                  terminated: {
                    exitCode: 1,
                    reason: 'Error',
                    startedAt: nowIso(t - duration(CRASH_RUNS_FOR)),
                    finishedAt: nowIso(t),
                  },
                },
              }
            : {}),
          started: true,
        },
      };
    }
    const backoff = Math.min(300, 10 * 2 ** restarts);
    const restartAt = exitAt + duration(backoff);
    if (now < restartAt) {
      return {
        ready: false,
        restarts,
        nextAt: restartAt,
        status: {
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off ${
                backoff >= 60
                  ? `${Math.floor(backoff / 60)}m${backoff % 60}s`
                  : `${backoff}s`
              } restarting failed container=${c.name}`,
            },
          },
          lastState: {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              startedAt: nowIso(t),
              finishedAt: nowIso(exitAt),
            },
          },
          started: false,
        },
      };
    }
    t = restartAt;
    restarts++;
  }
}

function containerView(
  options: PodLifecycleOptions,
  pod: any,
  c: any,
  startedAt: number,
  now: number,
  readinessFailing: boolean,
): ContainerView {
  const started = now >= startedAt;
  const behaviour = imageBehaviour(String(c.image));
  const base = {
    name: c.name,
    image: c.image,
    imageID:
      behaviour === 'pullError' || !started
        ? ''
        : `${c.image.split(':')[0]}@sha256:${hashHex(c.image)}`,
    containerID:
      started && behaviour !== 'pullError'
        ? `containerd://${hashHex(pod.metadata.uid + c.name)}`
        : undefined,
  };
  if (behaviour === 'pullError') {
    return {
      ready: false,
      restarts: 0,
      status: {
        ...base,
        state: {
          waiting: {
            reason: 'ImagePullBackOff',
            message: `Back-off pulling image "${c.image}"`,
          },
        },
        started: false,
      },
    };
  }
  if (!started) {
    return {
      ready: false,
      restarts: 0,
      nextAt: startedAt,
      status: {
        ...base,
        state: { waiting: { reason: 'ContainerCreating' } },
        started: false,
      },
    };
  }
  if (behaviour === 'crashloop') {
    const v = crashState(options, c, startedAt, now);
    return { ...v, status: { ...base, ...v.status } };
  }
  const readyDelay =
    (c.readinessProbe?.initialDelaySeconds ?? 0) + (c.readinessProbe ? 1 : 0);
  const readyAt = startedAt + options.duration(readyDelay);
  const probeFails = readinessFailing && Boolean(c.readinessProbe);
  const ready = now >= readyAt && !probeFails;
  return {
    ready,
    restarts: 0,
    nextAt: ready || now >= readyAt ? undefined : readyAt,
    status: {
      ...base,
      state: { running: { startedAt: nowIso(startedAt) } },
      started: true,
    },
  };
}

/**
 * The status of a bound pod at `now`, and what changed since its current status.
 * @public
 */
export function podLifecycle(
  pod: any,
  clock: PodClock,
  options: PodLifecycleOptions,
  now = Date.now(),
): PodLifecycleStep {
  const scheduledAt = clock.boundAt;
  const startedAt = clock.boundAt + options.duration(START_AFTER_BINDING);
  const started = now >= startedAt;
  const containers: any[] = pod.spec.containers ?? [];
  const views = containers.map(c =>
    containerView(
      options,
      pod,
      c,
      startedAt,
      now,
      Boolean(clock.readinessFailing),
    ),
  );
  const allReady = views.length > 0 && views.every(v => v.ready);
  if (allReady && clock.readyAt === undefined) clock.readyAt = now;
  if (allReady) clock.unreadyAt = undefined;
  if (!allReady && clock.readyAt !== undefined) clock.unreadyAt = now;
  if (!allReady) clock.readyAt = undefined;
  const anyPullError = containers.some(
    c => imageBehaviour(String(c.image)) === 'pullError',
  );
  const running = started && !anyPullError;
  const readyTransition = allReady
    ? clock.readyAt!
    : clock.unreadyAt ?? startedAt;
  const cond = (type: string, ok: boolean, at: number, reason?: string) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: nowIso(at),
    ...(reason && !ok ? { reason } : {}),
  });
  const prevStatus = pod.status ?? {};
  const status: any = {
    phase: running ? 'Running' : 'Pending',
    conditions: [
      cond('PodReadyToStartContainers', started, startedAt),
      cond('Initialized', true, scheduledAt),
      cond('Ready', allReady, readyTransition, 'ContainersNotReady'),
      cond('ContainersReady', allReady, readyTransition, 'ContainersNotReady'),
      cond('PodScheduled', true, scheduledAt),
    ],
    hostIP: options.hostIP,
    hostIPs: [{ ip: options.hostIP }],
    podIP: prevStatus.podIP || options.podIP(),
    startTime: nowIso(scheduledAt),
    containerStatuses: views.map((v, i) => ({
      ...v.status,
      ready: v.ready,
      restartCount: v.restarts,
      name: containers[i].name,
    })),
    qosClass: qosClass(containers),
  };
  status.podIPs = [{ ip: status.podIP }];
  let nextAt: number | undefined;
  for (const v of views) {
    if (v.nextAt !== undefined && (nextAt === undefined || v.nextAt < nextAt))
      nextAt = v.nextAt;
  }
  if (sameStatus(status, prevStatus))
    return { status: prevStatus, changed: false, events: [], nextAt };
  return {
    status,
    changed: true,
    events: kubeletEvents(pod, containers, views, prevStatus),
    nextAt,
  };
}

/**
 * Equal as the kubelet would write them. A real API server drops `hostIPs` and the
 * `PodReadyToStartContainers` condition where it predates them (1.20), so those are compared only
 * when the current status has them.
 */
function sameStatus(next: any, prev: any): boolean {
  const known = structuredClone(next);
  if (prev.hostIPs === undefined) delete known.hostIPs;
  const prevTypes = new Set((prev.conditions ?? []).map((c: any) => c.type));
  known.conditions = known.conditions.filter((c: any) => prevTypes.has(c.type));
  if (known.conditions.length === 0) delete known.conditions;
  return canonicalJson(known) === canonicalJson(prev);
}

/**
 * Sorted keys, and no empty values: a real API server writes back `lastState: {}`, `imageID: ''`
 * and `lastProbeTime: null` where the simulation leaves the field out.
 * @public
 */
export function canonicalJson(v: any): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter(k => !isEmpty(v[k]))
      .sort()
      .map(k => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function isEmpty(v: any): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).every(k => isEmpty(v[k]));
  return false;
}

function kubeletEvents(
  pod: any,
  containers: any[],
  views: ContainerView[],
  prevStatus: any,
): KubeletEvent[] {
  const events: KubeletEvent[] = [];
  const prevViews: any[] = prevStatus.containerStatuses ?? [];
  views.forEach((v, i) => {
    const c = containers[i];
    const prev = prevViews.find(p => p.name === c.name);
    if (v.status.state?.running && !prev?.state?.running) {
      events.push(
        {
          type: 'Normal',
          reason: 'Pulled',
          message: `Container image "${c.image}" already present on machine`,
        },
        {
          type: 'Normal',
          reason: 'Created',
          message: `Created container ${c.name}`,
        },
        {
          type: 'Normal',
          reason: 'Started',
          message: `Started container ${c.name}`,
        },
      );
    }
    const waiting = v.status.state?.waiting?.reason;
    const wasWaiting = prev?.state?.waiting?.reason;
    if (waiting === 'CrashLoopBackOff' && wasWaiting !== 'CrashLoopBackOff') {
      events.push({
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
      });
    }
    if (
      prev?.ready &&
      !v.ready &&
      v.status.state?.running &&
      prev.state?.running &&
      c.readinessProbe
    ) {
      events.push({
        type: 'Warning',
        reason: 'Unhealthy',
        message:
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
      });
    }
    if (waiting === 'ImagePullBackOff' && wasWaiting !== 'ImagePullBackOff') {
      events.push({
        type: 'Warning',
        reason: 'Failed',
        message: `Failed to pull image "${c.image}": not found`,
      });
    }
  });
  return events;
}

function qosClass(containers: any[]): string {
  const all = containers.map(c => c.resources ?? {});
  if (all.every(r => !r.requests && !r.limits)) return 'BestEffort';
  const guaranteed = all.every(
    r =>
      r.limits?.cpu &&
      r.limits?.memory &&
      (!r.requests ||
        (r.requests.cpu === r.limits.cpu &&
          r.requests.memory === r.limits.memory)),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function hashHex(s: string): string {
  let h1 = 0x811c9dc5;
  let out = '';
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < s.length; i++) {
      h1 ^= s.charCodeAt(i) + round;
      h1 = Math.imul(h1, 0x01000193) >>> 0;
    }
    out += h1.toString(16).padStart(8, '0');
  }
  return out;
}
