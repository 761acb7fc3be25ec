import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Alert from '@material-ui/lab/Alert';
import { identityApiRef, useApi } from '@backstage/core-plugin-api';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import useAsync from 'react-use/esm/useAsync';
import { formatAbsolute, formatRelative } from '../RolloutStatus/format';
import {
  ApprovalDecision,
  ApprovalDecisionDialog,
} from './ApprovalDecisionDialog';
import { describeApproval } from './describeApproval';

/**
 * The approval request waiting on a target. Another owner gets Approve and Deny; the requester
 * sees that it waits for someone else (and may withdraw it). The server decides who may: an
 * approval by the requester is refused whatever this shows.
 */
export function PendingApproval(props: {
  rollout: RolloutView;
  onRefresh: () => void;
}) {
  const { rollout, onRefresh } = props;
  const approval = rollout.pendingApproval;
  const identityApi = useApi(identityApiRef);
  const { value: me } = useAsync(
    async () => (await identityApi.getBackstageIdentity()).userEntityRef,
    [identityApi],
  );
  const [decision, setDecision] = useState<ApprovalDecision>();
  if (!approval) return null;
  const mine =
    me !== undefined &&
    me.toLocaleLowerCase('en-US') ===
      approval.requestedBy.toLocaleLowerCase('en-US');
  // An owner sees the requested action among the ones they may take (start is always theirs).
  const mayDecide =
    !mine && (rollout.allowedActions as string[]).includes(approval.action);
  let waiting = 'Waiting for approval by an owner.';
  if (mine) waiting = 'Waiting for approval by another owner.';
  return (
    <Alert
      severity="info"
      role="region"
      aria-label={`Approval request for ${rollout.workload}`}
    >
      <strong>{`Approval asked: ${describeApproval(approval)}`}</strong>
      <div>
        {`${approval.requestedBy}: “${
          approval.reason
        }”. Expires ${formatRelative(approval.expiresAt)} (${formatAbsolute(
          approval.expiresAt,
        )}).`}
      </div>
      {!mayDecide && <div>{waiting}</div>}
      <Box mt={1} display="flex" gridGap={8}>
        {mayDecide && (
          <>
            <Button
              size="small"
              variant="outlined"
              color="primary"
              onClick={() => setDecision('approve')}
            >
              Approve
            </Button>
            <Button
              size="small"
              variant="outlined"
              color="secondary"
              onClick={() => setDecision('deny')}
            >
              Deny
            </Button>
          </>
        )}
        {mine && (
          <Button size="small" onClick={() => setDecision('withdraw')}>
            Withdraw
          </Button>
        )}
      </Box>
      {decision && (
        <ApprovalDecisionDialog
          approval={approval}
          decision={decision}
          onClose={() => setDecision(undefined)}
          onDecided={onRefresh}
        />
      )}
    </Alert>
  );
}
