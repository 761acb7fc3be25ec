import { screen } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { rolloutsApiRef } from './api';
import {
  EntityRolloutCard,
  EntityRolloutsContent,
  isRolloutsAvailable,
  rolloutsPlugin,
} from './index';
import {
  blueGreenAwaitingPromotion,
  paymentsApi,
  unannotated,
} from './testing/fixtures';
import { mockRolloutsApi } from './testing/mockRolloutsApi';

describe('rollouts plugin for the legacy frontend system', () => {
  it('provides the rollouts API', () => {
    expect(rolloutsPlugin.getId()).toBe('rollouts');
    expect([...rolloutsPlugin.getApis()].map(f => f.api.id)).toEqual([
      'plugin.rollouts.service',
    ]);
  });

  it('renders the card extension', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([blueGreenAwaitingPromotion()]),
    });
    await renderInTestApp(
      <TestApiProvider apis={[[rolloutsApiRef, api]]}>
        <EntityProvider entity={paymentsApi}>
          <EntityRolloutCard />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByText('payments-web on staging'),
    ).toBeInTheDocument();
    expect(screen.getByText('Blue-green')).toBeInTheDocument();
  });

  it('renders the Deployment tab extension', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([blueGreenAwaitingPromotion()]),
    });
    await renderInTestApp(
      <TestApiProvider apis={[[rolloutsApiRef, api]]}>
        <EntityProvider entity={paymentsApi}>
          {/* The legacy app mounts routable extensions on a route, as an entity page does. */}
          <Routes>
            <Route path="/*" element={<EntityRolloutsContent />} />
          </Routes>
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByRole('button', { name: 'Promote' }),
    ).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Pause' })).toBeDisabled();
  });

  it('knows which entities have rollouts', () => {
    expect(isRolloutsAvailable(paymentsApi)).toBe(true);
    expect(isRolloutsAvailable(unannotated)).toBe(false);
  });
});
