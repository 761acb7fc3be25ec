export { EntityRolloutCard } from './EntityRolloutCard';
export type { EntityRolloutCardProps } from './EntityRolloutCard';
