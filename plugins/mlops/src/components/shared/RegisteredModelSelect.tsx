import Box from '@material-ui/core/Box';
import TextField from '@material-ui/core/TextField';
import type { RegisteredModel } from '@loopline/mlops-common';

/** Picks one of a catalog Model's registered models; nothing when it has one. */
export function RegisteredModelSelect(props: {
  id: string;
  models: RegisteredModel[];
  value: string;
  onChange: (name: string) => void;
}) {
  if (props.models.length < 2) return null;
  return (
    <Box mb={2} maxWidth={360}>
      <TextField
        id={props.id}
        select
        fullWidth
        variant="outlined"
        size="small"
        label="Registered model"
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
        SelectProps={{ native: true }}
      >
        {props.models.map(m => (
          <option key={m.name} value={m.name}>
            {m.name}
          </option>
        ))}
      </TextField>
    </Box>
  );
}
