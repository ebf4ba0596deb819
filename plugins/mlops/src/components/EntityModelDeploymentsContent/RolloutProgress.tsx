import Box from '@material-ui/core/Box';
import Step from '@material-ui/core/Step';
import StepLabel from '@material-ui/core/StepLabel';
import Stepper from '@material-ui/core/Stepper';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import {
  Deployment,
  isMirrored,
  isUnfinished,
  Rollout,
} from '@loopline/mlops-common';
import { Time } from '../fields';

const useStyles = makeStyles(theme => ({
  bar: {
    display: 'flex',
    height: 20,
    borderRadius: theme.shape.borderRadius,
    overflow: 'hidden',
    backgroundColor: theme.palette.grey[200],
  },
  stable: { backgroundColor: theme.palette.primary.main },
  candidate: { backgroundColor: theme.palette.secondary.main },
  swatch: {
    display: 'inline-block',
    width: 10,
    height: 10,
    marginRight: theme.spacing(0.5),
    borderRadius: 2,
  },
  stepper: { padding: theme.spacing(2, 0) },
}));

/** What the candidate gets while it does not answer. */
function mirrorNote(deployment: Deployment, rollout: Rollout): string {
  if (rollout.strategy === 'shadow') {
    return `The candidate gets a copy of ${rollout.weight}% of the requests; only stable answers them, and the two are compared.`;
  }
  if (deployment.target === 'kserve') {
    return 'The candidate runs beside stable without traffic until it is ready; then it takes all traffic at once.';
  }
  return 'The candidate runs beside stable on a copy of every request; once it passes, it takes all traffic at once.';
}

const versionLabel = (version?: number) =>
  version === undefined ? 'none yet' : `version ${version}`;

/**
 * The live traffic split as a bar (stable vs candidate) with a legend; for a
 * shadow (or a blue-green not switched yet), the share copied to the
 * candidate, which answers no one.
 */
export function TrafficSplit(props: { deployment: Deployment }) {
  const { deployment } = props;
  const classes = useStyles();
  const { weights } = deployment;
  const rollout = isUnfinished(deployment.rollout)
    ? deployment.rollout
    : undefined;
  return (
    <Box role="figure" aria-label={`Traffic in ${deployment.environment}`}>
      <div className={classes.bar} aria-hidden>
        <div
          className={classes.stable}
          style={{ width: `${weights.stable}%` }}
        />
        <div
          className={classes.candidate}
          style={{ width: `${weights.candidate}%` }}
        />
      </div>
      <Box display="flex" flexWrap="wrap" gridColumnGap={24} mt={1}>
        <Typography variant="body2">
          <span className={`${classes.swatch} ${classes.stable}`} />
          Stable ({versionLabel(deployment.stableVersion)}): {weights.stable}%
        </Typography>
        {(rollout || weights.candidate > 0) && (
          <Typography variant="body2">
            <span className={`${classes.swatch} ${classes.candidate}`} />
            Candidate ({versionLabel(rollout?.candidateVersion)}):{' '}
            {weights.candidate}%
          </Typography>
        )}
      </Box>
      {rollout && isMirrored(rollout) && (
        <Typography variant="body2" color="textSecondary">
          {mirrorNote(deployment, rollout)}
        </Typography>
      )}
    </Box>
  );
}

/** Where the rollout is (or ended), before the time it got there. */
function stepSummary(rollout: Rollout): string {
  const step = `step ${rollout.stepIndex + 1} of ${rollout.steps.length}`;
  switch (rollout.state) {
    case 'promoted':
      return `Promoted after ${step},`;
    case 'rolled_back':
      return `Rolled back at ${step} (${rollout.weight}%),`;
    case 'paused':
      return `Paused at ${step} (${rollout.weight}%), reached`;
    default:
      return `At ${step} (${rollout.weight}%) since`;
  }
}

/**
 * The rollout's steps (candidate weights, e.g. 10 → 25 → 50 → 100) with the
 * current one highlighted: done before it, all done once promoted, and the
 * step it stopped at marked once rolled back.
 */
export function RolloutSteps(props: { rollout: Rollout }) {
  const { rollout } = props;
  const classes = useStyles();
  const promoted = rollout.state === 'promoted';
  const rolledBack = rollout.state === 'rolled_back';
  return (
    <>
      <Stepper
        activeStep={promoted ? rollout.steps.length : rollout.stepIndex}
        alternativeLabel
        className={classes.stepper}
        aria-label="Steps"
        role="list"
      >
        {rollout.steps.map((weight, index) => {
          const current = !promoted && index === rollout.stepIndex;
          return (
            <Step
              // Weights may repeat in principle; the position is the identity.
              // eslint-disable-next-line react/no-array-index-key
              key={index}
              role="listitem"
              aria-current={current ? 'step' : undefined}
              completed={promoted || index < rollout.stepIndex}
            >
              <StepLabel error={rolledBack && index === rollout.stepIndex}>
                {weight}%
              </StepLabel>
            </Step>
          );
        })}
      </Stepper>
      <Typography variant="body2" color="textSecondary">
        {stepSummary(rollout)}{' '}
        {rollout.finishedAt ? (
          <Time value={rollout.finishedAt} />
        ) : (
          <Time value={rollout.stepStartedAt} />
        )}
        .
        {rollout.lastAnalysisAt && (
          <>
            {' '}
            Last analysed <Time value={rollout.lastAnalysisAt} />.
          </>
        )}
      </Typography>
    </>
  );
}
