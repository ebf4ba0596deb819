import { useId } from 'react';
import TextField from '@material-ui/core/TextField';

/**
 * The free-text "why" of a change, which the backend keeps in the audit trail
 * (and, for rollouts, puts into the owners' notification).
 */
export function CommentField(props: {
  value: string;
  onChange: (text: string) => void;
  /** Whether the comment also goes to the model owners' notification. */
  notifiesOwners?: boolean;
}) {
  const id = useId();
  return (
    <TextField
      id={`${id}-comment`}
      label="Comment"
      helperText={
        props.notifiesOwners
          ? "Why, for the audit trail and the owners' notification"
          : 'Why, for the audit trail'
      }
      value={props.value}
      onChange={event => props.onChange(event.target.value)}
      multiline
      minRows={2}
      fullWidth
      margin="dense"
    />
  );
}
