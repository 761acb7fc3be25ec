import { FormEvent, useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { useApi } from '@backstage/core-plugin-api';
import type { ApprovalView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef } from '../../api';
import { describeApproval } from './describeApproval';

export type ApprovalDecision = 'approve' | 'deny' | 'withdraw';

const TITLES: Record<ApprovalDecision, string> = {
  approve: 'Approve',
  deny: 'Deny',
  withdraw: 'Withdraw',
};

/** Confirms a decision on an approval request, with the reason it requires. */
export function ApprovalDecisionDialog(props: {
  approval: ApprovalView;
  decision: ApprovalDecision;
  onClose: () => void;
  onDecided: () => void;
}) {
  const { approval, decision, onClose, onDecided } = props;
  const rolloutsApi = useApi(rolloutsApiRef);
  const [reason, setReason] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string>();
  const id = `rollouts-approval-${decision}-${approval.id}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim() || submitting) return;
    setSubmitting(true);
    setError(undefined);
    try {
      if (decision === 'approve') {
        await rolloutsApi.approve(approval.id, { reason: reason.trim() });
      } else {
        await rolloutsApi.deny(approval.id, { reason: reason.trim() });
      }
      onDecided();
      onClose();
    } catch (e) {
      setSubmitting(false);
      const body = (e as { body?: { error?: { message?: string } } }).body;
      setError(body?.error?.message ?? (e as Error).message);
    }
  };

  return (
    <Dialog
      open
      onClose={submitting ? undefined : onClose}
      aria-labelledby={`${id}-title`}
      fullWidth
      maxWidth="sm"
    >
      <form onSubmit={submit} noValidate>
        <DialogTitle id={`${id}-title`}>{`${
          TITLES[decision]
        }: ${describeApproval(approval)}`}</DialogTitle>
        <DialogContent>
          <DialogContentText>
            {decision === 'approve'
              ? `The server then carries out the ${approval.action} as you, after checking your permission, the workload's binding and any freeze again.`
              : `${approval.requestedBy}'s request will not be carried out.`}
          </DialogContentText>
          <TextField
            id={`${id}-reason`}
            label="Reason"
            value={reason}
            onChange={e => setReason(e.target.value)}
            helperText="Recorded in the rollout history with your name."
            required
            fullWidth
            multiline
            minRows={2}
            margin="dense"
            variant="outlined"
            inputProps={{ maxLength: 1000 }}
          />
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose} disabled={submitting}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={!reason.trim() || submitting}
          >
            {TITLES[decision]}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
