import { FormEvent, useState } from 'react';
import Button from '@material-ui/core/Button';
import CircularProgress from '@material-ui/core/CircularProgress';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { alertApiRef, useApi, useApiHolder } from '@backstage/core-plugin-api';
import { coreApis } from '@backstage/frontend-plugin-api';
import type { PipelineStageView } from '@rust-delivery-portal/plugin-rollouts-common';
import { isApprovalRequested, rolloutsApiRef } from '../../api';

/** @public */
export interface PromoteReleaseDialogProps {
  entityRef: CompoundEntityRef;
  /** The stage to promote into, as it was when the button was pressed. */
  stage: PipelineStageView;
  previousStage: string;
  onClose: () => void;
  onPromoted: () => void;
}

/** The server's words for a refusal (409 soak or freeze, 403 permission): it decides, we relay. */
function messageOf(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.body?.error?.message || error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Confirms "start the previous stage's release here": names the release and the stage, asks
 * why, and sends the release the user saw, so the server refuses (409) if the previous stage
 * moved on meanwhile.
 */
export function PromoteReleaseDialog(props: PromoteReleaseDialogProps) {
  const { entityRef, stage, previousStage, onClose, onPromoted } = props;
  const api = useApi(rolloutsApiRef);
  const apis = useApiHolder();
  const [reason, setReason] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string>();
  const id = `rollouts-promote-release-${stage.name.replace(/[^\w-]/g, '-')}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (submitting || !reason.trim()) return;
    setSubmitting(true);
    setError(undefined);
    try {
      const answer = await api.promoteRelease(entityRef, {
        stage: stage.name,
        image: stage.candidate,
        reason: reason.trim(),
      });
      // Toasts replace alerts in current apps; older apps only have the alert API.
      const message = isApprovalRequested(answer)
        ? `Asked another owner to approve ${stage.candidate} in ${stage.name}.`
        : `Started ${stage.candidate} in ${stage.name}.`;
      const toastApi = apis.get(coreApis.toast);
      if (toastApi) {
        toastApi.post({ title: message, status: 'success', timeout: 5000 });
      } else {
        apis
          .get(alertApiRef)
          ?.post({ message, severity: 'success', display: 'transient' });
      }
      setSubmitting(false);
      onPromoted();
      onClose();
    } catch (e) {
      setSubmitting(false);
      setError(messageOf(e));
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
        <DialogTitle
          id={`${id}-title`}
        >{`Promote to ${stage.name}`}</DialogTitle>
        <DialogContent>
          <DialogContentText>
            {`Starts ${stage.candidate}, the release of ${previousStage}, in ${
              stage.name
            }${
              stage.workload ? ` (${stage.workload} on ${stage.cluster})` : ''
            } with its declared strategy.`}
            {stage.approvalRequired &&
              ` ${stage.name} is protected: this asks another owner of the entity to approve, and the release starts once they do.`}
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
            disabled={submitting || !reason.trim()}
            startIcon={submitting ? <CircularProgress size={16} /> : undefined}
          >
            {`Promote to ${stage.name}`}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
