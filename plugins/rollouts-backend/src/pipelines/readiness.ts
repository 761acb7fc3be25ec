import {
  PipelineWait,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { sameRelease } from './release';

/** The engine's statement that a rollout of `image` completed on a workload, at `at`. */
export interface CompletedRollout {
  image: string;
  at: Date;
}

/** The previous stage as the next one sees it. */
export interface PreviousStage {
  name: string;
  soakSeconds: number;
  /** Its workload's live view; absent when the entity has no workload there. */
  view?: Pick<
    RolloutView,
    'phase' | 'message' | 'stableImage' | 'targetImage' | 'analysis'
  >;
  /** The latest `completed` history event of its workload. */
  completed?: CompletedRollout;
}

export type Readiness =
  | { ready: true; since: Date }
  | { ready: false; wait: PipelineWait };

const FAILED_ANALYSIS = ['Failed', 'Error', 'Inconclusive'];

/**
 * Whether the next stage may start `image`: the previous stage must be Healthy on that very
 * release, with nothing else in flight, with its analysis (when it has one) passed, and for at
 * least its soak time. "Healthy since" is the engine's `completed` event of the workload, which
 * the engine writes exactly once per finished rollout (across replicas), and again after any
 * pause, restart or degradation that it recovers from: the live view says what runs now, the
 * event says since when, and both must name the release.
 */
export function readinessOf(
  previous: PreviousStage,
  image: string,
  now: Date,
): Readiness {
  const { view, name } = previous;
  const wait = (kind: PipelineWait['kind'], message: string): Readiness => ({
    ready: false,
    wait: { kind, message },
  });
  if (!view)
    return wait('previous-stage', `${name} has no workload of this entity`);
  if (view.targetImage && sameRelease(view.targetImage, image)) {
    if (view.phase === 'Degraded' || view.phase === 'Aborted') {
      return wait(
        'failed',
        `${image} failed in ${name} (${view.phase}: ${view.message}); it stops there`,
      );
    }
    if (view.analysis && FAILED_ANALYSIS.includes(view.analysis.phase)) {
      return wait(
        'failed',
        `The analysis of ${image} in ${name} did not pass (${
          view.analysis.phase
        }${
          view.analysis.message ? `: ${view.analysis.message}` : ''
        }); it stops there`,
      );
    }
    return wait(
      'previous-stage',
      `${image} is still rolling out in ${name} (${view.phase})`,
    );
  }
  if (view.targetImage) {
    return wait(
      'previous-stage',
      `${name} is rolling out ${view.targetImage}, not ${image}`,
    );
  }
  if (!sameRelease(view.stableImage, image)) {
    return wait(
      'previous-stage',
      `${name} runs ${view.stableImage}, not ${image}`,
    );
  }
  if (view.phase !== 'Healthy') {
    return wait(
      'previous-stage',
      `${name} is ${view.phase} on ${image} (${view.message})`,
    );
  }
  if (view.analysis && view.analysis.phase !== 'Successful') {
    return FAILED_ANALYSIS.includes(view.analysis.phase)
      ? wait(
          'failed',
          `The analysis of ${image} in ${name} did not pass (${view.analysis.phase}); it stops there`,
        )
      : wait(
          'analysis',
          `The analysis of ${image} in ${name} is ${view.analysis.phase}`,
        );
  }
  const { completed } = previous;
  if (!completed || !sameRelease(completed.image, image)) {
    return wait(
      'previous-stage',
      `${name} has no record of a completed rollout of ${image} (start it there through the portal)`,
    );
  }
  const until = new Date(completed.at.getTime() + previous.soakSeconds * 1000);
  if (now.getTime() < until.getTime()) {
    const remainingSeconds = Math.ceil(
      (until.getTime() - now.getTime()) / 1000,
    );
    return {
      ready: false,
      wait: {
        kind: 'soak',
        message: `${image} has been Healthy in ${name} since ${completed.at.toISOString()}; it soaks until ${until.toISOString()} (${remainingSeconds}s left)`,
        until: until.toISOString(),
        remainingSeconds,
      },
    };
  }
  return { ready: true, since: completed.at };
}
