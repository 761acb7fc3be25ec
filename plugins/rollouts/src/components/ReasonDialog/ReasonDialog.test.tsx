import { useState } from 'react';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ReasonDialog, ReasonDialogProps } from './ReasonDialog';

type Overrides = Partial<Omit<ReasonDialogProps, 'reason' | 'onReasonChange'>>;

/** The dialog with its reason held in state, as every caller holds it. */
function Harness(props: Overrides) {
  const [reason, setReason] = useState('');
  return (
    <ReasonDialog
      id="test-dialog"
      title="Promote: payments on local"
      description="Moves the canary to the next step."
      submitting={false}
      submitLabel="Confirm"
      onSubmit={() => {}}
      onClose={() => {}}
      {...props}
      reason={reason}
      onReasonChange={setReason}
    />
  );
}

describe('ReasonDialog', () => {
  it('is named by its title, says what happens and asks for a required reason', () => {
    render(<Harness />);
    const dialog = screen.getByRole('dialog', {
      name: 'Promote: payments on local',
    });
    expect(dialog).toHaveTextContent('Moves the canary to the next step.');
    expect(dialog).toHaveTextContent(
      'Recorded in the rollout history with your name.',
    );
    const reason = within(dialog).getByRole('textbox', { name: /Reason/ });
    expect(reason).toBeRequired();
    expect(reason).toHaveAttribute('maxlength', '1000');
  });

  it('names its description as the accessible description', () => {
    render(<Harness />);
    expect(screen.getByRole('dialog')).toHaveAccessibleDescription(
      'Moves the canary to the next step.',
    );
  });

  it('submits the trimmed reason only once one is given', async () => {
    const onSubmit = jest.fn();
    render(<Harness onSubmit={onSubmit} />);
    const confirm = screen.getByRole('button', { name: 'Confirm' });
    expect(confirm).toBeDisabled();
    const reason = screen.getByRole('textbox', { name: /Reason/ });
    await userEvent.type(reason, '   ');
    expect(confirm).toBeDisabled();
    await userEvent.type(reason, 'metrics flat  ');
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit).toHaveBeenCalledWith('metrics flat');
  });

  it('keeps submit disabled while another field is missing', async () => {
    const onSubmit = jest.fn();
    render(<Harness ready={false} onSubmit={onSubmit} />);
    await userEvent.type(
      screen.getByRole('textbox', { name: /Reason/ }),
      'hotfix',
    );
    expect(screen.getByRole('button', { name: 'Confirm' })).toBeDisabled();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows the fields it is given before the reason', () => {
    render(
      <Harness>
        <input aria-label="Image" />
      </Harness>,
    );
    const boxes = screen.getAllByRole('textbox');
    expect(boxes.map(b => b.getAttribute('aria-label') ?? b.id)).toEqual([
      'Image',
      'test-dialog-reason',
    ]);
  });

  it('cancels through onClose', async () => {
    const onClose = jest.fn();
    render(<Harness onClose={onClose} />);
    await userEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('cannot be cancelled or submitted again while submitting, and shows progress', async () => {
    const onClose = jest.fn();
    render(<Harness submitting onClose={onClose} />);
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Confirm' })).toBeDisabled();
    expect(
      within(screen.getByRole('button', { name: 'Confirm' })).getByRole(
        'progressbar',
      ),
    ).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(onClose).not.toHaveBeenCalled();
  });

  it('closes on Escape when idle', async () => {
    const onClose = jest.fn();
    render(<Harness onClose={onClose} />);
    await userEvent.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("shows the server's refusal as an alert, with its action", async () => {
    const onRefresh = jest.fn();
    render(
      <Harness
        error="The rollout moved on"
        errorAction={<button onClick={onRefresh}>Refresh</button>}
      />,
    );
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('The rollout moved on');
    await userEvent.click(
      within(alert).getByRole('button', { name: 'Refresh' }),
    );
    expect(onRefresh).toHaveBeenCalledTimes(1);
  });

  it('shows no alert without an error', () => {
    render(<Harness />);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
