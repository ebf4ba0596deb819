import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Checkbox from '@material-ui/core/Checkbox';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { Run, RunStatus } from '@loopline/mlops-common';
import { Time } from '../fields';
import { formatDuration, formatNumber } from '../shared';

export function RunStatusLabel(props: { status: RunStatus }) {
  switch (props.status) {
    case 'FINISHED':
      return <StatusOK>Finished</StatusOK>;
    case 'RUNNING':
      return <StatusRunning>Running</StatusRunning>;
    case 'SCHEDULED':
      return <StatusPending>Scheduled</StatusPending>;
    case 'FAILED':
      return <StatusError>Failed</StatusError>;
    default:
      return <StatusAborted>Killed</StatusAborted>;
  }
}

function duration(run: Run): string {
  if (run.endTime !== undefined) {
    return formatDuration(run.endTime - run.startTime);
  }
  return run.status === 'RUNNING' ? 'running' : '';
}

/** A run's latest value of each metric, by key. */
export function latestMetrics(run: Run): Record<string, number> {
  return Object.fromEntries(run.metrics.map(point => [point.key, point.value]));
}

const fixedHeaders = ['Run', 'Status', 'Started', 'Duration', 'User'];

const useStyles = makeStyles({
  // Many param and metric columns scroll sideways rather than squeeze the
  // cells into one character per line.
  table: {
    '& th, & td': { whiteSpace: 'nowrap' },
  },
  param: {
    maxWidth: '16em',
    overflow: 'hidden',
    textOverflow: 'ellipsis',
  },
});

/**
 * The runs with their params and latest metrics as columns (the union of
 * the runs' keys), each row selectable for comparison.
 */
export function RunsTable(props: {
  label: string;
  runs: Run[];
  paramKeys: string[];
  metricKeys: string[];
  selected: ReadonlyArray<string>;
  onSelect: (runIds: string[]) => void;
}) {
  const { label, runs, paramKeys, metricKeys, selected, onSelect } = props;
  const classes = useStyles();
  const allSelected = runs.length > 0 && selected.length === runs.length;
  const toggle = (runId: string) =>
    onSelect(
      selected.includes(runId)
        ? selected.filter(id => id !== runId)
        : [...selected, runId],
    );
  const grouped = paramKeys.length > 0 || metricKeys.length > 0;
  const rowSpan = grouped ? 2 : 1;
  return (
    <Box overflow="auto">
      <Table size="small" aria-label={label} className={classes.table}>
        <TableHead>
          <TableRow>
            <TableCell padding="checkbox" rowSpan={rowSpan}>
              <Checkbox
                checked={allSelected}
                indeterminate={selected.length > 0 && !allSelected}
                onChange={() =>
                  onSelect(allSelected ? [] : runs.map(run => run.runId))
                }
                inputProps={{ 'aria-label': 'Select all runs' }}
              />
            </TableCell>
            {fixedHeaders.map(header => (
              <TableCell key={header} rowSpan={rowSpan}>
                {header}
              </TableCell>
            ))}
            {paramKeys.length > 0 && (
              <TableCell colSpan={paramKeys.length} align="center">
                Parameters
              </TableCell>
            )}
            {metricKeys.length > 0 && (
              <TableCell colSpan={metricKeys.length} align="center">
                Metrics
              </TableCell>
            )}
          </TableRow>
          {grouped && (
            <TableRow>
              {paramKeys.map(key => (
                <TableCell key={`param:${key}`}>
                  <code>{key}</code>
                </TableCell>
              ))}
              {metricKeys.map(key => (
                <TableCell key={`metric:${key}`} align="right">
                  <code>{key}</code>
                </TableCell>
              ))}
            </TableRow>
          )}
        </TableHead>
        <TableBody>
          {runs.map(run => {
            const isSelected = selected.includes(run.runId);
            const metrics = latestMetrics(run);
            return (
              <TableRow
                key={run.runId}
                hover
                selected={isSelected}
                aria-selected={isSelected}
              >
                <TableCell padding="checkbox">
                  <Checkbox
                    checked={isSelected}
                    onChange={() => toggle(run.runId)}
                    inputProps={{ 'aria-label': `Select run ${run.runName}` }}
                  />
                </TableCell>
                <TableCell>
                  {run.runName}
                  <Typography
                    variant="caption"
                    color="textSecondary"
                    component="div"
                  >
                    {run.runId.slice(0, 8)}
                  </Typography>
                </TableCell>
                <TableCell>
                  <RunStatusLabel status={run.status} />
                </TableCell>
                <TableCell>
                  <Time value={run.startTime} />
                </TableCell>
                <TableCell>{duration(run)}</TableCell>
                <TableCell>{run.userId}</TableCell>
                {paramKeys.map(key => (
                  <TableCell
                    key={`param:${key}`}
                    className={classes.param}
                    title={run.params[key]}
                  >
                    {run.params[key]}
                  </TableCell>
                ))}
                {metricKeys.map(key => (
                  <TableCell key={`metric:${key}`} align="right">
                    {key in metrics ? formatNumber(metrics[key]) : ''}
                  </TableCell>
                ))}
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </Box>
  );
}
