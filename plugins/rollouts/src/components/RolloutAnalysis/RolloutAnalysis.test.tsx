import { cloneElement, ReactElement } from 'react';
import { screen, within } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import type {
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef } from '../../api';
import {
  analysisHistory,
  canaryFailedAnalysis,
  canaryInconclusiveAnalysis,
  canaryWithAnalysis,
  pausedCanary,
  paymentsApi,
  progressingRollingUpdate,
} from '../../testing/fixtures';
import { mockRolloutsApi } from '../../testing/mockRolloutsApi';
import { EntityRolloutsContent } from '../EntityRolloutsContent';

// jsdom lays nothing out, so a ResponsiveContainer measures 0 × 0 and draws nothing: give the
// chart the size a browser would.
jest.mock('recharts', () => {
  const actual = jest.requireActual('recharts');
  return {
    ...actual,
    ResponsiveContainer: (props: { children: ReactElement }) =>
      cloneElement(props.children, { width: 500, height: 180 }),
  };
});

async function renderTab(
  rollout: RolloutView,
  history: RolloutHistoryEvent[] = [],
) {
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [
          rolloutsApiRef,
          mockRolloutsApi({
            getRollouts: jest.fn().mockResolvedValue([rollout]),
            getHistory: jest.fn().mockResolvedValue(history),
          }),
        ],
      ]}
    >
      <EntityProvider entity={paymentsApi}>
        <EntityRolloutsContent />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

async function chartOf(metric: string) {
  return screen.findByRole('figure', {
    name: `${metric}: canary against stable`,
  });
}

/** The canary's points, by the verdict each is coloured for. */
function verdictsIn(figure: HTMLElement): string[] {
  return [...figure.querySelectorAll('circle[data-verdict]')].map(
    dot => dot.getAttribute('data-verdict')!,
  );
}

describe('the analysis on the Deployment tab', () => {
  it('says when a canary declares no analysis, and which annotation would', async () => {
    await renderTab(pausedCanary());
    expect(
      await screen.findByText('Analysis not configured'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/rollouts\.backstage\.io\/analysis annotation/),
    ).toBeInTheDocument();
    expect(screen.queryByRole('figure')).not.toBeInTheDocument();
  });

  it('has no analysis section for a rolling update', async () => {
    await renderTab(progressingRollingUpdate());
    await screen.findByText('payments-worker on local');
    expect(
      screen.queryByText('Analysis not configured'),
    ).not.toBeInTheDocument();
  });

  it('says when a declared analysis has not measured yet', async () => {
    await renderTab(
      canaryWithAnalysis({
        analysis: {
          name: 'payments-api-analysis',
          phase: 'Pending',
          metrics: [],
        },
      }),
    );
    expect(await screen.findByText(/No measurement yet/)).toBeInTheDocument();
    expect(screen.getAllByText('Pending').length).toBeGreaterThan(0);
    expect(screen.queryByRole('figure')).not.toBeInTheDocument();
    expect(
      screen.queryByText('Analysis not configured'),
    ).not.toBeInTheDocument();
  });

  it('draws a running analysis: canary against stable, the threshold, a verdict per point', async () => {
    await renderTab(canaryWithAnalysis());
    const errors = await chartOf('error-ratio');
    expect(within(errors).getByText('threshold 0.01')).toBeInTheDocument();
    // The legend names both series.
    expect(within(errors).getByText('canary')).toBeInTheDocument();
    expect(within(errors).getByText('stable')).toBeInTheDocument();
    expect(verdictsIn(errors)).toEqual([
      'Successful',
      'Successful',
      'Successful',
    ]);
    expect(errors).toHaveTextContent(
      'pass: result < 0.01 · fail: result >= 0.05 · every 30s',
    );
    expect(errors).toHaveTextContent(
      '3 passed · 0 failed (limit 1) · 0 inconclusive (limit 0)',
    );
    expect(errors).toHaveTextContent(
      'Last: canary 0.003 vs stable 0.001: Successful',
    );
    const latency = await chartOf('latency-p99');
    expect(within(latency).getByText('threshold 0.5')).toBeInTheDocument();
    expect(screen.getAllByText('Running').length).toBeGreaterThan(0);
  });

  it('shows a failed analysis with its failing points, counts past the limit and the abort in the history', async () => {
    const rollout = canaryFailedAnalysis();
    await renderTab(rollout, analysisHistory(rollout));
    const errors = await chartOf('error-ratio');
    expect(verdictsIn(errors)).toEqual(['Successful', 'Failed', 'Failed']);
    expect(errors).toHaveTextContent('● passed');
    expect(errors).toHaveTextContent('● failed');
    expect(errors).toHaveTextContent('1 passed · 2 failed (limit 1)');
    expect(errors).toHaveTextContent(
      'Last: canary 0.062 vs stable 0.002: Failed (result = 0.062)',
    );
    // The summary says it compactly too.
    expect(
      screen.getAllByText(/error-ratio failed 2 times \(limit 1\)/).length,
    ).toBeGreaterThan(0);
    expect(
      screen.getByText(/error-ratio Failed · 0\.062 · 2\/1 failed/),
    ).toBeInTheDocument();
    const history = screen.getByRole('table', {
      name: 'History of payments-api on local',
    });
    expect(within(history).getByText('analysis measurement')).toBeVisible();
    expect(within(history).getByText('aborted by analysis')).toBeVisible();
    expect(history).toHaveTextContent(
      'error-ratio: canary 0.062, stable 0.002: Failed',
    );
  });

  it('shows why an inconclusive analysis paused the canary, and marks the measurement without data', async () => {
    await renderTab(canaryInconclusiveAnalysis());
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Paused for a person: Analysis inconclusive: error-ratio returned no data for the canary (1 inconclusive, limit 0). Promote to go on regardless, or abort.',
    );
    const errors = await chartOf('error-ratio');
    expect(within(errors).getByText('no data')).toBeInTheDocument();
    // No point on the canary's line for it: its marker is the triangle on the axis.
    expect(verdictsIn(errors)).toEqual(['Successful']);
    expect(
      errors.querySelectorAll('.recharts-scatter-symbol path'),
    ).toHaveLength(1);
    expect(errors).toHaveTextContent('● inconclusive');
    expect(errors).toHaveTextContent(
      '1 passed · 0 failed (limit 1) · 1 inconclusive (limit 0)',
    );
    expect(errors).toHaveTextContent(
      'Last: canary no data vs stable 0.001: Inconclusive (empty result)',
    );
    expect(screen.getAllByText('Inconclusive').length).toBeGreaterThan(0);
  });
});
