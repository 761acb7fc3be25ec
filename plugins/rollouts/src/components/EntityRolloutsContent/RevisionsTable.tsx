import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import type {
  RevisionRole,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutName } from '../RolloutStatus/format';

const roleColors: Record<RevisionRole, 'primary' | 'secondary' | 'default'> = {
  stable: 'primary',
  active: 'primary',
  canary: 'secondary',
  preview: 'secondary',
  old: 'default',
};

/** Revisions with their role (stable, canary, active, preview) and ready pods. */
export function RevisionsTable(props: { rollout: RolloutView }) {
  const { rollout } = props;
  const revisions = [...rollout.revisions].sort(
    (a, b) => b.revision - a.revision,
  );
  return (
    <Table size="small" aria-label={`Revisions of ${rolloutName(rollout)}`}>
      <TableHead>
        <TableRow>
          <TableCell>Revision</TableCell>
          <TableCell>Role</TableCell>
          <TableCell>Image</TableCell>
          <TableCell align="right">Ready</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {revisions.length === 0 && (
          <TableRow>
            <TableCell colSpan={4}>No revisions yet.</TableCell>
          </TableRow>
        )}
        {revisions.map(revision => (
          <TableRow key={`${revision.revision}-${revision.role}`}>
            <TableCell>{revision.revision}</TableCell>
            <TableCell>
              <Chip
                size="small"
                label={revision.role}
                color={roleColors[revision.role] ?? 'default'}
                variant={revision.role === 'old' ? 'outlined' : 'default'}
              />
            </TableCell>
            <TableCell>
              <code>{revision.image}</code>
            </TableCell>
            <TableCell align="right">{`${revision.ready}/${revision.replicas} ready`}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
