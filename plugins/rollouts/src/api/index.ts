export { isApprovalRequested, rolloutsApiRef } from './RolloutsApi';
export type { MutationAnswer, RolloutsApi } from './RolloutsApi';
export { RolloutsClient } from './RolloutsClient';
