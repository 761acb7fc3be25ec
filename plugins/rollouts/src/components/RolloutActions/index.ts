export { RolloutActionBar } from './RolloutActionBar';
export type { RolloutActionBarProps } from './RolloutActionBar';
