import { FormEvent, ReactNode, useEffect, useState } from 'react';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Alert from '@material-ui/lab/Alert';

/**
 * What went wrong, in the backend's words when it said (a `ResponseError`'s
 * own message is only the status line).
 */
export function errorMessage(thrown: unknown): string {
  if (!(thrown instanceof Error)) return String(thrown);
  const error = thrown;
  const cause = (error as { cause?: unknown }).cause;
  if (
    error.name === 'ResponseError' &&
    typeof cause === 'object' &&
    cause !== null &&
    typeof (cause as Error).message === 'string'
  ) {
    return (cause as Error).message;
  }
  return error.message;
}

/**
 * A dialog that asks for a change and makes it: submitting runs `onSubmit`,
 * which answers the success message; a failure is shown in the dialog, which
 * stays open so the user can correct and retry.
 */
export function ActionDialog(props: {
  open: boolean;
  title: string;
  submitLabel: string;
  /** False while the form is incomplete or invalid. */
  canSubmit?: boolean;
  onSubmit: () => Promise<string>;
  onClose: () => void;
  onDone: (message: string) => void;
  children: ReactNode;
}) {
  const {
    open,
    title,
    submitLabel,
    canSubmit = true,
    onSubmit,
    onClose,
  } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  useEffect(() => {
    if (open) {
      setError(undefined);
    }
  }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const message = await onSubmit();
      setBusy(false);
      props.onDone(message);
    } catch (e) {
      setBusy(false);
      setError(e as Error);
    }
  };

  const titleId = `${title.replace(/\W+/g, '-').toLowerCase()}-title`;
  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : onClose}
      aria-labelledby={titleId}
      fullWidth
      maxWidth="sm"
    >
      <form onSubmit={submit} noValidate>
        <DialogTitle id={titleId}>{title}</DialogTitle>
        <DialogContent>
          {props.children}
          {error && (
            <Alert severity="error" role="alert">
              {errorMessage(error)}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || !canSubmit}
          >
            {submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
