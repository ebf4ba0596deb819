import { useState } from 'react';
import { InfoCard, StatusOK, StatusWarning } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  allowedActions,
  DeploymentDetail,
  DeploymentTargetKind,
  DeploymentTargetStatus,
  isUnfinished,
  Rollout,
  ROLLOUT_CONTROL_ACTIONS,
  RolloutControlAction,
} from '@loopline/mlops-common';
import { Actor, Field, FieldGrid, Section, Time } from '../fields';
import { AnalysesTable } from './AnalysesTable';
import { StateChip } from './chips';
import { STRATEGY_LABELS, TARGET_LABELS } from './format';
import {
  ACTION_LABELS,
  EnvironmentInfo,
  RolloutActionDialog,
  StartRolloutDialog,
} from './RolloutDialogs';
import { RolloutSteps, TrafficSplit } from './RolloutProgress';
import { RolloutsTable, RolloutTimeline } from './RolloutTimeline';

/** The order the action buttons are shown in. */
const ACTION_ORDER: readonly RolloutControlAction[] = ROLLOUT_CONTROL_ACTIONS;

/** What the target reports: ready or not, the object it wrote, its traffic. */
function TargetStatus(props: {
  target: DeploymentTargetKind;
  status?: DeploymentTargetStatus;
}) {
  const { target, status } = props;
  if (!status) {
    return <>{TARGET_LABELS[target] ?? target}</>;
  }
  return (
    <>
      <Box display="flex" alignItems="center" flexWrap="wrap" gridGap={8}>
        <span>{TARGET_LABELS[target] ?? target}</span>
        {status.ready ? (
          <StatusOK>Ready</StatusOK>
        ) : (
          <StatusWarning>Not ready</StatusWarning>
        )}
      </Box>
      {status.message && (
        <Typography variant="body2" color="textSecondary">
          {status.message}
        </Typography>
      )}
      {status.resource && (
        <Typography variant="body2">
          <code>{status.resource}</code>
        </Typography>
      )}
      {status.traffic && status.traffic.length > 0 && (
        <Typography variant="body2" aria-label="Target traffic">
          {status.traffic
            .map(
              route =>
                `${route.name} ${route.percent}%${
                  route.latest ? ' (latest)' : ''
                }`,
            )
            .join(', ')}
        </Typography>
      )}
      <Typography variant="caption" color="textSecondary">
        As of <Time value={status.observedAt} />
      </Typography>
    </>
  );
}

/** Why the rollout ended or paused, in the colour of its state. */
function RolloutReason(props: { rollout: Rollout }) {
  const { rollout } = props;
  if (!rollout.reason) {
    return null;
  }
  const severity = {
    progressing: 'info',
    paused: 'warning',
    promoted: 'success',
    rolled_back: 'error',
  } as const;
  return (
    <Box mt={2}>
      <Alert severity={severity[rollout.state] ?? 'info'}>
        {rollout.reason}
      </Alert>
    </Box>
  );
}

type OpenDialog = 'start' | RolloutControlAction;

/**
 * One environment's deployment: what runs (stable, candidate), how (target,
 * strategy, state), the traffic split and the steps, the analyses and the
 * timeline; and, to those allowed, the controls. Without a deployment yet,
 * says so (and offers to start one).
 */
