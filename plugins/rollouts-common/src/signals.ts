/**
 * The signal the rollouts backend publishes on every state change, and on every change in the
 * cluster of what a rollout's page shows, so pages refresh without polling.
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
  /**
   * The action or engine event that caused it (`promote`, `step`, `health-gate-abort`, ...), or
   * `cluster` when the cluster changed what the page shows with no change of the rollout's state
   * (a canary pod turned unready or ready, replicas scaled, a route's weights moved).
   */
  cause: string;
}

/**
 * The signals channel for one entity's rollouts, e.g. `rollouts:component:default/payments`.
 * @public
 */
export function rolloutsSignalChannel(entityRef: string): string {
  return `rollouts:${entityRef}`;
}
