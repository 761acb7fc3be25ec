// The dev app (dev/) is outside jest's rootDir (src/): its test lives here so that it cannot rot.
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp } from '@backstage/test-utils';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutName } from './components/RolloutStatus/format';
import { EntityRolloutCard } from './plugin';
import { EntityRolloutsContent } from './components/EntityRolloutsContent';
import { createRolloutsDevApp, signInAsFrontendGuest } from '../dev/devApp';
import { rolloutsDevScenarios, RolloutsDevScenario } from '../dev/scenarios';
import { ScenarioProvider } from '../dev/ScenarioProvider';

function scenario(id: string): RolloutsDevScenario {
  const found = rolloutsDevScenarios.find(s => s.id === id);
  if (!found) throw new Error(`no dev scenario ${id}`);
  return found;
}

async function renderWithin(s: RolloutsDevScenario, element: JSX.Element) {
  await renderInTestApp(
    <ScenarioProvider scenario={s}>{element}</ScenarioProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

/** What the card must show in each state that has no rollouts to list. */
const emptyStates: Record<string, () => Promise<unknown>> = {
  'no-annotation': () => screen.findAllByText(/backstage\.io\/kubernetes-id/),
  loading: () => screen.findByRole('progressbar'),
  error: async () => {
    await screen.findByText(/Could not load rollouts/);
    expect(
      screen.getAllByText(/ECONNREFUSED 127\.0\.0\.1:6550/).length,
    ).toBeGreaterThan(0);
  },
  'no-workloads': () => screen.findByText('No workloads found'),
};

async function rolloutsOf(s: RolloutsDevScenario) {
  const rollouts = await s.api.getRollouts(getCompoundEntityRef(s.entity));
  expect(rollouts.length).toBeGreaterThan(0);
  return rollouts;
}

/** A read-only binding shows why; any other state shows the engine's message. */
function expectedText(rollout: RolloutView): string {
  return rollout.binding.message ?? rollout.message;
}

describe('the dev app scenarios', () => {
  it('have distinct ids, so each is reachable in the Deployment tab page', () => {
    const ids = rolloutsDevScenarios.map(s => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(rolloutsDevScenarios.map(s => [s.id, s] as const))(
    'the card renders %s',
    async (id, s) => {
      await renderWithin(s, <EntityRolloutCard />);
      const expectEmptyState = emptyStates[id];
      if (expectEmptyState) {
        await expectEmptyState();
        return;
      }
      for (const rollout of await rolloutsOf(s)) {
        const section = await screen.findByRole('region', {
          name: rolloutName(rollout),
        });
        expect(
          within(section).getAllByText(expectedText(rollout), { exact: false })
            .length,
        ).toBeGreaterThan(0);
      }
      expect(screen.queryByText(/Could not load/)).toBeNull();
    },
  );

  it.each(rolloutsDevScenarios.map(s => [s.id, s] as const))(
    'the Deployment tab renders %s',
    async (id, s) => {
      await renderWithin(s, <EntityRolloutsContent />);
      const expectEmptyState = emptyStates[id];
      if (expectEmptyState) {
        await expectEmptyState();
        return;
      }
      for (const rollout of await rolloutsOf(s)) {
        expect(
          (await screen.findAllByText(rolloutName(rollout))).length,
        ).toBeGreaterThan(0);
        expect(
          screen.getAllByText(expectedText(rollout), { exact: false }).length,
        ).toBeGreaterThan(0);
      }
      expect(screen.queryByText(/Could not load/)).toBeNull();
    },
  );

  it("shows the server's 403 when an offered action is refused", async () => {
    const user = userEvent.setup({ delay: null });
    await renderWithin(scenario('forbidden'), <EntityRolloutsContent />);
    await user.click(await screen.findByRole('button', { name: 'Promote' }));
    const dialog = await screen.findByRole('dialog');
    await user.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'ship it',
    );
    await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'user:default/guest may not promote rollouts of component:default/payments-api',
    );
  });
});

describe('the dev app', () => {
  it('signs in as the guest and shows every card state', async () => {
    // What dev/index.tsx does, and the keys of the repository's app-config.yaml the app reads
    // (`yarn start` serves it with that file).
    signInAsFrontendGuest();
    (window as any).__APP_CONFIG__ = {
      app: { title: 'Rollouts dev app', baseUrl: 'http://localhost:3000' },
      // 127.0.0.1: the guest sign-in tries the (absent) auth backend first; loopback only.
      backend: { baseUrl: 'http://127.0.0.1:7007' },
    };
    window.history.pushState({}, '', '/rollouts/card');
    const DevApp = createRolloutsDevApp().build();
    render(<DevApp />);
    expect(
      await screen.findByRole(
        'heading',
        { name: 'Rollouts card' },
        { timeout: 10_000 },
      ),
    ).toBeInTheDocument();
    for (const s of rolloutsDevScenarios) {
      expect(
        screen.getByRole('region', { name: `scenario ${s.id}` }),
      ).toBeInTheDocument();
    }
    // The plugin's own card, fed by the scenario's mock rather than the app-wide one.
    const elsewhere = screen.getByRole('region', {
      name: 'scenario bound-elsewhere',
    });
    expect(
      (
        await within(elsewhere).findAllByText(
          /belongs to component:default\/search-indexer/,
        )
      ).length,
    ).toBeGreaterThan(0);
    expect(screen.queryAllByText(/Something went wrong/i)).toEqual([]);
  });
});
