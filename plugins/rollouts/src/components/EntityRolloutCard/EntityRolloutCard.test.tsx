import { act, screen, waitFor, within } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { signalApiRef, SignalApi } from '@backstage/plugin-signals-react';
import type { Entity } from '@backstage/catalog-model';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef, RolloutsApi } from '../../api';
import {
  argoCanaryPromotingFull,
  blueGreenAwaitingPromotion,
  boundElsewhere,
  degradedCanary,
  evilClaim,
  pausedCanary,
  paymentsApi,
  progressingRollingUpdate,
  unannotated,
  unboundCanary,
} from '../../testing/fixtures';
import { backendError, mockRolloutsApi } from '../../testing/mockRolloutsApi';
import { EntityRolloutCard } from './EntityRolloutCard';

async function renderCard(
  api: RolloutsApi,
  entity: Entity = paymentsApi,
  extraApis: Array<[any, any]> = [],
) {
  return renderInTestApp(
    <TestApiProvider apis={[[rolloutsApiRef, api], ...extraApis]}>
      <EntityProvider entity={entity}>
        <EntityRolloutCard />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

function withRollouts(...rollouts: RolloutView[]) {
  return mockRolloutsApi({
    getRollouts: jest.fn().mockResolvedValue(rollouts),
  });
}

describe('EntityRolloutCard', () => {
  it('shows progress while loading', async () => {
    await renderCard(
      mockRolloutsApi({ getRollouts: jest.fn(() => new Promise(() => {})) }),
    );
    expect(await screen.findByRole('progressbar')).toBeInTheDocument();
  });

  it('shows the backend error', async () => {
    const error = await backendError(
      500,
      'Error',
      'cluster local is unreachable',
    );
    await renderCard(
      mockRolloutsApi({ getRollouts: jest.fn().mockRejectedValue(error) }),
    );
    expect(
      await screen.findByText(/Could not load rollouts/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/cluster local is unreachable/).length,
    ).toBeGreaterThan(0);
  });

  it('names the missing annotation and does not call the backend', async () => {
    const api = mockRolloutsApi();
    await renderCard(api, unannotated);
    expect(
      (await screen.findAllByText(/backstage\.io\/kubernetes-id/)).length,
    ).toBeGreaterThan(0);
    expect(api.getRollouts).not.toHaveBeenCalled();
  });

  it('says when no workloads were found in the clusters', async () => {
    await renderCard(withRollouts());
    expect(await screen.findByText('No workloads found')).toBeInTheDocument();
    expect(
      screen.getByText(/No workloads found in the configured clusters/),
    ).toBeInTheDocument();
  });

  it('shows a paused canary with step, weights, images and pause', async () => {
    const api = withRollouts(pausedCanary());
    await renderCard(api);
    const section = await screen.findByRole('region', {
      name: 'payments-api on local',
    });
    expect(section).toHaveTextContent('Canary');
    expect(section).toHaveTextContent('Paused');
    expect(section).toHaveTextContent('Step 2 of 5');
    // The phase word stays readable by assistive technology, next to its icon.
    expect(
      within(section).getByText('Paused').closest('[aria-hidden="true"]'),
    ).toBeNull();
    expect(
      screen.getByRole('progressbar', {
        name: /Desired weight .* payments-api on local/,
      }),
    ).toHaveAttribute('aria-valuenow', '20');
    expect(
      screen.getByRole('progressbar', {
        name: /Actual weight .* payments-api on local/,
      }),
    ).toHaveAttribute('aria-valuenow', '20');
    expect(screen.getAllByText('20%')).toHaveLength(2);
    expect(
      screen.getByText(
        'Weight is approximated by replica ratio (no traffic router)',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/acme/payments-api:1.3.0'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/acme/payments-api:1.4.0'),
    ).toBeInTheDocument();
    expect(section).toHaveTextContent('Canary step 2 waits for a promote');
    expect(section).toHaveTextContent('since 5 minutes ago');
    expect(section).toHaveTextContent('Waiting for a promote at 20% traffic');
    expect(api.getRollouts).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'payments-api',
    });
  });

  it('says a canary through the Gateway API has its exact weight from the HTTPRoute', async () => {
    const traffic = {
      router: 'gateway-api' as const,
      route: 'payments/payments-api',
      rule: '0',
      weights: { stable: 80, canary: 20 },
      accepted: true,
    };
    await renderCard(
      withRollouts(
        pausedCanary({
          weight: { desired: 20, actual: 20, method: 'gateway-api' },
          traffic,
        }),
      ),
    );
    expect(
      await screen.findByText(
        'Exact weight, read from HTTPRoute payments/payments-api (accepted by its Gateway)',
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByText(/approximated by replica ratio/),
    ).not.toBeInTheDocument();
  });

  it("shows why the Gateway does not accept a canary's HTTPRoute", async () => {
    await renderCard(
      withRollouts(
        pausedCanary({
          weight: { desired: 20, actual: 0, method: 'gateway-api' },
          traffic: {
            router: 'gateway-api',
            route: 'payments/payments-api',
            rule: '0',
            weights: { stable: 100, canary: 0 },
            accepted: false,
            message:
              'Gateway gateways/public does not accept HTTPRoute payments/payments-api: Accepted=False (NoMatchingParent)',
          },
        }),
      ),
    );
    expect(
      await screen.findByText(
        /Exact weight through HTTPRoute payments\/payments-api: Gateway gateways\/public does not accept/,
      ),
    ).toBeInTheDocument();
  });

  it('shows a blue-green rollout awaiting promotion', async () => {
    await renderCard(withRollouts(blueGreenAwaitingPromotion()));
    const section = await screen.findByRole('region', {
      name: 'payments-web on staging',
    });
    expect(section).toHaveTextContent('Blue-green');
    expect(section).toHaveTextContent('Paused');
    expect(section).toHaveTextContent('Awaiting promotion');
    expect(section).toHaveTextContent('since 12 minutes ago');
    expect(section).toHaveTextContent('ghcr.io/acme/payments-web:2.1.0');
    expect(
      screen.queryByText(/approximated by replica ratio/),
    ).not.toBeInTheDocument();
  });

  it('says who drives the rollout: the engine by default, Argo Rollouts with its caveats', async () => {
    await renderCard(
      withRollouts(
        argoCanaryPromotingFull({
          analysis: { name: 'payments-api-7c9-2', phase: 'Running' },
        }),
      ),
    );
    const section = await screen.findByRole('region', {
      name: 'payments-api on local',
    });
    expect(section).toHaveTextContent('ControllerArgo Rollouts');
    expect(section).toHaveTextContent('AnalysisRunning (payments-api-7c9-2)');
    expect(within(section).getByRole('alert')).toHaveTextContent(
      'Argo Rollouts ignores an abort until it completes',
    );
    expect(section).toHaveTextContent(
      'Actual weight as the traffic router reports it',
    );
    expect(
      within(section).queryByRole('button', { name: /abort/i }),
    ).not.toBeInTheDocument();
  });

  it('names the rollouts engine as the controller of its own rollouts', async () => {
    await renderCard(withRollouts(pausedCanary()));
    const section = await screen.findByRole('region', {
      name: 'payments-api on local',
    });
    expect(section).toHaveTextContent('ControllerRollouts engine');
    expect(within(section).queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a progressing rolling update without a pause', async () => {
    await renderCard(withRollouts(progressingRollingUpdate()));
    const section = await screen.findByRole('region', {
      name: 'payments-worker on local',
    });
    expect(section).toHaveTextContent('Rolling update');
    expect(section).toHaveTextContent('Progressing');
    expect(section).toHaveTextContent('Step 1 of 1');
    expect(screen.getByText('100%')).toBeInTheDocument();
    expect(screen.getByText('50%')).toBeInTheDocument();
    expect(section).not.toHaveTextContent('since');
    expect(section).toHaveTextContent('2 of 4 pods updated');
  });

  it('shows a degraded rollout and its message', async () => {
    await renderCard(withRollouts(degradedCanary()));
    const section = await screen.findByRole('region', {
      name: 'payments-api on local',
    });
    expect(section).toHaveTextContent('Degraded');
    expect(section).toHaveTextContent('Step 1 of 5');
    expect(section).toHaveTextContent(
      'Canary pods are crash-looping (ghcr.io/acme/payments-api:1.5.0-broken)',
    );
  });

  it('lists every cluster and workload', async () => {
    await renderCard(withRollouts(pausedCanary(), progressingRollingUpdate()));
    expect(
      await screen.findByRole('region', { name: 'payments-api on local' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('region', { name: 'payments-worker on local' }),
    ).toBeInTheDocument();
  });

  it('refetches when a signal arrives on the entity channel', async () => {
    const listeners = new Map<string, (message: any) => void>();
    const signalApi: SignalApi = {
      subscribe: (channel, onMessage) => {
        listeners.set(channel, onMessage as any);
        return { unsubscribe: () => listeners.delete(channel) };
      },
    };
    const api = mockRolloutsApi({
      getRollouts: jest
        .fn()
        .mockResolvedValueOnce([pausedCanary()])
        .mockResolvedValue([
          pausedCanary({ phase: 'Progressing', pause: undefined }),
        ]),
    });
    await renderCard(api, paymentsApi, [[signalApiRef, signalApi]]);
    const section = await screen.findByRole('region', {
      name: 'payments-api on local',
    });
    expect(section).toHaveTextContent('Paused');
    const listener = listeners.get('rollouts:component:default/payments-api');
    expect(listener).toBeDefined();
    act(() => listener!({ type: 'rollout-changed' }));
    await waitFor(() => expect(section).toHaveTextContent('Progressing'));
    expect(api.getRollouts).toHaveBeenCalledTimes(2);
  });

  it('shows a workload bound to another entity read-only, with the reason and a link to that entity', async () => {
    await renderCard(withRollouts(boundElsewhere()), evilClaim);
    const section = await screen.findByRole('region', {
      name: 'search-indexer on local',
    });
    const note = within(section).getByRole('note', {
      name: 'Read-only: search-indexer on local',
    });
    expect(note).toHaveTextContent(
      "Read-only: Workload search/search-indexer belongs to component:default/search-indexer, not to component:default/evil-claim: only its own entity's owners may act on it",
    );
    expect(
      within(note).getByRole('link', {
        name: 'component:default/search-indexer',
      }),
    ).toHaveAttribute('href', '/catalog/default/component/search-indexer');
    // The summary stays: read-only is not hidden.
    expect(section).toHaveTextContent('Rolling update');
    expect(section).toHaveTextContent('Healthy');
    expect(within(section).queryAllByRole('button')).toHaveLength(0);
  });

  it('says how the platform team binds an unbound workload', async () => {
    await renderCard(withRollouts(unboundCanary()));
    const note = await screen.findByRole('note', {
      name: 'Read-only: payments-api on local',
    });
    expect(note).toHaveTextContent(
      'Read-only: Workload payments/payments-api does not name the entity it belongs to',
    );
    expect(note).toHaveTextContent(
      'kubectl annotate deployment payments-api -n payments rollouts.backstage.io/entity=component:default/payments-api',
    );
    expect(within(note).queryByRole('link')).not.toBeInTheDocument();
  });

  it('shows no read-only note for a bound workload', async () => {
    await renderCard(withRollouts(pausedCanary()));
    await screen.findByRole('region', { name: 'payments-api on local' });
    expect(screen.queryByRole('note')).not.toBeInTheDocument();
  });
});
