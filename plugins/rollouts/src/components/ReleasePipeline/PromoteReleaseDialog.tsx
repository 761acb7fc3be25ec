import { useState } from 'react';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { alertApiRef, useApi, useApiHolder } from '@backstage/core-plugin-api';
import { coreApis } from '@backstage/frontend-plugin-api';
import type { PipelineStageView } from '@rust-delivery-portal/plugin-rollouts-common';
import { isApprovalRequested, rolloutsApiRef } from '../../api';
import { ReasonDialog } from '../ReasonDialog';

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

  const submit = async (trimmed: string) => {
    setSubmitting(true);
    setError(undefined);
    try {
      const answer = await api.promoteRelease(entityRef, {
        stage: stage.name,
        image: stage.candidate,
        reason: trimmed,
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
    <ReasonDialog
      id={`rollouts-promote-release-${stage.name.replace(/[^\w-]/g, '-')}`}
      title={`Promote to ${stage.name}`}
      description={
        <>
          {`Starts ${stage.candidate}, the release of ${previousStage}, in ${
            stage.name
          }${
            stage.workload ? ` (${stage.workload} on ${stage.cluster})` : ''
          } with its declared strategy.`}
          {stage.approvalRequired &&
            ` ${stage.name} is protected: this asks another owner of the entity to approve, and the release starts once they do.`}
        </>
      }
      reason={reason}
      onReasonChange={setReason}
      submitting={submitting}
      submitLabel={`Promote to ${stage.name}`}
      onSubmit={submit}
      onClose={onClose}
      error={error}
    />
  );
}
