import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  FreezeWindowView,
  rolloutFreezeOverridePermission,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { callOwnBackend } from '../unreachable';

/**
 * Why the caller may not override this freeze, or undefined when they may. People only: Backstage
 * allows a service principal every permission its token is not restricted from, and an override
 * is an emergency decision a person takes and answers for.
 */
export async function authorizeFreezeOverride(
  deps: { permissions: PermissionsService; auth: AuthService },
  entity: Entity,
  credentials: BackstageCredentials,
  freeze: FreezeWindowView,
): Promise<string | undefined> {
  const refusal = `You may not override freeze window "${freeze.name}" (${rolloutFreezeOverridePermission.name} is needed)`;
  if (!deps.auth.isPrincipal(credentials, 'user')) return refusal;
  const [decision] = await callOwnBackend('The permission backend', () =>
    deps.permissions.authorize(
      [
        {
          permission: rolloutFreezeOverridePermission,
          resourceRef: stringifyEntityRef(entity),
        },
      ],
      { credentials },
    ),
  );
  return decision.result === AuthorizeResult.ALLOW ? undefined : refusal;
}
