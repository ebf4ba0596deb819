import Chip from '@material-ui/core/Chip';
import { makeStyles } from '@material-ui/core/styles';
import type { ModelStage } from '@loopline/mlops-common';

const useStyles = makeStyles(theme => ({
  None: {
    backgroundColor: theme.palette.grey[300],
    color: theme.palette.getContrastText(theme.palette.grey[300]),
  },
  Staging: {
    backgroundColor: theme.palette.warning.main,
    color: theme.palette.warning.contrastText,
  },
  Production: {
    backgroundColor: theme.palette.success.main,
    color: theme.palette.success.contrastText,
  },
  Archived: {
    backgroundColor: 'transparent',
    color: theme.palette.text.secondary,
    borderColor: theme.palette.text.disabled,
  },
}));

/** A version's stage, coloured: grey, amber (Staging), green (Production), outlined (Archived). */
export function StageChip(props: { stage: ModelStage }) {
  const classes = useStyles();
  const { stage } = props;
  return (
    <Chip
      label={stage}
      size="small"
      variant={stage === 'Archived' ? 'outlined' : 'default'}
      className={classes[stage]}
      data-stage={stage}
    />
  );
}

/** An alias of a version, e.g. `@champion`. */
export function AliasChip(props: { alias: string }) {
  return (
    <Chip
      label={`@${props.alias}`}
      size="small"
      variant="outlined"
      color="primary"
    />
  );
}
