import { useState } from 'react';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { alertApiRef, useApi, useApiHolder } from '@backstage/core-plugin-api';
import { coreApis } from '@backstage/frontend-plugin-api';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { isApprovalRequested, rolloutsApiRef } from '../../api';
import { freezeExplanation } from '../Gates';
import { ReasonDialog } from '../ReasonDialog';
import { rolloutName } from '../RolloutStatus/format';
import {
  ActionDefinition,
  defaultRollbackRevision,
  rollbackCandidates,
} from './actions';
import { ActionErrorDescription, describeActionError } from './actionErrors';

/** @public */
export interface RolloutActionDialogProps {
  entityRef: CompoundEntityRef;
  rollout: RolloutView;
  definition: ActionDefinition;
  onClose: () => void;
  /** Called after the server accepted the action, and by the Refresh button after a 409. */
  onRefresh: () => void;
}

function dialogId(rollout: RolloutView, definition: ActionDefinition) {
  return `rollouts-${definition.action}-${rollout.cluster}-${rollout.namespace}-${rollout.workload}`;
}

/**
 * Confirms one action: says what will happen, asks why, and sends the revision and step the user
 * saw so that the server refuses (409) if the rollout moved on meanwhile.
 */
export function RolloutActionDialog(props: RolloutActionDialogProps) {
  const { entityRef, rollout, definition, onClose, onRefresh } = props;
  const rolloutsApi = useApi(rolloutsApiRef);
  const apis = useApiHolder();
  const [reason, setReason] = useState('');
  const [image, setImage] = useState('');
  const [toRevision, setToRevision] = useState(() =>
    defaultRollbackRevision(rollout),
  );
  const [override, setOverride] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<ActionErrorDescription>();

  const isStart = definition.action === 'start';
  const isRollback = definition.action === 'rollback';
  const candidates = isRollback ? rollbackCandidates(rollout) : [];
  // The reason is required by the dialog itself; a start also needs the image.
  const ready = !isStart || image.trim().length > 0;
  const id = dialogId(rollout, definition);
  const frozen = freezeExplanation(rollout.freeze, definition.action);
  const overrideBody = override.trim()
    ? { override: { reason: override.trim() } }
    : {};

  // Toasts replace alerts in current apps; older apps only have the alert API.
  const announce = (message: string) => {
    const toastApi = apis.get(coreApis.toast);
    if (toastApi) {
      toastApi.post({ title: message, status: 'success', timeout: 5000 });
    } else {
      apis
        .get(alertApiRef)
        ?.post({ message, severity: 'success', display: 'transient' });
    }
  };

  const submit = async (trimmed: string) => {
    setSubmitting(true);
    setError(undefined);
    try {
      let answer;
      if (definition.action === 'start') {
        answer = await rolloutsApi.startRollout(entityRef, {
          cluster: rollout.cluster,
          workload: rollout.workload,
          image: image.trim(),
          reason: trimmed,
          ...overrideBody,
        });
      } else {
        answer = await rolloutsApi.runAction(entityRef, definition.action, {
          ...overrideBody,
          cluster: rollout.cluster,
          workload: rollout.workload,
          reason: trimmed,
          revision: rollout.revision,
          stepIndex: rollout.step.index,
          ...(isRollback && toRevision !== undefined ? { toRevision } : {}),
        });
      }
      announce(
        isApprovalRequested(answer)
          ? `Asked another owner of ${rolloutName(rollout)} to approve: ${
              definition.label
            }.`
          : `${definition.done} ${rolloutName(rollout)}.`,
      );
      setSubmitting(false);
      onRefresh();
      onClose();
    } catch (e) {
      setSubmitting(false);
      setError(describeActionError(e, definition, rollout));
    }
  };

  return (
    <ReasonDialog
      id={id}
      title={`${definition.label}: ${rolloutName(rollout)}`}
      description={definition.describe(rollout, { toRevision, image })}
      reason={reason}
      onReasonChange={setReason}
      ready={ready}
      submitting={submitting}
      submitLabel="Confirm"
      onSubmit={submit}
      onClose={onClose}
      error={error?.message}
      errorAction={
        error?.stale ? (
          <Button
            color="inherit"
            size="small"
            onClick={() => {
              onRefresh();
              onClose();
            }}
          >
            Refresh
          </Button>
        ) : undefined
      }
    >
      {isStart && (
        <TextField
          id={`${id}-image`}
          label="Image"
          value={image}
          onChange={e => setImage(e.target.value)}
          placeholder={rollout.stableImage}
          helperText="The image reference to roll out, e.g. ghcr.io/acme/payments-api:1.4.0"
          required
          fullWidth
          margin="dense"
          variant="outlined"
        />
      )}
      {isRollback && candidates.length > 0 && (
        <TextField
          id={`${id}-revision`}
          select
          label="Revision"
          value={toRevision ?? ''}
          onChange={e => setToRevision(Number(e.target.value))}
          fullWidth
          margin="dense"
          variant="outlined"
        >
          {candidates.map(candidate => (
            <MenuItem key={candidate.revision} value={candidate.revision}>
              {`Revision ${candidate.revision}: ${candidate.image} (${candidate.role})`}
            </MenuItem>
          ))}
        </TextField>
      )}
      {frozen && (
        <Alert severity="warning" role="note">
          {frozen}
        </Alert>
      )}
      {frozen && (
        <TextField
          id={`${id}-override`}
          label="Emergency override reason"
          value={override}
          onChange={e => setOverride(e.target.value)}
          helperText="Only for someone allowed to override the freeze; audited."
          fullWidth
          margin="dense"
          variant="outlined"
          inputProps={{ maxLength: 1000 }}
        />
      )}
      {rollout.pendingApproval && (
        <Alert severity="info" role="note">
          {`${rollout.pendingApproval.requestedBy} is waiting for an approval on this workload already.`}
        </Alert>
      )}
    </ReasonDialog>
  );
}
