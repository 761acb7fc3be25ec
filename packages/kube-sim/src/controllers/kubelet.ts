import { ControllerContext, TYPES, nowIso } from './types';
import { allocatePodIp } from '../store/defaults';

/**
 * The scheduler and kubelet in one: binds pods to the single simulated node, then walks each pod
 * through its life on a timeline in simulated seconds: scheduled, image pulled and started, ready
 * after its readiness probe's initial delay. Images whose tag says `crashloop` or `broken` start,
 * exit with an error and back off (10 s, 20 s, 40 s ... capped at 5 min); tags with `notfound`
 * never pull.
 */

export const NODE_NAME = 'kube-sim-node';

const SCHEDULE_AFTER = 0.5;
const START_AFTER = 2;
const CRASH_RUNS_FOR = 2;

export type ImageBehaviour = 'healthy' | 'crashloop' | 'pullError';

export function imageBehaviour(image: string): ImageBehaviour {
  const last = image.split('/').pop() ?? '';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  if (/crashloop|broken/.test(tag)) return 'crashloop';
  if (/notfound|doesnotexist/.test(tag)) return 'pullError';
  return 'healthy';
}

interface ContainerView {
  status: any;
  ready: boolean;
  restarts: number;
  /** When this container's state changes next on its own (ms), if it does. */
  nextAt?: number;
}

function crashState(
  ctx: ControllerContext,
  c: any,
  runningSince: number,
  now: number,
): ContainerView {
  // Cycle: run CRASH_RUNS_FOR seconds, exit 1, back off 10 s * 2^n (max 300 s), start again.
  let t = runningSince;
  let restarts = 0;
  for (;;) {
    const exitAt = t + ctx.duration(CRASH_RUNS_FOR);
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
                    startedAt: nowIso(t - ctx.duration(CRASH_RUNS_FOR)),
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
    const restartAt = exitAt + ctx.duration(backoff);
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

/**
 * Brings one pod's binding and status up to date with its timeline. Returns when the pod changes
 * next on its own (wall-clock ms), so that the caller looks at it again then, or undefined.
 */
export function reconcilePod(
  ctx: ControllerContext,
  pod: any,
  now = Date.now(),
): number | undefined {
  if (pod.metadata.deletionTimestamp) return undefined;
  const timeline = ctx.pods.timeline(pod.metadata.uid);
  const elapsed = now - timeline.createdAt;
  if (!pod.spec.nodeName) {
    if (elapsed < ctx.duration(SCHEDULE_AFTER))
      return timeline.createdAt + ctx.duration(SCHEDULE_AFTER);
    const bound = structuredClone(pod);
    bound.spec.nodeName = NODE_NAME;
    ctx.store.update(TYPES.pods, bound, { subresource: 'all' });
    ctx.events.record(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${NODE_NAME}`,
      'default-scheduler',
    );
    // The binding is a change of its own: the pod is looked at again for it.
    return timeline.createdAt + ctx.duration(START_AFTER);
  }
  const scheduledAt = timeline.createdAt + ctx.duration(SCHEDULE_AFTER);
  const startedAt = timeline.createdAt + ctx.duration(START_AFTER);
  const started = now >= startedAt;
  const containers: any[] = pod.spec.containers ?? [];
  const views: ContainerView[] = containers.map(c => {
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
      const v = crashState(ctx, c, startedAt, now);
      return { ...v, status: { ...base, ...v.status } };
    }
    const readyDelay =
      (c.readinessProbe?.initialDelaySeconds ?? 0) +
      (c.readinessProbe ? 1 : 0);
    const readyAt = startedAt + ctx.duration(readyDelay);
    const ready = now >= readyAt;
    return {
      ready,
      restarts: 0,
      nextAt: ready ? undefined : readyAt,
      status: {
        ...base,
        state: { running: { startedAt: nowIso(startedAt) } },
        started: true,
      },
    };
  });
  const allReady = views.length > 0 && views.every(v => v.ready);
  if (allReady && timeline.readyAt === undefined) timeline.readyAt = now;
  if (!allReady) timeline.readyAt = undefined;
  const anyPullError = containers.some(
    c => imageBehaviour(String(c.image)) === 'pullError',
  );
  const running = started && !anyPullError;
  const readyTransition = allReady ? timeline.readyAt! : startedAt;
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
      cond(
        'ContainersReady',
        allReady,
        readyTransition,
        'ContainersNotReady',
      ),
      cond('PodScheduled', true, scheduledAt),
    ],
    hostIP: '10.0.0.10',
    hostIPs: [{ ip: '10.0.0.10' }],
    podIP: prevStatus.podIP ?? allocatePodIp(),
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
  if (JSON.stringify(status) === JSON.stringify(prevStatus)) return nextAt;
  const next = structuredClone(pod);
  next.status = status;
  ctx.store.update(TYPES.pods, next, { subresource: 'status' });
  // Kubelet events, once per transition.
  const prevViews: any[] = prevStatus.containerStatuses ?? [];
  views.forEach((v, i) => {
    const c = containers[i];
    const prev = prevViews.find(p => p.name === c.name);
    if (v.status.state?.running && !prev?.state?.running) {
      ctx.events.record(
        pod,
        'Normal',
        'Pulled',
        `Container image "${c.image}" already present on machine`,
        'kubelet',
      );
      ctx.events.record(
        pod,
        'Normal',
        'Created',
        `Created container ${c.name}`,
        'kubelet',
      );
      ctx.events.record(
        pod,
        'Normal',
        'Started',
        `Started container ${c.name}`,
        'kubelet',
      );
    }
    if (
      v.status.state?.waiting?.reason === 'CrashLoopBackOff' &&
      prev?.state?.waiting?.reason !== 'CrashLoopBackOff'
    ) {
      ctx.events.record(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
        'kubelet',
      );
    }
    if (
      v.status.state?.waiting?.reason === 'ImagePullBackOff' &&
      prev?.state?.waiting?.reason !== 'ImagePullBackOff'
    ) {
      ctx.events.record(
        pod,
        'Warning',
        'Failed',
        `Failed to pull image "${c.image}": not found`,
        'kubelet',
      );
    }
  });
  return nextAt;
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

function hashHex(s: string): string {
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

/** What `kubectl logs` shows for a simulated container. */
export function podLogs(pod: any, container: string | undefined): string {
  const c = (pod.spec?.containers ?? []).find(
    (x: any) => !container || x.name === container,
  );
  if (!c) return '';
  const started = pod.status?.startTime ?? new Date().toISOString();
  const lines = [
    `${started} INFO ${c.name}: starting ${c.image} (simulated by kube-sim)`,
    `${started} INFO ${c.name}: listening on 0.0.0.0:${
      c.ports?.[0]?.containerPort ?? 8080
    }`,
  ];
  if (imageBehaviour(String(c.image)) === 'crashloop') {
    lines.push(
      `${started} ERROR ${c.name}: thread 'main' panicked at src/main.rs:42:10: failed to connect to database: connection refused`,
    );
  }
  return `${lines.join('\n')}\n`;
}
