export { ReleasePipeline } from './ReleasePipeline';
export type { ReleasePipelineProps } from './ReleasePipeline';
export { PipelineStageRow } from './PipelineStageRow';
export type { PipelineStageRowProps } from './PipelineStageRow';
export { PromoteReleaseDialog } from './PromoteReleaseDialog';
export type { PromoteReleaseDialogProps } from './PromoteReleaseDialog';
