import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { identityApiRef } from '@backstage/core-plugin-api';
import { coreApis } from '@backstage/frontend-plugin-api';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import type {
  ApprovalView,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef, RolloutsApi } from '../../api';
import { pausedCanary, paymentsApi } from '../../testing/fixtures';
import { backendError, mockRolloutsApi } from '../../testing/mockRolloutsApi';
import { EntityRolloutCard } from '../EntityRolloutCard';
import { EntityRolloutsContent } from '../EntityRolloutsContent';
import { HistoryTable } from '../EntityRolloutsContent/HistoryTable';

const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
const inADay = new Date(Date.now() + 86_400_000).toISOString();

const frozen = {
  name: 'year-end',
  message: 'No production changes over the holidays',
  start: new Date(Date.now() - 3_600_000).toISOString(),
  end: inADay,
  active: true,
};

function approval(overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id: 'a1',
    entityRef: 'component:default/payments-api',
    cluster: 'local',
    namespace: 'payments',
    workload: 'payments-api',
    action: 'promote-full',
    requestedBy: 'user:default/ada',
    reason: 'metrics are fine',
    status: 'pending',
    createdAt: new Date().toISOString(),
    expiresAt: inAnHour,
    ...overrides,
  };
}

const toastApi = { post: jest.fn() };

async function render(
  ui: JSX.Element,
  api: RolloutsApi,
  me = 'user:default/bob',
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [rolloutsApiRef, api],
        [identityApiRef, mockApis.identity({ userEntityRef: me })],
        [coreApis.toast, toastApi],
      ]}
    >
      <EntityProvider entity={paymentsApi}>{ui}</EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

const withRollouts = (...rollouts: RolloutView[]) =>
  mockRolloutsApi({ getRollouts: jest.fn().mockResolvedValue(rollouts) });

