import type { ApprovalView } from '@rust-delivery-portal/plugin-rollouts-common';

const VERBS: Record<ApprovalView['action'], string> = {
  start: 'start',
  promote: 'promote',
  'promote-full': 'promote fully',
  retry: 'retry',
};

/** "start ghcr.io/acme/payments:2.0.0 on payments in production" */
export function describeApproval(approval: ApprovalView): string {
  return `${VERBS[approval.action]}${
    approval.image ? ` ${approval.image}` : ''
  } on ${approval.workload} in ${approval.cluster}`;
}
