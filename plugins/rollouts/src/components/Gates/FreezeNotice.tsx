import Alert from '@material-ui/lab/Alert';
import type { FreezeWindowView } from '@rust-delivery-portal/plugin-rollouts-common';
import { formatAbsolute, formatRelative } from '../RolloutStatus/format';

/** The freeze in force for a target, or the next one: what it is called, why, and until when. */
export function FreezeNotice(props: { freeze?: FreezeWindowView }) {
  const { freeze } = props;
  if (!freeze) return null;
  if (freeze.active) {
    return (
      <Alert
        severity="warning"
        role="status"
        aria-label={`Freeze ${freeze.name}`}
      >
        <strong>{`Frozen: ${freeze.name}`}</strong>
        {` until ${formatAbsolute(freeze.end)} (${formatRelative(
          freeze.end,
        )}). ${freeze.message}. `}
        Starts and promotes are refused until then; abort, rollback and pause
        stay available.
      </Alert>
    );
  }
  return (
    <Alert severity="info" role="status" aria-label={`Freeze ${freeze.name}`}>
      <strong>{`Upcoming freeze: ${freeze.name}`}</strong>
      {` from ${formatAbsolute(freeze.start)} (${formatRelative(
        freeze.start,
      )}) until ${formatAbsolute(freeze.end)}. ${freeze.message}.`}
    </Alert>
  );
}

/** The actions a freeze holds back (the server decides; this only explains). */
export const FROZEN_ACTIONS: ReadonlySet<string> = new Set([
  'start',
  'promote',
  'promote-full',
  'retry',
]);

/** Why a button's action will be refused now, in a sentence; undefined when it will not. */
export function freezeExplanation(
  freeze: FreezeWindowView | undefined,
  action: string,
): string | undefined {
  if (!freeze?.active || !FROZEN_ACTIONS.has(action)) return undefined;
  return `Freeze "${freeze.name}" until ${formatAbsolute(freeze.end)}: ${
    freeze.message
  }. The server refuses this unless someone allowed to override the freeze gives a reason.`;
}
