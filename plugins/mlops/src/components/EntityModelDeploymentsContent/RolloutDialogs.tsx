import { useId, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  DEFAULT_ROLLOUT_STEPS,
  DeploymentTargetKind,
  ModelVersion,
  ROLLOUT_STRATEGIES,
  RolloutDefaults,
  RolloutSlo,
  RolloutStrategy,
  StartRolloutRequest,
} from '@loopline/mlops-common';
import { mlopsApiRef, RolloutControlAction } from '../../api';
import { ActionDialog, errorMessage } from '../modelRegistry';
import { parseSteps, STEPS_HELP, STRATEGY_LABELS } from './format';

/** An environment as the deployments list configures it. */
export interface EnvironmentInfo {
  name: string;
  target: DeploymentTargetKind;
  /** The registry stage a promotion moves the candidate to. */
  stage?: string;
  /** The server's defaults for a rollout (steps per strategy, SLO). */
  defaults?: RolloutDefaults;
}

/**
 * The version to propose: the newest in Staging (what is usually rolled
 * out), else the newest one.
 */
function proposedVersion(versions: ModelVersion[]): number | undefined {
  return (versions.find(v => v.stage === 'Staging') ?? versions[0])?.version;
}

/** A number field's value, or why it is not one within the bounds. */
function readNumber(
  text: string,
  options: { min: number; max?: number; integer?: boolean },
): { value?: number; problem?: string } {
  if (!text.trim()) {
    return {};
  }
  const value = Number(text);
  if (
    !Number.isFinite(value) ||
    (options.integer && !Number.isInteger(value))
  ) {
    return { problem: options.integer ? 'A whole number' : 'A number' };
  }
  if (
    value < options.min ||
    (options.max !== undefined && value > options.max)
  ) {
    return {
      problem:
        options.max === undefined
          ? `At least ${options.min}`
          : `From ${options.min} to ${options.max}`,
    };
  }
  return { value };
}

/**
 * Starts a rollout to an environment: a ready registry version, a strategy,
 * its steps (the strategy's defaults to start from), optional overrides of
 * the configured SLO, and a comment.
 */
/** A field's help with the server's default for it, when known. */
function withDefault(help: string, value: string | number | undefined) {
  return value === undefined ? help : `${help}; default ${value}`;
}

const msOrNone = (ms: number | undefined) =>
  ms === undefined ? 'none' : `${ms} ms`;

