import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import { deployment } from '../testing/FakeCluster';
import { canaryReplicasFor, readCanarySteps, weightAt } from './CanaryStrategy';
import { parseDuration } from './state';

const withSteps = (steps: string) =>
  deployment({
    name: 'payments',
    image: 'a/b:1',
    annotations: { [ROLLOUT_ANNOTATIONS.canarySteps]: steps },
  });

describe('canary steps', () => {
  it('reads JSON and YAML in Argo Rollouts vocabulary', () => {
    expect(
      readCanarySteps(withSteps('[{"setWeight":20},{"pause":{}}]')),
    ).toEqual([{ setWeight: 20 }, { pause: {} }]);
    expect(
      readCanarySteps(
        withSteps(
          '- setWeight: 10\n- pause: {duration: 60s}\n- setWeight: 150\n- bogus: 1\n',
        ),
      ),
    ).toEqual([
      { setWeight: 10 },
      { pause: { duration: '60s' } },
      { setWeight: 100 },
    ]);
  });

  it('has a default when the annotation is missing', () => {
    expect(
      readCanarySteps(deployment({ name: 'x', image: 'a/b:1' })).length,
    ).toBeGreaterThan(0);
  });

  it('carries the last weight through pauses and is 100 after the last step', () => {
    const steps = [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }];
    expect([0, 1, 2, 3].map(i => weightAt(steps, i))).toEqual([
      20, 20, 50, 100,
    ]);
    expect(weightAt([{ pause: {} }], 0)).toBe(0);
  });

  it('turns a weight into replicas by ratio, at least one canary for any weight', () => {
    expect(canaryReplicasFor(4, 25)).toBe(1);
    expect(canaryReplicasFor(4, 50)).toBe(2);
    expect(canaryReplicasFor(10, 1)).toBe(1);
    expect(canaryReplicasFor(4, 0)).toBe(0);
    expect(canaryReplicasFor(3, 100)).toBe(3);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('soon')).toBeUndefined();
  });
});
