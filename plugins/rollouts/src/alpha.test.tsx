import { screen } from '@testing-library/react';
import {
  createExtensionTester,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { rolloutsApiRef } from './api';
import rolloutsPlugin, {
  entityRolloutCard,
  entityRolloutsContent,
} from './alpha';
import { pausedCanary, paymentsApi, unannotated } from './testing/fixtures';
import { mockRolloutsApi } from './testing/mockRolloutsApi';

describe('rollouts plugin for the new frontend system', () => {
  it('is the rollouts plugin with its API, card and tab', () => {
    expect(rolloutsPlugin.pluginId).toBe('rollouts');
    expect(rolloutsPlugin.getExtension('api:rollouts')).toBeDefined();
    expect(
      rolloutsPlugin.getExtension('entity-card:rollouts/rollouts'),
    ).toBeDefined();
    expect(
      rolloutsPlugin.getExtension('entity-content:rollouts/deployment'),
    ).toBeDefined();
  });

  it('renders the card, loaded lazily, for an annotated component', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([pausedCanary()]),
    });
    const tester = createExtensionTester(entityRolloutCard, {
      apis: [[rolloutsApiRef, api]],
    });
    renderInTestApp(
      <EntityProvider entity={paymentsApi}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis: [[rolloutsApiRef, api]] },
    );
    expect(await screen.findByText('Rollouts')).toBeInTheDocument();
    expect(await screen.findByText('Step 2 of 5')).toBeInTheDocument();
    expect(screen.getByText('Paused')).toBeInTheDocument();
  });

  it('renders the Deployment tab with its actions', async () => {
    const api = mockRolloutsApi({
      getRollouts: jest.fn().mockResolvedValue([pausedCanary()]),
    });
    const tester = createExtensionTester(entityRolloutsContent, {
      apis: [[rolloutsApiRef, api]],
    });
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(
      'Deployment',
    );
    renderInTestApp(
      <EntityProvider entity={paymentsApi}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis: [[rolloutsApiRef, api]] },
    );
    expect(
      await screen.findByRole('button', { name: 'Promote' }),
    ).toBeEnabled();
  });

  it('shows the card and tab only on components with Kubernetes annotations', () => {
    const card = createExtensionTester(entityRolloutCard).get(
      EntityCardBlueprint.dataRefs.filterFunction,
    );
    const content = createExtensionTester(entityRolloutsContent).get(
      EntityContentBlueprint.dataRefs.filterFunction,
    );
    const selectorOnly = {
      ...unannotated,
      metadata: {
        ...unannotated.metadata,
        annotations: { 'backstage.io/kubernetes-label-selector': 'app=batch' },
      },
    };
    const system = { ...paymentsApi, kind: 'System' };
    for (const filter of [card, content]) {
      expect(filter).toBeDefined();
      expect(filter!(paymentsApi)).toBe(true);
      expect(filter!(selectorOnly)).toBe(true);
      expect(filter!(unannotated)).toBe(false);
      expect(filter!(system)).toBe(false);
    }
  });
});
