import Chip from '@material-ui/core/Chip';
import { makeStyles } from '@material-ui/core/styles';
import type { CheckVerdict, RolloutState } from '@loopline/mlops-common';
import { STATE_LABELS } from './format';

const useStyles = makeStyles(theme => ({
  progressing: {
    backgroundColor: theme.palette.info.main,
    color: theme.palette.info.contrastText,
  },
  paused: {
    backgroundColor: theme.palette.warning.main,
    color: theme.palette.warning.contrastText,
  },
  promoted: {
    backgroundColor: theme.palette.success.main,
    color: theme.palette.success.contrastText,
  },
  rolled_back: {
    backgroundColor: theme.palette.error.main,
    color: theme.palette.error.contrastText,
  },
  pass: {
    backgroundColor: theme.palette.success.main,
    color: theme.palette.success.contrastText,
  },
  fail: {
    backgroundColor: theme.palette.error.main,
    color: theme.palette.error.contrastText,
  },
  wait: {
    backgroundColor: theme.palette.grey[300],
    color: theme.palette.getContrastText(theme.palette.grey[300]),
  },
}));

/** A rollout's state: blue (progressing), amber, green (promoted), red. */
export function StateChip(props: { state: RolloutState }) {
  const classes = useStyles();
  return (
    <Chip
      label={STATE_LABELS[props.state] ?? props.state}
      size="small"
      className={classes[props.state]}
      data-state={props.state}
    />
  );
}

/** An analysis' or a check's verdict: green pass, red fail, grey wait. */
export function VerdictChip(props: { verdict: CheckVerdict }) {
  const classes = useStyles();
  return (
    <Chip
      label={props.verdict}
      size="small"
      className={classes[props.verdict]}
      data-verdict={props.verdict}
    />
  );
}
