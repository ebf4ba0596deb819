import Chip from '@material-ui/core/Chip';
import { makeStyles } from '@material-ui/core/styles';
import type { ModelMonitoringSummary } from '@loopline/mlops-common';

export type DriftStatus =
  | NonNullable<ModelMonitoringSummary['drift']>['status']
  | 'not_checked';

const useStyles = makeStyles(theme => ({
  drift: {
    backgroundColor: theme.palette.error.main,
    color: theme.palette.error.contrastText,
  },
  no_drift: {
    backgroundColor: theme.palette.success.main,
    color: theme.palette.success.contrastText,
  },
  insufficient_data: {
    backgroundColor: theme.palette.grey[300],
    color: theme.palette.getContrastText(theme.palette.grey[300]),
  },
  not_checked: {
    backgroundColor: 'transparent',
    color: theme.palette.text.secondary,
  },
}));

const LABELS: Record<DriftStatus, string> = {
  drift: 'Drift',
  no_drift: 'No drift',
  insufficient_data: 'Insufficient data',
  not_checked: 'Not checked',
};

/** A Model's latest drift status as a badge: red (drift), green, grey, outlined (no report yet). */
export function DriftStatusChip(props: {
  status: DriftStatus;
  title?: string;
}) {
  const classes = useStyles();
  return (
    <Chip
      label={LABELS[props.status]}
      size="small"
      title={props.title}
      variant={props.status === 'not_checked' ? 'outlined' : 'default'}
      className={classes[props.status]}
      data-drift-status={props.status}
    />
  );
}
