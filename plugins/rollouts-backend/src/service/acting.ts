import {
  AllowedAction,
  ROLLOUT_ACTIONS,
  rolloutActionPermissions,
  rolloutStartPermission,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** Everything a user may be allowed to do: start a rollout, or any action on one. */
export const ACTING: AllowedAction[] = ['start', ...ROLLOUT_ACTIONS];

/** The permission an action needs. */
export function permissionOf(action: AllowedAction) {
  return action === 'start'
    ? rolloutStartPermission
    : rolloutActionPermissions[action];
}

/**
 * The actions granted, given whether the policy allowed each one's permission.
 * Backstage allows a service principal every permission without asking the policy (unless its
 * token carries access restrictions), so one rule of the policy is kept here as well: actions on
 * a rollout are taken by people; a service, such as a CI job, may only start one.
 */
export function grantedActions(
  isService: boolean,
  allowed: (action: AllowedAction, index: number) => boolean,
): Set<AllowedAction> {
  return new Set(
    ACTING.filter(
      (action, i) => (!isService || action === 'start') && allowed(action, i),
    ),
  );
}
