/**
 * The signal the rollouts backend publishes on every state change, so pages refresh without polling.
 * @public
 */
export interface RolloutSignalMessage {
  /** What happened: `changed` for any state change of one of the entity's rollouts. */
  type: 'changed';
  entityRef: string;
  cluster: string;
  namespace: string;
  workload: string;
  phase: string;
  /** The action or engine event that caused it (`promote`, `step`, `health-gate-abort`, ...). */
  cause: string;
}

/**
 * The signals channel for one entity's rollouts, e.g. `rollouts:component:default/payments`.
 * @public
 */
export function rolloutsSignalChannel(entityRef: string): string {
  return `rollouts:${entityRef}`;
}