describe('freeze windows and approvals in the frontend', () => {
  it('shows an active freeze on the card with its name, message and end', async () => {
    await render(
      <EntityRolloutCard />,
      withRollouts(pausedCanary({ freeze: frozen })),
    );
    const notice = await screen.findByRole('status', {
      name: 'Freeze year-end',
    });
    expect(notice).toHaveTextContent('Frozen: year-end until');
    expect(notice).toHaveTextContent('No production changes over the holidays');
    expect(notice).toHaveTextContent(
      'abort, rollback and pause stay available',
    );
  });

  it('shows an upcoming freeze', async () => {
    await render(
      <EntityRolloutCard />,
      withRollouts(
        pausedCanary({ freeze: { ...frozen, active: false, start: inAnHour } }),
      ),
    );
    expect(
      await screen.findByRole('status', { name: 'Freeze year-end' }),
    ).toHaveTextContent(/Upcoming freeze: year-end from .* until/);
  });

  it('lets another owner approve a pending request, with a reason', async () => {
    const api = withRollouts(pausedCanary({ pendingApproval: approval() }));
    await render(<EntityRolloutCard />, api);
    const region = await screen.findByRole('region', {
      name: 'Approval request for payments-api',
    });
    expect(region).toHaveTextContent(
      'Approval asked: promote fully on payments-api in local',
    );
    expect(region).toHaveTextContent('user:default/ada: “metrics are fine”');
    await userEvent.click(
      within(region).getByRole('button', { name: 'Approve' }),
    );
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Approve' });
    expect(confirm).toBeDisabled();
    await userEvent.type(
      within(dialog).getByLabelText(/Reason/),
      'checked the dashboards',
    );
    await userEvent.click(confirm);
    await waitFor(() =>
      expect(api.approve).toHaveBeenCalledWith('a1', {
        reason: 'checked the dashboards',
      }),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it("shows the server's refusal of a decision in the dialog", async () => {
    const api = withRollouts(pausedCanary({ pendingApproval: approval() }));
    api.deny.mockRejectedValue(
      await backendError(
        409,
        'ConflictError',
        'Approval request a1 expired at 2026-12-02T10:00:00.000Z; ask again',
      ),
    );
    await render(<EntityRolloutCard />, api);
    await userEvent.click(await screen.findByRole('button', { name: 'Deny' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/Reason/), 'not now');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Deny' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'expired at 2026-12-02T10:00:00.000Z; ask again',
    );
  });

  it('tells the requester it waits for another owner, without an Approve button', async () => {
    await render(
      <EntityRolloutCard />,
      withRollouts(pausedCanary({ pendingApproval: approval() })),
      'user:default/ada',
    );
    const region = await screen.findByRole('region', {
      name: 'Approval request for payments-api',
    });
    expect(region).toHaveTextContent('Waiting for approval by another owner.');
    expect(
      within(region).queryByRole('button', { name: 'Approve' }),
    ).not.toBeInTheDocument();
    expect(
      within(region).getByRole('button', { name: 'Withdraw' }),
    ).toBeInTheDocument();
  });

  it('shows a viewer who is not an owner only that it waits', async () => {
    await render(
      <EntityRolloutCard />,
      withRollouts(
        pausedCanary({ pendingApproval: approval(), allowedActions: [] }),
      ),
    );
    const region = await screen.findByRole('region', {
      name: 'Approval request for payments-api',
    });
    expect(region).toHaveTextContent('Waiting for approval by an owner.');
    expect(within(region).queryByRole('button')).not.toBeInTheDocument();
  });

  it('explains a frozen promote and sends an override reason when one is given', async () => {
    const api = withRollouts(pausedCanary({ freeze: frozen }));
    await render(<EntityRolloutsContent />, api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote full' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByRole('note')).toHaveTextContent(
      'Freeze "year-end" until',
    );
    await userEvent.type(within(dialog).getByLabelText(/^Reason/), 'hotfix');
    await userEvent.type(
      within(dialog).getByLabelText(/Emergency override reason/),
      'CVE fix',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Confirm' }),
    );
    await waitFor(() =>
      expect(api.runAction).toHaveBeenCalledWith(
        expect.anything(),
        'promote-full',
        expect.objectContaining({
          reason: 'hotfix',
          override: { reason: 'CVE fix' },
        }),
      ),
    );
  });

  it('says a protected action became an approval request', async () => {
    const api = withRollouts(pausedCanary());
    api.runAction.mockResolvedValue({
      approval: approval({ requestedBy: 'user:default/bob' }),
    });
    await render(<EntityRolloutsContent />, api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote full' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText(/^Reason/), 'go');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Confirm' }),
    );
    await waitFor(() =>
      expect(toastApi.post).toHaveBeenCalledWith(
        expect.objectContaining({
          title:
            'Asked another owner of payments-api on local to approve: Promote full.',
        }),
      ),
    );
  });

  it('reads approval and override rows of the history in words', async () => {
    const base = {
      entityRef: 'component:default/payments-api',
      cluster: 'local',
      namespace: 'payments',
      workload: 'payments-api',
      createdAt: new Date().toISOString(),
    };
    await renderInTestApp(
      <HistoryTable
        label="History"
        events={[
          {
            ...base,
            id: '1',
            action: 'request-approval',
            actor: 'user:default/ada',
            outcome: 'succeeded',
            reason: 'release',
          },
          {
            ...base,
            id: '2',
            action: 'approve',
            actor: 'user:default/ada',
            outcome: 'denied',
            message: 'You asked for this start yourself',
          },
          {
            ...base,
            id: '3',
            action: 'freeze-override',
            actor: 'user:default/lead',
            outcome: 'succeeded',
            reason: 'CVE fix',
          },
          {
            ...base,
            id: '4',
            action: 'deny',
            actor: 'user:default/bob',
            outcome: 'succeeded',
            reason: 'not now',
          },
        ]}
      />,
    );
    const table = screen.getByRole('table', { name: 'History' });
    for (const words of [
      'approval asked',
      'approve request',
      'freeze override',
      'deny request',
    ]) {
      expect(within(table).getByText(words)).toBeInTheDocument();
    }
  });
});