export function DeploymentCard(props: {
  modelName: string;
  environment: EnvironmentInfo;
  detail?: DeploymentDetail;
  canManage: boolean;
  onChanged: (message: string) => void;
}) {
  const { modelName, environment, detail, canManage, onChanged } = props;
  const [open, setOpen] = useState<OpenDialog>();
  const deployment = detail?.deployment;
  const rollout = deployment?.rollout;
  const active = isUnfinished(rollout);
  const allowed = allowedActions(rollout);
  const target = deployment?.target ?? environment.target;

  const close = () => setOpen(undefined);
  const done = (message: string) => {
    setOpen(undefined);
    onChanged(message);
  };

  const controls = canManage && (
    <Box
      display="flex"
      flexWrap="wrap"
      gridGap={8}
      mb={2}
      role="group"
      aria-label={`Controls of ${environment.name}`}
    >
      <Button
        color="primary"
        variant="contained"
        size="small"
        disabled={active}
        onClick={() => setOpen('start')}
      >
        Start rollout
      </Button>
      {rollout &&
        ACTION_ORDER.map(action => (
          <Button
            key={action}
            size="small"
            variant="outlined"
            color={action === 'rollback' ? 'secondary' : 'primary'}
            disabled={!allowed.includes(action)}
            onClick={() => setOpen(action)}
          >
            {ACTION_LABELS[action]}
          </Button>
        ))}
    </Box>
  );

  let content;
  if (!deployment) {
    content = (
      <Typography variant="body2" color="textSecondary">
        Nothing is deployed to {environment.name} yet.
        {canManage
          ? ' Start a rollout to deploy a registered version here.'
          : ' Its owners can start a rollout to deploy a registered version here.'}
      </Typography>
    );
  } else {
    content = (
      <>
        <FieldGrid>
          <Field
            label="Stable"
            value={
              deployment.stableVersion === undefined
                ? 'none yet'
                : `version ${deployment.stableVersion}`
            }
          />
          <Field
            label="Candidate"
            value={
              active && rollout ? `version ${rollout.candidateVersion}` : 'none'
            }
          />
          <Field
            label="Target"
            value={
              <TargetStatus target={target} status={deployment.targetStatus} />
            }
          />
          {rollout && (
            <Field
              label="Strategy"
              value={STRATEGY_LABELS[rollout.strategy] ?? rollout.strategy}
            />
          )}
          {rollout && (
            <Field label="State" value={<StateChip state={rollout.state} />} />
          )}
          {rollout && (
            <Field
              label={active ? 'Started' : 'Last rollout'}
              value={
                <Typography variant="body2" component="span">
                  {!active && `version ${rollout.candidateVersion}, `}
                  <Time value={rollout.startedAt} /> by{' '}
                  <Actor actor={rollout.startedBy} />
                </Typography>
              }
            />
          )}
        </FieldGrid>
        {rollout && <RolloutReason rollout={rollout} />}
        <Section title="Traffic">
          <TrafficSplit deployment={deployment} />
        </Section>
        {rollout && (
          <Section title={active ? 'Steps' : 'Steps of the last rollout'}>
            <RolloutSteps rollout={rollout} />
          </Section>
        )}
        {rollout && (
          <Section title="Analyses">
            {detail.analyses.length ? (
              <AnalysesTable
                environment={environment.name}
                rollout={rollout}
                analyses={detail.analyses}
              />
            ) : (
              <Typography variant="body2" color="textSecondary">
                {active
                  ? 'No analysis yet: the first runs once the step has had time to collect requests.'
                  : 'No analyses were recorded for this rollout.'}
              </Typography>
            )}
          </Section>
        )}
        <Section title="Timeline">
          {detail.events.length ? (
            <RolloutTimeline
              environment={environment.name}
              events={detail.events}
            />
          ) : (
            <Typography variant="body2" color="textSecondary">
              Nothing recorded yet.
            </Typography>
          )}
        </Section>
        {detail.rollouts.length > 1 && (
          <Section title="Rollouts">
            <RolloutsTable
              environment={environment.name}
              rollouts={detail.rollouts}
            />
          </Section>
        )}
      </>
    );
  }

  const subheader = [
    `${TARGET_LABELS[target] ?? target} target`,
    environment.stage && `promotion moves a version to ${environment.stage}`,
  ]
    .filter(Boolean)
    .join(' · ');

  return (
    <InfoCard title={environment.name} subheader={subheader}>
      <section aria-label={`Deployment to ${environment.name}`}>
        {controls}
        {content}
      </section>
      {open === 'start' && canManage && (
        <StartRolloutDialog
          modelName={modelName}
          environment={environment}
          stableVersion={deployment?.stableVersion}
          onClose={close}
          onDone={done}
        />
      )}
      {open && open !== 'start' && canManage && rollout && (
        <RolloutActionDialog
          modelName={modelName}
          environment={environment.name}
          action={open}
          candidateVersion={rollout.candidateVersion}
          onClose={close}
          onDone={done}
        />
      )}
    </InfoCard>
  );
}
