import { useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import type { ApprovalView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef } from '../../api';
import { ReasonDialog } from '../ReasonDialog';
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

  const submit = async (trimmed: string) => {
    setSubmitting(true);
    setError(undefined);
    try {
      if (decision === 'approve') {
        await rolloutsApi.approve(approval.id, { reason: trimmed });
      } else {
        await rolloutsApi.deny(approval.id, { reason: trimmed });
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
    <ReasonDialog
      id={`rollouts-approval-${decision}-${approval.id}`}
      title={`${TITLES[decision]}: ${describeApproval(approval)}`}
      description={
        decision === 'approve'
          ? `The server then carries out the ${approval.action} as you, after checking your permission, the workload's binding and any freeze again.`
          : `${approval.requestedBy}'s request will not be carried out.`
      }
      reason={reason}
      onReasonChange={setReason}
      submitting={submitting}
      submitLabel={TITLES[decision]}
      onSubmit={submit}
      onClose={onClose}
      error={error}
    />
  );
}
