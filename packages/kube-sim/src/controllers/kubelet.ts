import { ControllerContext, TYPES } from './types';
import { allocatePodIp } from '../store/defaults';
import {
  imageBehaviour,
  podLifecycle,
  START_AFTER_BINDING,
} from '../lifecycle/podLifecycle';

/**
 * The scheduler and kubelet in one: binds pods to the single simulated node after 0.5 s, then
 * walks each pod through the simulated kubelet's lifecycle (../lifecycle/podLifecycle.ts, shared
 * with kube-real's node agent for real API servers).
 */

export const NODE_NAME = 'kube-sim-node';
/** Loopback, like every simulated address (see allocatePodIp). */
export const NODE_IP = '127.0.0.1';

const SCHEDULE_AFTER = 0.5;

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
  const boundAt = timeline.createdAt + ctx.duration(SCHEDULE_AFTER);
  if (!pod.spec.nodeName) {
    if (now < boundAt) return boundAt;
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
    return boundAt + ctx.duration(START_AFTER_BINDING);
  }
  const clock = {
    boundAt,
    get readyAt() {
      return timeline.readyAt;
    },
    set readyAt(at: number | undefined) {
      timeline.readyAt = at;
    },
    get readinessFailing() {
      return timeline.readinessFailing;
    },
    get unreadyAt() {
      return timeline.unreadyAt;
    },
    set unreadyAt(at: number | undefined) {
      timeline.unreadyAt = at;
    },
  };
  const step = podLifecycle(
    pod,
    clock,
    { duration: s => ctx.duration(s), hostIP: NODE_IP, podIP: allocatePodIp },
    now,
  );
  if (!step.changed) return step.nextAt;
  const next = structuredClone(pod);
  next.status = step.status;
  ctx.store.update(TYPES.pods, next, { subresource: 'status' });
  for (const e of step.events)
    ctx.events.record(pod, e.type, e.reason, e.message, 'kubelet');
  return step.nextAt;
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
