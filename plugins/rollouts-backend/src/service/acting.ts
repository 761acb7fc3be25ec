import {
  AllowedAction,
  ROLLOUT_ACTIONS,
  rolloutActionPermissions,
  rolloutStartPermission,
} from '@internal/plugin-rollouts-common';

/** Everything a user may be allowed to do: start a rollout, or any action on one. */
export const ACTING: AllowedAction[] = ['start', ...ROLLOUT_ACTIONS];

/** The permission an action needs. */
export function permissionOf(action: AllowedAction) {
  return action === 'start'
    ? rolloutStartPermission
    : rolloutActionPermissions[action];
}
