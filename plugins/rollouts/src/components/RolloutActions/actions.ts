import type {
  AllowedAction,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  formatStep,
  formatStrategy,
  rolloutName,
  weightAtStep,
} from '../RolloutStatus/format';

/** One button of the action bar and what its dialog says. */
export interface ActionDefinition {
  action: AllowedAction;
  /** The button's accessible name, also its text. */
  label: string;
  /** Completes "You are not allowed to …". */
  verb: string;
  /** What confirming will do, in a sentence. */
  describe(
    rollout: RolloutView,
    options: { toRevision?: number; image?: string },
  ): string;
  /** Past tense, for the success message. */
  done: string;
}

/** The canary step a promote moves to: the next one, shown 1-based like the step counter. */
function nextStep(rollout: RolloutView): { shown: number; weight: number } {
  const target = Math.min(rollout.step.index + 1, rollout.step.total - 1);
  return {
    shown: target + 1,
    weight:
      rollout.steps.length > 0
        ? weightAtStep(rollout.steps, target)
        : rollout.weight.desired,
  };
}

function imageOf(rollout: RolloutView, revision?: number): string | undefined {
  return rollout.revisions.find(r => r.revision === revision)?.image;
}

/** The revision "Roll back" proposes: the newest revision older than the one in play. */
export function defaultRollbackRevision(
  rollout: RolloutView,
): number | undefined {
  return rollbackCandidates(rollout)[0]?.revision;
}

/**
 * Revisions one can roll back to, newest first: every revision but the newest one in play, which is
 * the canary or preview while a rollout is in flight, else the stable or active one.
 * (`rollout.revision` is the engine's rollout counter, not a Kubernetes revision, so the revision in
 * play is found by its role.)
 */
export function rollbackCandidates(rollout: RolloutView) {
  const inFlight = rollout.revisions.some(
    r => r.role === 'canary' || r.role === 'preview',
  );
  const inPlay = new Set(
    rollout.revisions
      .filter(r =>
        inFlight
          ? r.role === 'canary' || r.role === 'preview'
          : r.role === 'stable' || r.role === 'active',
      )
      .map(r => r.revision),
  );
  return rollout.revisions
    .filter(r => !inPlay.has(r.revision))
    .sort((a, b) => b.revision - a.revision);
}

export const ACTIONS: ActionDefinition[] = [
  {
    action: 'promote',
    label: 'Promote',
    verb: 'promote',
    done: 'Promoted',
    describe: rollout => {
      const name = rolloutName(rollout);
      if (rollout.strategy === 'BlueGreen') {
        return `Promote ${name}: the active service switches to the preview version (${
          rollout.targetImage ?? 'new image'
        }).`;
      }
      const { shown, weight } = nextStep(rollout);
      return `Promote ${name} to step ${shown}/${rollout.step.total} (weight ${weight}%).`;
    },
  },
  {
    action: 'promote-full',
    label: 'Promote full',
    verb: 'fully promote',
    done: 'Fully promoted',
    describe: rollout =>
      `Promote ${rolloutName(
        rollout,
      )} fully: skip the remaining steps and send 100% of traffic to ${
        rollout.targetImage ?? 'the new version'
      }.`,
  },
  {
    action: 'abort',
    label: 'Abort',
    verb: 'abort the rollout of',
    done: 'Aborted the rollout of',
    describe: rollout =>
      `Abort the rollout of ${rolloutName(rollout)} at ${formatStep(
        rollout.step,
      ).toLocaleLowerCase('en-US')}: traffic returns to the stable version (${
        rollout.stableImage
      }) and the new version is scaled down.`,
  },
  {
    action: 'retry',
    label: 'Retry',
    verb: 'retry the rollout of',
    done: 'Retried the rollout of',
    describe: rollout =>
      `Retry the rollout of ${rolloutName(rollout)} from its first step${
        rollout.targetImage ? ` with ${rollout.targetImage}` : ''
      }.`,
  },
  {
    action: 'rollback',
    label: 'Roll back',
    verb: 'roll back',
    done: 'Rolled back',
    describe: (rollout, { toRevision }) => {
      const image = imageOf(rollout, toRevision);
      return toRevision === undefined
        ? `Roll back ${rolloutName(rollout)} to its previous revision.`
        : `Roll back ${rolloutName(rollout)} to revision ${toRevision}${
            image ? ` (${image})` : ''
          }.`;
    },
  },
  {
    action: 'pause',
    label: 'Pause',
    verb: 'pause',
    done: 'Paused',
    describe: rollout =>
      `Pause the rollout of ${rolloutName(rollout)} at ${formatStep(
        rollout.step,
      ).toLocaleLowerCase('en-US')} (weight ${
        rollout.weight.actual
      }%) until someone resumes it.`,
  },
  {
    action: 'resume',
    label: 'Resume',
    verb: 'resume',
    done: 'Resumed',
    describe: rollout =>
      `Resume the rollout of ${rolloutName(rollout)} from ${formatStep(
        rollout.step,
      ).toLocaleLowerCase('en-US')}.`,
  },
  {
    action: 'restart',
    label: 'Restart',
    verb: 'restart',
    done: 'Restarted',
    describe: rollout =>
      `Restart the pods of ${rolloutName(
        rollout,
      )} one by one, keeping the same image (${rollout.stableImage}).`,
  },
  {
    action: 'start',
    label: 'Deploy image',
    verb: 'deploy a new image to',
    done: 'Started a rollout of',
    describe: (rollout, { image }) =>
      `Deploy ${image?.trim() ? image.trim() : 'a new image'} to ${rolloutName(
        rollout,
      )} with its ${formatStrategy(rollout.strategy).toLocaleLowerCase(
        'en-US',
      )} strategy.`,
  },
];
