import { act, screen, waitFor, within } from '@testing-library/react';
import { signalApiRef, SignalApi } from '@backstage/plugin-signals-react';
import userEvent from '@testing-library/user-event';

// Typing without per-key timers keeps the dialog tests fast on a busy machine.
let user: ReturnType<typeof userEvent.setup>;
beforeEach(() => {
  user = userEvent.setup({ delay: null });
});
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { coreApis } from '@backstage/frontend-plugin-api';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef, RolloutsApi } from '../../api';
import {
  blueGreenAwaitingPromotion,
  boundElsewhere,
  contestedCanary,
  degradedCanary,
  evilClaim,
  historyOf,
  pausedCanary,
  paymentsApi,
  progressingRollingUpdate,
  repeatedDenials,
  unannotated,
  unboundCanary,
} from '../../testing/fixtures';
import { backendError, mockRolloutsApi } from '../../testing/mockRolloutsApi';
import { EntityRolloutsContent } from './EntityRolloutsContent';

const entityRef = {
  kind: 'Component',
  namespace: 'default',
  name: 'payments-api',
};

function apiWith(
  rollouts: RolloutView[],
  overrides: Partial<Record<keyof RolloutsApi, jest.Mock>> = {},
) {
  return mockRolloutsApi({
    getRollouts: jest.fn().mockResolvedValue(rollouts),
    getHistory: jest.fn().mockResolvedValue(rollouts.flatMap(historyOf)),
    ...overrides,
  });
}

