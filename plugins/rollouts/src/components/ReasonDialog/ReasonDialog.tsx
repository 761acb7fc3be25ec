import { FormEvent, ReactNode } from 'react';
import Button from '@material-ui/core/Button';
import CircularProgress from '@material-ui/core/CircularProgress';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Alert from '@material-ui/lab/Alert';

export interface ReasonDialogProps {
  /** Prefix of the element ids: `${id}-title`, `${id}-description`, `${id}-reason`. */
  id: string;
  title: string;
  /** What confirming does, in the dialog's words. */
  description: ReactNode;
  /** Fields and notes shown between the description and the reason. */
  children?: ReactNode;
  reason: string;
  onReasonChange: (reason: string) => void;
  /** False while another field the action needs is missing; the reason is always required. */
  ready?: boolean;
  submitting: boolean;
  submitLabel: string;
  /** Called with the trimmed reason, only when the reason is given, `ready` and not submitting. */
  onSubmit: (reason: string) => void | Promise<void>;
  onClose: () => void;
  /** The server's refusal, shown as an alert above the actions. */
  error?: string;
  /** An action inside the error alert (e.g. Refresh after a stale write). */
  errorAction?: ReactNode;
}

/**
 * The frame every confirmed action shares: a title, what will happen, a required reason that is
 * recorded with the user's name, the server's refusal, and Cancel / submit. Closing is refused
 * while the request is in flight, so the answer always lands in the dialog that sent it.
 */
export function ReasonDialog(props: ReasonDialogProps) {
  const {
    id,
    title,
    description,
    children,
    reason,
    onReasonChange,
    ready = true,
    submitting,
    submitLabel,
    onSubmit,
    onClose,
    error,
    errorAction,
  } = props;
  const canSubmit = !submitting && reason.trim().length > 0 && ready;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!canSubmit) return;
    void onSubmit(reason.trim());
  };

  return (
    <Dialog
      open
      onClose={submitting ? undefined : onClose}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-description`}
      fullWidth
      maxWidth="sm"
    >
      <form onSubmit={submit} noValidate>
        <DialogTitle id={`${id}-title`}>{title}</DialogTitle>
        <DialogContent>
          <DialogContentText id={`${id}-description`}>
            {description}
          </DialogContentText>
          {children}
          <TextField
            id={`${id}-reason`}
            label="Reason"
            value={reason}
            onChange={e => onReasonChange(e.target.value)}
            helperText="Recorded in the rollout history with your name."
            required
            fullWidth
            multiline
            minRows={2}
            margin="dense"
            variant="outlined"
            inputProps={{ maxLength: 1000 }}
          />
          {error && (
            <Alert severity="error" role="alert" action={errorAction}>
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose} disabled={submitting}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={!canSubmit}
            startIcon={submitting ? <CircularProgress size={16} /> : undefined}
          >
            {submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
