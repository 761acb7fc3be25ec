import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import type { RolloutHistoryEvent } from '@rust-delivery-portal/plugin-rollouts-common';
import { OutcomeStatus } from '../RolloutStatus/RolloutPhaseStatus';
import { formatAbsolute, formatRelative } from '../RolloutStatus/format';

/**
 * Rows of freeze overrides, approvals and the engine's own events, in words; other actions read
 * as their own name (`promote`, which is also the button's name).
 */
const ACTION_LABELS: Record<string, string> = {
  'request-approval': 'approval asked',
  approve: 'approve request',
  deny: 'deny request',
  'freeze-override': 'freeze override',
  analysis: 'analysis measurement',
  'analysis-abort': 'aborted by analysis',
  'health-gate-abort': 'aborted by health gate',
};

function What(props: { event: RolloutHistoryEvent }) {
  const { event } = props;
  const label = ACTION_LABELS[event.action] ?? event.action;
  const details = [
    event.stepIndex !== undefined ? `step ${event.stepIndex + 1}` : undefined,
    event.revision !== undefined ? `revision ${event.revision}` : undefined,
    event.image,
  ].filter(Boolean);
  return (
    <>
      <strong>{label}</strong>
      {details.length > 0 && ` (${details.join(', ')})`}
      {event.message && <div>{event.message}</div>}
    </>
  );
}

/** When the row last happened: a collapsed row of repeated denials moves with its last one. */
function lastOf(event: RolloutHistoryEvent): string {
  return event.lastAt ?? event.createdAt;
}

function isCollapsed(event: RolloutHistoryEvent): boolean {
  return (event.count ?? 1) > 1;
}

function When(props: { event: RolloutHistoryEvent }) {
  const { event } = props;
  const last = lastOf(event);
  return (
    <>
      <time dateTime={last} title={formatAbsolute(last)}>
        {formatRelative(last)}
      </time>
      {isCollapsed(event) && (
        <Typography variant="caption" color="textSecondary" component="div">
          {'first '}
          <time
            dateTime={event.createdAt}
            title={formatAbsolute(event.createdAt)}
          >
            {formatRelative(event.createdAt)}
          </time>
        </Typography>
      )}
    </>
  );
}

/**
 * Who did what, when, why, and how it went; newest first. Repeated denials of one actor on one
 * target come as one row with a `count`: it shows "×N" and the time of the last one.
 */
export function HistoryTable(props: {
  events: RolloutHistoryEvent[];
  label: string;
}) {
  const events = [...props.events].sort((a, b) =>
    lastOf(b).localeCompare(lastOf(a)),
  );
  return (
    <Table size="small" aria-label={props.label}>
      <TableHead>
        <TableRow>
          <TableCell>When</TableCell>
          <TableCell>Who</TableCell>
          <TableCell>What</TableCell>
          <TableCell>Why</TableCell>
          <TableCell>Outcome</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {events.length === 0 && (
          <TableRow>
            <TableCell colSpan={5}>Nothing has happened here yet.</TableCell>
          </TableRow>
        )}
        {events.map(event => (
          <TableRow key={event.id}>
            <TableCell>
              <When event={event} />
            </TableCell>
            <TableCell>{event.actor}</TableCell>
            <TableCell>
              <What event={event} />
            </TableCell>
            <TableCell>{event.reason ?? '—'}</TableCell>
            <TableCell>
              <OutcomeStatus outcome={event.outcome} />
              {isCollapsed(event) && (
                <span title={`${event.count} times`}>{` ×${event.count}`}</span>
              )}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
