import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import type { Rollout, RolloutEvent } from '@loopline/mlops-common';
import { Actor, CompactColumn, CompactTable, Time } from '../fields';
import { StateChip } from './chips';
import { describeWeights, EVENT_LABELS, STRATEGY_LABELS } from './format';

const eventColumns: CompactColumn<RolloutEvent>[] = [
  { title: 'Time', render: event => <Time value={event.createdAt} /> },
  {
    title: 'Action',
    render: event => EVENT_LABELS[event.action] ?? <code>{event.action}</code>,
  },
  {
    title: 'By',
    render: event => (
      <Box display="flex" alignItems="center" flexWrap="wrap" gridGap={4}>
        <Actor actor={event.actor} />
        {event.automatic && (
          <Chip label="automatic" size="small" variant="outlined" />
        )}
      </Box>
    ),
  },
  {
    title: 'Weights',
    render: event => describeWeights(event.fromWeight, event.toWeight),
  },
  { title: 'Comment', render: event => event.comment },
];

/**
 * What happened to a deployment, newest first: each action by a user and
 * each decision of the analysis, with the candidate's weight before and
 * after.
 */
export function RolloutTimeline(props: {
  environment: string;
  events: RolloutEvent[];
}) {
  return (
    <Box overflow="auto">
      <CompactTable
        label={`Timeline of ${props.environment}`}
        columns={eventColumns}
        rows={props.events}
        rowKey={event => event.id}
      />
    </Box>
  );
}

const rolloutColumns: CompactColumn<Rollout>[] = [
  { title: 'Candidate', render: r => `version ${r.candidateVersion}` },
  {
    title: 'Stable',
    render: r =>
      r.stableVersion === undefined ? 'none' : `version ${r.stableVersion}`,
  },
  { title: 'Strategy', render: r => STRATEGY_LABELS[r.strategy] ?? r.strategy },
  { title: 'State', render: r => <StateChip state={r.state} /> },
  {
    title: 'Started',
    render: r => (
      <>
        <Time value={r.startedAt} /> by <Actor actor={r.startedBy} />
      </>
    ),
  },
  {
    title: 'Finished',
    render: r => (r.finishedAt ? <Time value={r.finishedAt} /> : null),
  },
  { title: 'Reason', render: r => r.reason },
];

/** The deployment's rollouts, newest first. */
export function RolloutsTable(props: {
  environment: string;
  rollouts: Rollout[];
}) {
  return (
    <Box overflow="auto">
      <CompactTable
        label={`Rollouts in ${props.environment}`}
        columns={rolloutColumns}
        rows={props.rollouts}
        rowKey={r => r.id}
      />
    </Box>
  );
}