export function StartRolloutDialog(props: {
  modelName: string;
  environment: EnvironmentInfo;
  /** The version running there now, which is no candidate. */
  stableVersion?: number;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { modelName, environment, stableVersion, onClose, onDone } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const id = useId();
  const versions = useAsync(
    async () =>
      (await mlopsApi.getModelVersions(modelName)).filter(
        v => v.status === 'READY' && v.version !== stableVersion,
      ),
    [mlopsApi, modelName, stableVersion],
  );
  const [chosenVersion, setChosenVersion] = useState<number>();
  const [strategy, setStrategy] = useState<RolloutStrategy>('canary');
  const defaultSlo = environment.defaults?.slo;
  const stepsOf = (s: RolloutStrategy) =>
    (environment.defaults?.steps[s] ?? DEFAULT_ROLLOUT_STEPS[s]).join(', ');
  const [stepsText, setStepsText] = useState(stepsOf('canary'));
  const [abHeader, setAbHeader] = useState('');
  const [minRequests, setMinRequests] = useState('');
  const [maxErrorRate, setMaxErrorRate] = useState('');
  const [maxP95, setMaxP95] = useState('');
  const [maxP99, setMaxP99] = useState('');
  const [comment, setComment] = useState('');

  const version =
    chosenVersion ?? (versions.value && proposedVersion(versions.value));
  const steps = parseSteps(stepsText, strategy);
  const slo = {
    minRequests: readNumber(minRequests, { min: 0, integer: true }),
    // Entered in percent, sent as a share (0..1) as the SLO holds it.
    maxErrorRate: readNumber(maxErrorRate, { min: 0, max: 100 }),
    maxLatencyP95Ms: readNumber(maxP95, { min: 0 }),
    maxLatencyP99Ms: readNumber(maxP99, { min: 0 }),
  };
  const valid =
    version !== undefined &&
    typeof steps !== 'string' &&
    Object.values(slo).every(field => !field.problem);

  const submit = async () => {
    if (!valid) {
      throw new Error('The form is not complete');
    }
    const overrides: Partial<RolloutSlo> = {};
    if (slo.minRequests.value !== undefined) {
      overrides.minRequests = slo.minRequests.value;
    }
    if (slo.maxErrorRate.value !== undefined) {
      overrides.maxErrorRate = slo.maxErrorRate.value / 100;
    }
    if (slo.maxLatencyP95Ms.value !== undefined) {
      overrides.maxLatencyP95Ms = slo.maxLatencyP95Ms.value;
    }
    if (slo.maxLatencyP99Ms.value !== undefined) {
      overrides.maxLatencyP99Ms = slo.maxLatencyP99Ms.value;
    }
    const request: StartRolloutRequest = {
      version,
      strategy,
      steps: steps as number[],
      ...(Object.keys(overrides).length ? { slo: overrides } : {}),
      ...(strategy === 'ab' && abHeader.trim()
        ? { abKey: { header: abHeader.trim().toLowerCase() } }
        : {}),
      ...(comment.trim() ? { comment: comment.trim() } : {}),
    };
    const deployment = await mlopsApi.startRollout(
      modelName,
      environment.name,
      request,
    );
    const weight = deployment.rollout?.weight ?? request.steps?.[0];
    return `${STRATEGY_LABELS[strategy]} of version ${version} to ${
      environment.name
    } started${weight === undefined ? '' : ` at ${weight}%`}.`;
  };

  const sloField = (
    key: string,
    label: string,
    value: string,
    set: (text: string) => void,
    problem: string | undefined,
    help: string,
  ) => (
    <TextField
      id={`${id}-${key}`}
      label={label}
      type="number"
      inputProps={{ step: 'any', min: 0 }}
      value={value}
      onChange={event => set(event.target.value)}
      error={Boolean(problem)}
      helperText={problem ?? help}
      margin="dense"
    />
  );

  let versionField;
  if (versions.error) {
    versionField = (
      <Alert severity="error">
        Could not load the versions of {modelName}:{' '}
        {errorMessage(versions.error)}
      </Alert>
    );
  } else if (!versions.value) {
    versionField = <Progress />;
  } else if (versions.value.length === 0) {
    versionField = (
      <Alert severity="info">
        No ready version of {modelName} to roll out
        {stableVersion === undefined
          ? ''
          : ` besides version ${stableVersion}, which is running`}
        .
      </Alert>
    );
  } else {
    versionField = (
      <TextField
        id={`${id}-version`}
        select
        label="Version"
        value={version ?? ''}
        onChange={event => setChosenVersion(Number(event.target.value))}
        SelectProps={{ native: true }}
        helperText={
          environment.stage
            ? `Promotion moves it to ${environment.stage} in the registry`
            : undefined
        }
        fullWidth
        margin="dense"
      >
        {versions.value.map(v => (
          <option key={v.version} value={v.version}>
            {`Version ${v.version} · ${v.stage}${
              v.description ? ` · ${v.description}` : ''
            }`}
          </option>
        ))}
      </TextField>
    );
  }

  return (
    <ActionDialog
      open
      title={`Start a rollout of ${modelName} to ${environment.name}`}
      submitLabel="Start"
      canSubmit={valid}
      onClose={onClose}
      onDone={onDone}
      onSubmit={submit}
    >
      <Typography variant="body2" paragraph>
        {stableVersion === undefined
          ? `Nothing runs in ${environment.name} yet: the version becomes its first stable version once the checks pass.`
          : `Version ${stableVersion} is stable in ${environment.name}; the version chosen is the candidate, checked against the SLO at each step.`}
      </Typography>
      {versionField}
      <TextField
        id={`${id}-strategy`}
        select
        label="Strategy"
        value={strategy}
        onChange={event => {
          const next = event.target.value as RolloutStrategy;
          setStrategy(next);
          setStepsText(stepsOf(next));
        }}
        SelectProps={{ native: true }}
        fullWidth
        margin="dense"
      >
        {ROLLOUT_STRATEGIES.map(option => (
          <option key={option} value={option}>
            {STRATEGY_LABELS[option]}
          </option>
        ))}
      </TextField>
      <TextField
        id={`${id}-steps`}
        label="Steps (%)"
        value={stepsText}
        onChange={event => setStepsText(event.target.value)}
        error={typeof steps === 'string'}
        helperText={typeof steps === 'string' ? steps : STEPS_HELP[strategy]}
        fullWidth
        margin="dense"
      />
      {strategy === 'ab' && (
        <TextField
          id={`${id}-ab-header`}
          label="A/B key header"
          value={abHeader}
          onChange={event => setAbHeader(event.target.value)}
          helperText="The request header holding the sticky key (e.g. x-user-id); empty for the configured one"
          fullWidth
          margin="dense"
        />
      )}
      <Box mt={2}>
        <Typography variant="subtitle2">SLO overrides</Typography>
        <Typography variant="body2" color="textSecondary">
          Empty fields keep the configured SLO.
        </Typography>
        <Box display="flex" flexWrap="wrap" gridColumnGap={16}>
          {sloField(
            'min-requests',
            'Min requests',
            minRequests,
            setMinRequests,
            slo.minRequests.problem,
            withDefault('Per step; fewer → wait', defaultSlo?.minRequests),
          )}
          {sloField(
            'max-error-rate',
            'Max error rate (%)',
            maxErrorRate,
            setMaxErrorRate,
            slo.maxErrorRate.problem,
            withDefault(
              'Of the candidate’s requests',
              defaultSlo && `${defaultSlo.maxErrorRate * 100}%`,
            ),
          )}
          {sloField(
            'max-p95',
            'Max p95 latency (ms)',
            maxP95,
            setMaxP95,
            slo.maxLatencyP95Ms.problem,
            withDefault(
              'Candidate’s 95th percentile',
              defaultSlo && msOrNone(defaultSlo.maxLatencyP95Ms),
            ),
          )}
          {sloField(
            'max-p99',
            'Max p99 latency (ms)',
            maxP99,
            setMaxP99,
            slo.maxLatencyP99Ms.problem,
            withDefault(
              'Candidate’s 99th percentile',
              defaultSlo && msOrNone(defaultSlo.maxLatencyP99Ms),
            ),
          )}
        </Box>
      </Box>
      <TextField
        id={`${id}-comment`}
        label="Comment"
        helperText="Why, for the audit trail and the owners' notification"
        value={comment}
        onChange={event => setComment(event.target.value)}
        multiline
        minRows={2}
        fullWidth
        margin="dense"
      />
    </ActionDialog>
  );
}

const ACTION_TEXTS: Record<
  RolloutControlAction,
  { label: string; explain: string; done: string }
> = {
  promote: {
    label: 'Promote',
    explain:
      'All traffic goes to the candidate now, which becomes the stable version; the remaining steps are skipped.',
    done: 'promoted',
  },
  rollback: {
    label: 'Roll back',
    explain:
      'All traffic goes back to the stable version now and the rollout ends.',
    done: 'rolled back',
  },
  pause: {
    label: 'Pause',
    explain:
      'Traffic stays as it is and no analysis runs until the rollout is resumed.',
    done: 'paused',
  },
  resume: {
    label: 'Resume',
    explain:
      'Analyses run again and advance (or roll back) the rollout from the current step.',
    done: 'resumed',
  },
};

/** The button text of each action. */
export const ACTION_LABELS: Record<RolloutControlAction, string> = {
  promote: ACTION_TEXTS.promote.label,
  rollback: ACTION_TEXTS.rollback.label,
  pause: ACTION_TEXTS.pause.label,
  resume: ACTION_TEXTS.resume.label,
};

/** Asks for a comment, then promotes, rolls back, pauses or resumes. */
export function RolloutActionDialog(props: {
  modelName: string;
  environment: string;
  action: RolloutControlAction;
  candidateVersion: number;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const { modelName, environment, action, candidateVersion, onClose, onDone } =
    props;
  const mlopsApi = useApi(mlopsApiRef);
  const id = useId();
  const [comment, setComment] = useState('');
  const texts = ACTION_TEXTS[action];
  return (
    <ActionDialog
      open
      title={`${texts.label} version ${candidateVersion} in ${environment}`}
      submitLabel={texts.label}
      onClose={onClose}
      onDone={onDone}
      onSubmit={async () => {
        await mlopsApi.rolloutAction(
          modelName,
          environment,
          action,
          comment.trim() || undefined,
        );
        return `Rollout of version ${candidateVersion} in ${environment} ${texts.done}.`;
      }}
    >
      <Typography variant="body2" paragraph>
        {texts.explain}
      </Typography>
      <TextField
        id={`${id}-comment`}
        label="Comment"
        helperText="Why, for the audit trail and the owners' notification"
        value={comment}
        onChange={event => setComment(event.target.value)}
        multiline
        minRows={2}
        fullWidth
        margin="dense"
      />
    </ActionDialog>
  );
}
