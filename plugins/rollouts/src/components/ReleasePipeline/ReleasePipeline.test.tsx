import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { PipelineView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef, RolloutsApi } from '../../api';
import { paymentsApi } from '../../testing/fixtures';
import { backendError, mockRolloutsApi } from '../../testing/mockRolloutsApi';
import { ReleasePipeline } from './ReleasePipeline';
import { formatRemaining } from './PipelineStageRow';

const V1 = 'ghcr.io/acme/payments-api:1.0.0';
const V2 = 'ghcr.io/acme/payments-api:1.1.0';
const SINCE = new Date(Date.now() - 5 * 60_000).toISOString();

function pipeline(
  production: Partial<PipelineView['stages'][number]> = {},
): PipelineView {
  return {
    entityRef: 'component:default/payments-api',
    source: 'annotation',
    stages: [
      {
        name: 'staging',
        cluster: 'staging',
        soakSeconds: 600,
        promotion: 'manual',
        workload: 'payments-api',
        release: { image: V2, phase: 'Healthy', since: SINCE },
        waitingFor: [],
        canPromote: false,
      },
      {
        name: 'production',
        cluster: 'production',
        soakSeconds: 0,
        promotion: 'manual',
        workload: 'payments-api',
        release: { image: V1, phase: 'Healthy', since: SINCE },
        candidate: V2,
        waitingFor: [
          {
            kind: 'soak',
            message: `${V2} has been Healthy in staging since ${SINCE}; it soaks until later`,
            remainingSeconds: 250,
          },
        ],
        canPromote: false,
        ...production,
      },
    ],
  };
}

async function render(api: RolloutsApi) {
  return renderInTestApp(
    <TestApiProvider apis={[[rolloutsApiRef, api]]}>
      <ReleasePipeline entity={paymentsApi} />
    </TestApiProvider>,
  );
}

describe('ReleasePipeline', () => {
  it('shows the stages in order, the release in each and what production waits for', async () => {
    await render(
      mockRolloutsApi({ getPipeline: jest.fn().mockResolvedValue(pipeline()) }),
    );
    const stages = within(
      await screen.findByRole('region', { name: 'Release pipeline' }),
    ).getAllByRole('listitem', {
      name: /^Stage/,
    });
    expect(stages.map(s => s.getAttribute('aria-label'))).toEqual([
      'Stage 1: staging',
      'Stage 2: production',
    ]);
    expect(stages[0]).toHaveTextContent(V2);
    expect(stages[0]).toHaveTextContent('soak 10m');
    expect(stages[0]).toHaveTextContent(/Healthy since 5 minutes ago/);
    expect(stages[1]).toHaveTextContent(V1);
    expect(
      within(stages[1]).getByRole('list', { name: 'production waits for' }),
    ).toHaveTextContent('Soak: 4m 10s left');
    expect(
      screen.queryByRole('button', { name: /Promote/ }),
    ).not.toBeInTheDocument();
  });

  it('renders nothing for an entity without a pipeline', async () => {
    await render(mockRolloutsApi());
    await waitFor(() =>
      expect(
        screen.queryByRole('region', { name: 'Release pipeline' }),
      ).not.toBeInTheDocument(),
    );
  });

  it('promotes the release the user saw, with a reason, when the server allows it', async () => {
    const api = mockRolloutsApi({
      getPipeline: jest
        .fn()
        .mockResolvedValue(pipeline({ waitingFor: [], canPromote: true })),
    });
    await render(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote to production' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to production',
    });
    expect(dialog).toHaveTextContent(
      `Starts ${V2}, the release of staging, in production`,
    );
    const confirm = within(dialog).getByRole('button', {
      name: 'Promote to production',
    });
    expect(confirm).toBeDisabled();
    await userEvent.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'soaked fine',
    );
    await userEvent.click(confirm);
    await waitFor(() =>
      expect(api.promoteRelease).toHaveBeenCalledWith(
        { kind: 'Component', namespace: 'default', name: 'payments-api' },
        { stage: 'production', image: V2, reason: 'soaked fine' },
      ),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it("relays the server's refusal in the dialog", async () => {
    const refusal = await backendError(
      409,
      'ConflictError',
      `Cannot start ${V2} in production: it soaks until later`,
    );
    const api = mockRolloutsApi({
      getPipeline: jest
        .fn()
        .mockResolvedValue(pipeline({ waitingFor: [], canPromote: true })),
      promoteRelease: jest.fn().mockRejectedValue(refusal),
    });
    await render(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote to production' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'now',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Promote to production' }),
    );
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      /soaks until later/,
    );
  });
});

it('says a protected stage asks for approval, and takes the 202 answer as asked', async () => {
  const api = mockRolloutsApi({
    getPipeline: jest
      .fn()
      .mockResolvedValue(
        pipeline({ waitingFor: [], canPromote: true, approvalRequired: true }),
      ),
    promoteRelease: jest
      .fn()
      .mockResolvedValue({ approval: { id: 'a1', status: 'pending' } }),
  });
  await render(api);
  expect(
    await screen.findByRole('listitem', { name: 'Stage 2: production' }),
  ).toHaveTextContent('needs approval');
  await userEvent.click(
    screen.getByRole('button', { name: 'Promote to production' }),
  );
  const dialog = await screen.findByRole('dialog', {
    name: 'Promote to production',
  });
  expect(dialog).toHaveTextContent(
    'asks another owner of the entity to approve',
  );
  await userEvent.type(
    within(dialog).getByRole('textbox', { name: /Reason/ }),
    'soaked',
  );
  await userEvent.click(
    within(dialog).getByRole('button', { name: 'Promote to production' }),
  );
  await waitFor(() =>
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
  );
});

describe('formatRemaining', () => {
  it('says hours, minutes and seconds, leaving out zeros', () => {
    expect(formatRemaining(0)).toBe('0s');
    expect(formatRemaining(59)).toBe('59s');
    expect(formatRemaining(600)).toBe('10m');
    expect(formatRemaining(3_661)).toBe('1h 1m 1s');
  });
});