async function renderContent(
  api: RolloutsApi,
  entity = paymentsApi,
  extraApis: Array<[any, any]> = [],
) {
  await renderInTestApp(
    <TestApiProvider apis={[[rolloutsApiRef, api], ...extraApis]}>
      <EntityProvider entity={entity}>
        <EntityRolloutsContent />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

async function openDialog(label: string) {
  await user.click(await screen.findByRole('button', { name: label }));
  return screen.findByRole('dialog');
}

describe('EntityRolloutsContent', () => {
  it('shows progress, then the rollouts', async () => {
    let resolve: (value: RolloutView[]) => void = () => {};
    const api = apiWith([], {
      getRollouts: jest.fn(
        () => new Promise<RolloutView[]>(r => (resolve = r)),
      ),
    });
    await renderContent(api);
    expect(await screen.findByRole('progressbar')).toBeInTheDocument();
    resolve([pausedCanary()]);
    expect(
      await screen.findByText('payments-api on local'),
    ).toBeInTheDocument();
  });

  it('shows the error from the backend', async () => {
    const error = await backendError(
      404,
      'NotFoundError',
      'entity component:default/payments-api not found',
    );
    await renderContent(
      apiWith([], { getRollouts: jest.fn().mockRejectedValue(error) }),
    );
    expect(
      await screen.findByText(/Could not load rollouts/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/entity component:default\/payments-api not found/)
        .length,
    ).toBeGreaterThan(0);
  });

  it('names the missing annotation', async () => {
    await renderContent(apiWith([]), unannotated);
    expect(
      (await screen.findAllByText(/backstage\.io\/kubernetes-id/)).length,
    ).toBeGreaterThan(0);
  });

  it('says when no workloads were found', async () => {
    await renderContent(apiWith([]));
    expect(
      await screen.findByText(/No workloads found in the configured clusters/),
    ).toBeInTheDocument();
  });

  it('shows the steps of a paused canary with the current one marked', async () => {
    await renderContent(apiWith([pausedCanary()]));
    const steps = await screen.findByRole('navigation', {
      name: 'Steps of payments-api on local',
    });
    expect(steps).toHaveTextContent('Step 2 of 5');
    const current = steps.querySelector('[aria-current="step"]');
    expect(current).toHaveTextContent('Pause until promoted');
    expect(current).toHaveTextContent('current · Paused');
    expect(steps).toHaveTextContent('Set weight to 20%');
    expect(steps).toHaveTextContent('Set weight to 50%');
    expect(steps).toHaveTextContent('Pause for 60s');
  });

  it('shows every step of a healthy canary as done, none as current', async () => {
    await renderContent(
      apiWith([
        pausedCanary({
          phase: 'Healthy',
          step: { index: 5, total: 5 },
          pause: undefined,
          targetImage: undefined,
          allowedActions: ['rollback', 'restart', 'start'],
        }),
      ]),
    );
    const steps = await screen.findByRole('navigation', {
      name: 'Steps of payments-api on local',
    });
    expect(steps).toHaveTextContent('Step 5 of 5');
    expect(steps.querySelector('[aria-current="step"]')).toBeNull();
    expect(steps.querySelectorAll('.MuiStepLabel-completed')).toHaveLength(5);
  });

  it('shows revisions with their roles and ready counts', async () => {
    await renderContent(apiWith([blueGreenAwaitingPromotion()]));
    const table = await screen.findByRole('table', {
      name: 'Revisions of payments-web on staging',
    });
    const rows = within(table).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('8');
    expect(rows[1]).toHaveTextContent('preview');
    expect(rows[1]).toHaveTextContent('ghcr.io/acme/payments-web:2.1.0');
    expect(rows[1]).toHaveTextContent('3/3 ready');
    expect(rows[2]).toHaveTextContent('active');
  });

  it('shows who did what, when, why and how it went', async () => {
    await renderContent(apiWith([pausedCanary()]));
    const table = await screen.findByRole('table', {
      name: 'History of payments-api on local',
    });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('10 minutes ago');
    expect(rows[1]).toHaveTextContent('user:default/bob');
    expect(rows[1]).toHaveTextContent('promote (step 2)');
    expect(rows[1]).toHaveTextContent('Try to skip the canary');
    expect(rows[1]).toHaveTextContent('denied');
    expect(rows[2]).toHaveTextContent('user:default/alice');
    expect(rows[2]).toHaveTextContent(
      'start (revision 4, ghcr.io/acme/payments-api:1.4.0)',
    );
    expect(rows[2]).toHaveTextContent('succeeded');
  });

  it('marks a degraded step as failed and a progressing rolling update', async () => {
    await renderContent(
      apiWith([degradedCanary(), progressingRollingUpdate()]),
    );
    const degraded = await screen.findByRole('navigation', {
      name: 'Steps of payments-api on local',
    });
    expect(degraded.querySelector('[aria-current="step"]')).toHaveTextContent(
      'current · Degraded',
    );
    const rolling = screen.getByRole('navigation', {
      name: 'Steps of payments-worker on local',
    });
    expect(rolling).toHaveTextContent('Step 1 of 1');
    expect(rolling.querySelector('[aria-current="step"]')).toHaveTextContent(
      'Replace pods',
    );
  });

  it('enables exactly the allowed actions', async () => {
    await renderContent(apiWith([pausedCanary()]));
    const toolbar = await screen.findByRole('toolbar', {
      name: 'Actions for payments-api on local',
    });
    const enabled = [
      'Promote',
      'Promote full',
      'Abort',
      'Roll back',
      'Restart',
      'Deploy image',
    ];
    const disabled = ['Retry', 'Pause', 'Resume'];
    for (const name of enabled) {
      expect(within(toolbar).getByRole('button', { name })).toBeEnabled();
    }
    for (const name of disabled) {
      expect(within(toolbar).getByRole('button', { name })).toBeDisabled();
    }
  });

  it('shows every action disabled to someone who may not act', async () => {
    await renderContent(apiWith([pausedCanary({ allowedActions: [] })]));
    const toolbar = await screen.findByRole('toolbar', {
      name: 'Actions for payments-api on local',
    });
    const buttons = within(toolbar).getAllByRole('button');
    expect(buttons).toHaveLength(9);
    buttons.forEach(button => expect(button).toBeDisabled());
    expect(
      screen.getByText(/only the owners of payments-api can/),
    ).toBeInTheDocument();
  });

  it('shows repeated denials as one row with their count and the time of the last one', async () => {
    const rollout = pausedCanary();
    const denials = repeatedDenials(rollout);
    await renderContent(
      apiWith([rollout], {
        getHistory: jest
          .fn()
          .mockResolvedValue([...historyOf(rollout), denials]),
      }),
    );
    const table = await screen.findByRole('table', {
      name: 'History of payments-api on local',
    });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(4);
    // Its last denial, two minutes ago, is the newest event, though the first came 3 hours ago.
    const collapsed = rows[1];
    expect(collapsed).toHaveTextContent('user:default/mallory');
    expect(collapsed).toHaveTextContent('denied ×12');
    expect(collapsed).toHaveTextContent('2 minutes ago');
    expect(collapsed).toHaveTextContent('first 3 hours ago');
    const [last, first] = within(collapsed).getAllByText(/ago$/, {
      selector: 'time',
    });
    expect(last).toHaveAttribute('dateTime', denials.lastAt);
    expect(first).toHaveAttribute('dateTime', denials.createdAt);
    // Rows of one event say nothing of counts.
    expect(rows[2]).toHaveTextContent('user:default/bob');
    expect(rows[2]).not.toHaveTextContent('×');
    expect(rows[2]).not.toHaveTextContent('first');
  });

  describe('a workload the cluster does not bind to this entity', () => {
    it('is read-only with the reason, a link to its entity and no buttons', async () => {
      // Even a view that listed actions gets no buttons: the binding decides.
      const rollout = {
        ...boundElsewhere(),
        allowedActions: ['start' as const],
      };
      await renderContent(apiWith([rollout]), evilClaim);
      const note = await screen.findByRole('note', {
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
      expect(screen.queryByRole('toolbar')).not.toBeInTheDocument();
      expect(screen.queryAllByRole('button')).toHaveLength(0);
      // The rest of the tab is there to read.
      expect(
        screen.getByRole('table', {
          name: 'Revisions of search-indexer on local',
        }),
      ).toBeInTheDocument();
      expect(
        await screen.findByRole('table', {
          name: 'History of search-indexer on local',
        }),
      ).toBeInTheDocument();
    });

    it('says how to bind it when it names no entity', async () => {
      await renderContent(apiWith([unboundCanary()]));
      const note = await screen.findByRole('note', {
        name: 'Read-only: payments-api on local',
      });
      expect(note).toHaveTextContent(
        'Read-only: Workload payments/payments-api does not name the entity it belongs to',
      );
      expect(
        within(note).getByText(
          'kubectl annotate deployment payments-api -n payments rollouts.backstage.io/entity=component:default/payments-api',
        ).tagName,
      ).toBe('CODE');
      expect(screen.queryByRole('toolbar')).not.toBeInTheDocument();
      expect(
        screen.queryByRole('button', { name: 'Deploy image' }),
      ).not.toBeInTheDocument();
    });

    it('says why when the cluster names it for several entities', async () => {
      await renderContent(apiWith([contestedCanary()]));
      const note = await screen.findByRole('note', {
        name: 'Read-only: payments-api on local',
      });
      expect(note).toHaveTextContent(
        'Read-only: Workload payments/payments-api names component:default/payments-api, but its namespace holds only the workloads of component:default/billing',
      );
      expect(note).toHaveTextContent('Nobody acts on it from the portal');
      expect(screen.queryAllByRole('button')).toHaveLength(0);
    });

    it('leaves the permission read-only case to the disabled buttons', async () => {
      await renderContent(apiWith([pausedCanary({ allowedActions: [] })]));
      await screen.findByRole('toolbar', {
        name: 'Actions for payments-api on local',
      });
      expect(screen.queryByRole('note')).not.toBeInTheDocument();
    });
  });

  describe('action dialog', () => {
    it('says what will happen and sends the revision and step the user saw', async () => {
      const api = apiWith([pausedCanary()]);
      const toastApi = { post: jest.fn() };
      await renderContent(api, paymentsApi, [[coreApis.toast, toastApi]]);
      const dialog = await openDialog('Promote');
      expect(dialog).toHaveAccessibleName('Promote: payments-api on local');
      expect(dialog).toHaveTextContent(
        'Promote payments-api on local to step 3/5 (weight 50%).',
      );
      const confirm = within(dialog).getByRole('button', { name: 'Confirm' });
      expect(confirm).toBeDisabled();
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'metrics look good',
      );
      expect(confirm).toBeEnabled();
      await user.click(confirm);
      await waitFor(() =>
        expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
      );
      expect(api.runAction).toHaveBeenCalledTimes(1);
      expect(api.runAction).toHaveBeenCalledWith(entityRef, 'promote', {
        cluster: 'local',
        workload: 'payments-api',
        reason: 'metrics look good',
        revision: 4,
        stepIndex: 1,
      });
      expect(toastApi.post).toHaveBeenCalledWith(
        expect.objectContaining({
          title: 'Promoted payments-api on local.',
          status: 'success',
        }),
      );
      // The view is refetched after the action.
      await waitFor(() => expect(api.getRollouts).toHaveBeenCalledTimes(2));
    });

    it('keeps sending what the user saw when the view refreshes under the dialog', async () => {
      const listeners = new Set<(message: any) => void>();
      const signalApi: SignalApi = {
        subscribe: (_channel, onMessage) => {
          listeners.add(onMessage as any);
          return { unsubscribe: () => listeners.delete(onMessage as any) };
        },
      };
      const notify = (message: any) => listeners.forEach(l => l(message));
      const api = apiWith([], {
        getRollouts: jest
          .fn()
          .mockResolvedValueOnce([pausedCanary()])
          .mockResolvedValue([
            pausedCanary({
              step: { index: 2, total: 5 },
              phase: 'Progressing',
            }),
          ]),
      });
      await renderContent(api, paymentsApi, [[signalApiRef, signalApi]]);
      const dialog = await openDialog('Promote');
      act(() => notify({}));
      await waitFor(() =>
        expect(
          // The page behind the modal is aria-hidden while the dialog is open.
          screen.getByRole('navigation', {
            name: 'Steps of payments-api on local',
            hidden: true,
          }),
        ).toHaveTextContent('Step 3 of 5'),
      );
      expect(dialog).toHaveTextContent('to step 3/5 (weight 50%)');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'ok',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      await waitFor(() =>
        expect(api.runAction).toHaveBeenCalledWith(
          entityRef,
          'promote',
          expect.objectContaining({ revision: 4, stepIndex: 1 }),
        ),
      );
    });

    it('submits with the keyboard', async () => {
      const api = apiWith([pausedCanary()]);
      await renderContent(api);
      const dialog = await openDialog('Abort');
      expect(dialog).toHaveTextContent(
        'Abort the rollout of payments-api on local at step 2 of 5',
      );
      const reason = within(dialog).getByRole('textbox', { name: /Reason/ });
      await user.type(reason, 'error rate up');
      await user.tab();
      await user.tab();
      expect(
        within(dialog).getByRole('button', { name: 'Confirm' }),
      ).toHaveFocus();
      await user.keyboard('{Enter}');
      await waitFor(() =>
        expect(api.runAction).toHaveBeenCalledWith(
          entityRef,
          'abort',
          expect.objectContaining({ reason: 'error rate up' }),
        ),
      );
    });

    it('sends nothing on cancel', async () => {
      const api = apiWith([pausedCanary()]);
      await renderContent(api);
      const dialog = await openDialog('Promote full');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'ship it',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
      await waitFor(() =>
        expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
      );
      expect(api.runAction).not.toHaveBeenCalled();
    });

    it('closes on Escape without sending', async () => {
      const api = apiWith([pausedCanary()]);
      await renderContent(api);
      await openDialog('Restart');
      await user.keyboard('{Escape}');
      await waitFor(() =>
        expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
      );
      expect(api.runAction).not.toHaveBeenCalled();
    });

    it("shows a 403's message as the server wrote it", async () => {
      const message =
        "Workload payments/payments-api belongs to component:default/billing, not to component:default/payments-api: only its own entity's owners may act on it";
      const error = await backendError(403, 'NotAllowedError', message);
      const api = apiWith([pausedCanary()], {
        runAction: jest.fn().mockRejectedValue(error),
      });
      await renderContent(api);
      const dialog = await openDialog('Promote');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'please',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      const alert = await within(dialog).findByRole('alert');
      expect(alert.textContent).toBe(message);
      expect(screen.getByRole('dialog')).toBeInTheDocument();
    });

    it("shows a 403's message when deploying an image too", async () => {
      const message =
        'You may not start rollouts of component:default/payments-api';
      const error = await backendError(403, 'NotAllowedError', message);
      const api = apiWith([pausedCanary()], {
        startRollout: jest.fn().mockRejectedValue(error),
      });
      await renderContent(api);
      const dialog = await openDialog('Deploy image');
      await user.click(within(dialog).getByRole('textbox', { name: /Image/ }));
      await user.paste('ghcr.io/acme/payments-api:1.5.0');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'release',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect((await within(dialog).findByRole('alert')).textContent).toBe(
        message,
      );
    });

    it('explains a 403 without a message in words', async () => {
      const error = await backendError(403, 'NotAllowedError', '');
      const api = apiWith([pausedCanary()], {
        runAction: jest.fn().mockRejectedValue(error),
      });
      await renderContent(api);
      const dialog = await openDialog('Abort');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'stop',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect((await within(dialog).findByRole('alert')).textContent).toBe(
        'You are not allowed to abort the rollout of payments-api.',
      );
    });

    it('explains a 409 and offers a refresh', async () => {
      const error = await backendError(
        409,
        'ConflictError',
        'revision 4 is no longer current',
      );
      const api = apiWith([pausedCanary()], {
        runAction: jest.fn().mockRejectedValue(error),
      });
      await renderContent(api);
      const dialog = await openDialog('Promote');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'go',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect(await within(dialog).findByRole('alert')).toHaveTextContent(
        'revision 4 is no longer current (refresh to see where it stands)',
      );
      // Counted from here: on a slow machine the idle poll may already have fetched once more.
      const fetched = (api.getRollouts as jest.Mock).mock.calls.length;
      await user.click(within(dialog).getByRole('button', { name: 'Refresh' }));
      await waitFor(() =>
        expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
      );
      await waitFor(() =>
        expect(
          (api.getRollouts as jest.Mock).mock.calls.length,
        ).toBeGreaterThan(fetched),
      );
    });

    it('shows the server message for other errors', async () => {
      const error = await backendError(
        400,
        'InputError',
        'reason must be at most 1000 characters',
      );
      const api = apiWith([pausedCanary()], {
        runAction: jest.fn().mockRejectedValue(error),
      });
      await renderContent(api);
      const dialog = await openDialog('Restart');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'x',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect(await within(dialog).findByRole('alert')).toHaveTextContent(
        'reason must be at most 1000 characters',
      );
    });

    it('never shows a blank for an error without a message', async () => {
      const api = apiWith([pausedCanary()], {
        runAction: jest.fn().mockRejectedValue(new Error('')),
      });
      await renderContent(api);
      const dialog = await openDialog('Restart');
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'x',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      expect(await within(dialog).findByRole('alert')).toHaveTextContent(
        'Could not restart payments-api.',
      );
    });

    it('rolls back to the chosen revision', async () => {
      const api = apiWith([pausedCanary()]);
      await renderContent(api);
      const dialog = await openDialog('Roll back');
      expect(dialog).toHaveTextContent(
        'Roll back payments-api on local to revision 3 (ghcr.io/acme/payments-api:1.3.0).',
      );
      await user.click(
        within(dialog).getByRole('button', { name: /Revision/ }),
      );
      await user.click(
        await screen.findByRole('option', {
          name: /Revision 2: ghcr.io\/acme\/payments-api:1.2.0/,
        }),
      );
      expect(dialog).toHaveTextContent(
        'Roll back payments-api on local to revision 2 (ghcr.io/acme/payments-api:1.2.0).',
      );
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'bad release',
      );
      await user.click(within(dialog).getByRole('button', { name: 'Confirm' }));
      await waitFor(() =>
        expect(api.runAction).toHaveBeenCalledWith(entityRef, 'rollback', {
          cluster: 'local',
          workload: 'payments-api',
          reason: 'bad release',
          revision: 4,
          stepIndex: 1,
          toRevision: 2,
        }),
      );
    });

    it('deploys a new image', async () => {
      const api = apiWith([blueGreenAwaitingPromotion()]);
      await renderContent(api);
      const dialog = await openDialog('Deploy image');
      const confirm = within(dialog).getByRole('button', { name: 'Confirm' });
      await user.type(
        within(dialog).getByRole('textbox', { name: /Reason/ }),
        'release 2.2',
      );
      expect(confirm).toBeDisabled();
      // Pasted, as people do with image references.
      await user.click(within(dialog).getByRole('textbox', { name: /Image/ }));
      await user.paste('ghcr.io/acme/payments-web:2.2.0');
      expect(dialog).toHaveTextContent(
        'Deploy ghcr.io/acme/payments-web:2.2.0 to payments-web on staging with its blue-green strategy.',
      );
      await user.click(confirm);
      await waitFor(() =>
        expect(api.startRollout).toHaveBeenCalledWith(entityRef, {
          cluster: 'staging',
          workload: 'payments-web',
          image: 'ghcr.io/acme/payments-web:2.2.0',
          reason: 'release 2.2',
        }),
      );
      expect(api.runAction).not.toHaveBeenCalled();
    });

    it('describes a blue-green promotion', async () => {
      await renderContent(apiWith([blueGreenAwaitingPromotion()]));
      const dialog = await openDialog('Promote');
      expect(dialog).toHaveTextContent(
        'Promote payments-web on staging: the active service switches to the preview version (ghcr.io/acme/payments-web:2.1.0).',
      );
    });
  });
});
