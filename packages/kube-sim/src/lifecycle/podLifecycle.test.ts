import { imageBehaviour, podLifecycle, PodClock } from './podLifecycle';

const options = {
  duration: (s: number) => s * 1000,
  hostIP: '127.0.1.1',
  podIP: () => '127.1.0.1',
};

function pod(image: string, readinessProbe?: object) {
  return {
    metadata: { name: 'p', namespace: 'n', uid: 'u1' },
    spec: {
      nodeName: 'node',
      containers: [{ name: 'app', image, readinessProbe }],
    },
    status: { phase: 'Pending' },
  };
}

/** Applies steps as a store would, returning the statuses seen at the given seconds after binding. */
function walk(p: any, seconds: number[]) {
  const clock: PodClock = { boundAt: 0 };
  return seconds.map(t => {
    const step = podLifecycle(p, clock, options, t * 1000);
    if (step.changed) p.status = step.status;
    return step;
  });
}

describe('podLifecycle', () => {
  it('starts containers 1.5 s after the binding and turns Ready after the probe delay + 1 s', () => {
    const p = pod('acme/api:1.0.0', { initialDelaySeconds: 2 });
    const [creating, running, ready, quiet] = walk(p, [0, 1.5, 4.5, 10]);
    expect(creating.status.phase).toBe('Pending');
    expect(creating.status.containerStatuses[0].state.waiting.reason).toBe(
      'ContainerCreating',
    );
    expect(creating.nextAt).toBe(1500);
    expect(running.status.phase).toBe('Running');
    expect(running.status.containerStatuses[0].ready).toBe(false);
    expect(running.nextAt).toBe(4500);
    expect(running.events.map(e => e.reason)).toEqual([
      'Pulled',
      'Created',
      'Started',
    ]);
    expect(
      ready.status.conditions.find((c: any) => c.type === 'Ready').status,
    ).toBe('True');
    expect(ready.status.podIP).toBe('127.1.0.1');
    expect(ready.status.hostIP).toBe('127.0.1.1');
    expect(quiet).toEqual(
      expect.objectContaining({
        changed: false,
        events: [],
        nextAt: undefined,
      }),
    );
  });

  it('turns a ready container unready while its readiness probe fails, and ready again when it passes', () => {
    const p = pod('acme/api:1.0.0', { initialDelaySeconds: 0 });
    const clock: PodClock = { boundAt: 0 };
    const at = (t: number) => {
      const step = podLifecycle(p, clock, options, t * 1000);
      if (step.changed) p.status = step.status;
      return step;
    };
    const readyCondition = (step: any) =>
      step.status.conditions.find((c: any) => c.type === 'Ready');
    expect(readyCondition(at(3)).status).toBe('True');
    clock.readinessFailing = true;
    const failing = at(20);
    expect(failing.changed).toBe(true);
    expect(failing.status.phase).toBe('Running');
    expect(failing.status.containerStatuses[0]).toEqual(
      expect.objectContaining({ ready: false, started: true, restartCount: 0 }),
    );
    expect(readyCondition(failing)).toEqual(
      expect.objectContaining({
        status: 'False',
        reason: 'ContainersNotReady',
        lastTransitionTime: '1970-01-01T00:00:20Z',
      }),
    );
    expect(
      failing.status.conditions.find((c: any) => c.type === 'ContainersReady')
        .status,
    ).toBe('False');
    expect(failing.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'Unhealthy' }),
    ]);
    expect(failing.nextAt).toBeUndefined();
    expect(at(30).changed).toBe(false);
    clock.readinessFailing = false;
    const passing = at(40);
    expect(passing.status.containerStatuses[0].ready).toBe(true);
    expect(readyCondition(passing)).toEqual(
      expect.objectContaining({
        status: 'True',
        lastTransitionTime: '1970-01-01T00:00:40Z',
      }),
    );
    expect(passing.events).toEqual([]);
  });

  it('leaves a container without a readiness probe ready when the probes are said to fail', () => {
    const p = pod('acme/api:1.0.0');
    const clock: PodClock = { boundAt: 0, readinessFailing: true };
    const step = podLifecycle(p, clock, options, 3000);
    expect(step.status.containerStatuses[0].ready).toBe(true);
  });

  it('crash-loops an image whose tag says so, with a doubling back-off', () => {
    const p = pod('acme/worker:0.9.0-crashloop');
    const steps = walk(p, [1.5, 3.5, 13.5, 15.5, 35.5]);
    const states = steps.map(s => s.status.containerStatuses[0]);
    expect(states.map(s => s.restartCount)).toEqual([0, 0, 1, 1, 2]);
    expect(states[1].state.waiting.reason).toBe('CrashLoopBackOff');
    expect(states[1].state.waiting.message).toContain('back-off 10s');
    expect(states[3].state.waiting.message).toContain('back-off 20s');
    expect(states[2].state.running).toBeDefined();
    expect(steps[1].events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'BackOff' }),
    ]);
    expect(imageBehaviour('acme/worker:0.9.0-crashloop')).toBe('crashloop');
  });

  it('never pulls an image that does not exist', () => {
    const [step] = walk(pod('acme/api:doesnotexist'), [5]);
    expect(step.status.phase).toBe('Pending');
    expect(step.status.containerStatuses[0].state.waiting.reason).toBe(
      'ImagePullBackOff',
    );
    expect(step.events.map(e => e.reason)).toEqual(['Failed']);
  });

  it('sees no change in a status that a real API server wrote back with its empty fields and without the fields it predates', () => {
    const p = pod('acme/api:1.0.0');
    const [first] = walk(p, [3]);
    const served = structuredClone(first.status);
    delete served.hostIPs;
    served.conditions = served.conditions.filter(
      (c: any) => c.type !== 'PodReadyToStartContainers',
    );
    served.containerStatuses[0].lastState = {};
    p.status = served;
    const again = podLifecycle(p, { boundAt: 0, readyAt: 3000 }, options, 4000);
    expect(again.changed).toBe(false);
  });
});
