import { useId, useState } from 'react';
import { useApi } from '@backstage/core-plugin-api';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import {
  DEFAULT_ROLLOUT_STEPS,
  DeploymentTargetKind,
  ROLLOUT_STRATEGIES,
  RolloutDefaults,
  RolloutStrategy,
  StartRolloutRequest,
} from '@loopline/mlops-common';
import { mlopsApiRef, RolloutControlAction } from '../../api';
import { ActionDialog, CommentField } from '../shared';
import {
  CandidateVersionField,
  proposedVersion,
  useCandidateVersions,
} from './CandidateVersionField';
import {
  NO_SLO_OVERRIDES,
  readSloOverrides,
  SloOverrideFields,
} from './SloOverrideFields';
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
 * Starts a rollout to an environment: a ready registry version, a strategy,
 * its steps (the strategy's defaults to start from), optional overrides of
 * the configured SLO, and a comment.
 */
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
  const candidates = useCandidateVersions(modelName, stableVersion);
  const [chosenVersion, setChosenVersion] = useState<number>();
  const [strategy, setStrategy] = useState<RolloutStrategy>('canary');
  const stepsOf = (s: RolloutStrategy) =>
    (environment.defaults?.steps[s] ?? DEFAULT_ROLLOUT_STEPS[s]).join(', ');
  const [stepsText, setStepsText] = useState(stepsOf('canary'));
  const [abHeader, setAbHeader] = useState('');
  const [sloTexts, setSloTexts] = useState(NO_SLO_OVERRIDES);
  const [comment, setComment] = useState('');

  const version =
    chosenVersion ?? (candidates.value && proposedVersion(candidates.value));
  const steps = parseSteps(stepsText, strategy);
  const slo = readSloOverrides(sloTexts);
  const valid =
    version !== undefined &&
    typeof steps !== 'string' &&
    slo.overrides !== undefined;

  const submit = async () => {
    if (!valid) {
      throw new Error('The form is not complete');
    }
    const overrides = slo.overrides ?? {};
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
      <CandidateVersionField
        modelName={modelName}
        stableVersion={stableVersion}
        candidates={candidates}
        value={version}
        onChange={setChosenVersion}
        promotionStage={environment.stage}
      />
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
      <SloOverrideFields
        value={sloTexts}
        onChange={setSloTexts}
        problems={slo.problems}
        defaults={environment.defaults?.slo}
      />
      <CommentField value={comment} onChange={setComment} notifiesOwners />
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
      <CommentField value={comment} onChange={setComment} notifiesOwners />
    </ActionDialog>
  );
}
