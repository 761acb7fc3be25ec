export { FreezeNotice, freezeExplanation } from './FreezeNotice';
export { PendingApproval } from './PendingApproval';
