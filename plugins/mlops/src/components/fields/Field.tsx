import { ReactNode } from 'react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { AboutField } from '@backstage/plugin-catalog';

/** Lays out {@link Field}s in columns, like the catalog's About card. */
export function FieldGrid(props: { children: ReactNode }) {
  return (
    <Grid container spacing={2}>
      {props.children}
    </Grid>
  );
}

function isEmpty(value: ReactNode): boolean {
  return (
    value === undefined ||
    value === null ||
    value === false ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}

/**
 * One labelled value of a spec. Optional spec fields are common, so a field
 * without a value renders nothing rather than "unknown".
 */
export function Field(props: {
  label: string;
  value: ReactNode;
  /** Take a whole row, for long values. */
  fullWidth?: boolean;
  /** Running text (a model card's intended use...): a whole row, regular weight. */
  prose?: boolean;
}) {
  const { label, value, prose } = props;
  if (isEmpty(value)) {
    return null;
  }
  const fullWidth = props.fullWidth || prose;
  let content;
  if (prose) {
    content = (
      <AboutField label={label}>
        <Typography variant="body2">{value}</Typography>
      </AboutField>
    );
  } else if (typeof value === 'string' || typeof value === 'number') {
    content = <AboutField label={label} value={String(value)} />;
  } else {
    content = <AboutField label={label}>{value}</AboutField>;
  }
  return (
    <Grid item xs={12} sm={fullWidth ? 12 : 6} lg={fullWidth ? 12 : 4}>
      {content}
    </Grid>
  );
}

/** A titled group of fields within a card. */
export function Section(props: { title: string; children: ReactNode }) {
  return (
    <Box component="section" mt={3}>
      <Typography variant="h6" component="h3" gutterBottom>
        {props.title}
      </Typography>
      {props.children}
    </Box>
  );
}
