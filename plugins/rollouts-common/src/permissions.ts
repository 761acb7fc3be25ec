import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import { createPermission } from '@backstage/plugin-permission-common';
import type { RolloutAction } from './types';

/**
 * Resource permissions on catalog entities, so a policy can say "owners of the entity may promote".
 * @public
 */
export const rolloutReadPermission = createPermission({
  name: 'rollouts.rollout.read',
  attributes: { action: 'read' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

const act = (verb: string) =>
  createPermission({
    name: `rollouts.rollout.${verb}`,
    attributes: { action: 'update' },
    resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
  });

/** @public */
export const rolloutStartPermission = act('start');
/** @public */
export const rolloutPromotePermission = act('promote');
/** @public */
export const rolloutAbortPermission = act('abort');
/** @public */
export const rolloutRetryPermission = act('retry');
/** @public */
export const rolloutRollbackPermission = act('rollback');
/** @public */
export const rolloutPausePermission = act('pause');
/** @public */
export const rolloutRestartPermission = act('restart');

/**
 * Starting or promoting during a freeze window (an emergency override, with a reason). It lifts
 * only the freeze: the action's own permission is still needed.
 * @public
 */
export const rolloutFreezeOverridePermission = createPermission({
  name: 'rollouts.freeze.override',
  attributes: { action: 'update' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});

/**
 * The permission each action needs. Promote and promote-full share one; pause and resume share one.
 * @public
 */
export const rolloutActionPermissions = {
  promote: rolloutPromotePermission,
  'promote-full': rolloutPromotePermission,
  abort: rolloutAbortPermission,
  retry: rolloutRetryPermission,
  rollback: rolloutRollbackPermission,
  pause: rolloutPausePermission,
  resume: rolloutPausePermission,
  restart: rolloutRestartPermission,
} satisfies Record<RolloutAction, unknown>;

/** @public */
export const rolloutsPermissions = [
  rolloutReadPermission,
  rolloutStartPermission,
  rolloutPromotePermission,
  rolloutAbortPermission,
  rolloutRetryPermission,
  rolloutRollbackPermission,
  rolloutPausePermission,
  rolloutRestartPermission,
  rolloutFreezeOverridePermission,
];
