import { createApiFactory } from '@backstage/core-plugin-api';
import { createDevApp } from '@backstage/dev-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { rolloutsApiRef } from '../src/api';
import { rolloutsPlugin } from '../src/plugin';
import { catalogStubPlugin, EntityPageStub } from './EntityPageStub';
import { CardStatesPage, DeploymentTabPage } from './pages';
import { rolloutsDevScenarios } from './scenarios';

/**
 * No auth backend runs behind the dev app: sign in at once with the frontend-only guest identity
 * (user:default/guest), instead of a sign-in page that would ask to fall back to it on every visit.
 * The keys are core-components' SignInPage's (last provider) and guest provider's (legacy token).
 */
export function signInAsFrontendGuest() {
  localStorage.setItem('@backstage/core:SignInPage:provider', 'guest');
  localStorage.setItem('enableLegacyGuestToken', 'true');
}

/**
 * The plugin's dev app, without a backend: the rollouts API is the scenarios' mocks (each page
 * section gets its own), permissions allow everything (the server decides in a real app; the
 * plugin only shows the `allowedActions` it is sent), and the identity is the frontend guest.
 */
export function createRolloutsDevApp() {
  const paused = rolloutsDevScenarios.find(s => s.id === 'paused')!;
  return createDevApp()
    .registerPlugin(rolloutsPlugin, catalogStubPlugin)
    .registerApi(
      createApiFactory({
        api: rolloutsApiRef,
        deps: {},
        factory: () => paused.api,
      }),
    )
    .registerApi(
      createApiFactory({
        api: permissionApiRef,
        deps: {},
        factory: () => ({
          authorize: async () => ({ result: AuthorizeResult.ALLOW }),
        }),
      }),
    )
    .addPage({
      path: '/rollouts/card',
      title: 'Card states',
      element: <CardStatesPage />,
    })
    .addPage({
      path: '/rollouts/deployment',
      title: 'Deployment tab',
      element: <DeploymentTabPage />,
    })
    .addPage({
      path: '/catalog/:namespace/:kind/:name',
      element: <EntityPageStub />,
    });
}
