import { ReactNode, useId } from 'react';
import { TrendLine } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import type {
  ModelVersion,
  ServiceLevelObjectives,
  ServingStats,
} from '@loopline/mlops-common';
import { CompactTable } from '../fields';
import {
  errorMessage,
  formatDuration,
  formatNumber,
  StageChip,
} from '../shared';
import type { PolledStats } from './usePolledStats';

const percent = new Intl.NumberFormat('en-US', {
  style: 'percent',
  maximumFractionDigits: 2,
});

/** A latency, or a dash when there were no requests to measure. */
export function formatLatency(milliseconds?: number): string {
  return milliseconds === undefined ? '–' : `${formatNumber(milliseconds)} ms`;
}

/** A rate as a percentage, e.g. `1.25%`. */
export function formatRate(rate: number): string {
  return percent.format(rate);
}

const useStyles = makeStyles(theme => ({
  value: { fontWeight: theme.typography.fontWeightMedium as number },
  breached: { color: theme.palette.error.main },
  label: { lineHeight: 1.5 },
}));

/** One live figure, labelled, with the objective it is held to if any. */
function Figure(props: {
  label: string;
  value: string;
  /** The objective, e.g. `≤ 50 ms`, and whether the value misses it. */
  objective?: { text: string; missed: boolean };
  children?: ReactNode;
}) {
  const { label, value, objective, children } = props;
  const classes = useStyles();
  const id = useId();
  return (
    <Box>
      <Typography
        variant="overline"
        color="textSecondary"
        component="div"
        id={id}
        className={classes.label}
      >
        {label}
      </Typography>
      <Typography
        variant="h5"
        component="p"
        aria-labelledby={id}
        data-missed={objective?.missed || undefined}
        className={`${classes.value} ${
          objective?.missed ? classes.breached : ''
        }`}
      >
        {value}
      </Typography>
      {objective && (
        <Typography
          variant="caption"
          color={objective.missed ? 'error' : 'textSecondary'}
        >
          {objective.missed
            ? `Over the SLO (${objective.text})`
            : `SLO ${objective.text}`}
        </Typography>
      )}
      {children}
    </Box>
  );
}

function latencyObjective(value: number | undefined, limit?: number) {
  if (limit === undefined) {
    return undefined;
  }
  return {
    text: `≤ ${formatNumber(limit)} ms`,
    missed: value !== undefined && value > limit,
  };
}

/** Per-version figures, when traffic is split between versions. */
function ByVersionTable(props: {
  stats: ServingStats;
  versions?: ReadonlyArray<ModelVersion>;
}) {
  const { stats, versions = [] } = props;
  const stageOf = (version: number) =>
    versions.find(v => v.version === version)?.stage;
  return (
    <CompactTable
      label="Traffic by version"
      rowKey={row => String(row.version)}
      rows={[...stats.byVersion].sort((a, b) => b.version - a.version)}
      columns={[
        {
          title: 'Version',
          render: row => {
            const stage = stageOf(row.version);
            return (
              <>
                {row.version} {stage && <StageChip stage={stage} />}
              </>
            );
          },
        },
        { title: 'Requests', render: row => formatNumber(row.requests) },
        {
          title: 'Error rate',
          render: row =>
            row.requests ? formatRate(row.errors / row.requests) : '–',
        },
        { title: 'p50', render: row => formatLatency(row.latencyMs.p50) },
        { title: 'p95', render: row => formatLatency(row.latencyMs.p95) },
        { title: 'p99', render: row => formatLatency(row.latencyMs.p99) },
      ]}
    />
  );
}

/**
 * A served model's live figures: request rate (with its recent trend),
 * error rate and latency percentiles over the window, each against the
 * Model's objectives (`spec.monitoring.slos`) when it has them.
 */
export function ServingStatsView(props: {
  polled: PolledStats;
  windowSeconds: number;
  intervalMs: number;
  objectives?: ServiceLevelObjectives;
  versions?: ReadonlyArray<ModelVersion>;
}) {
  const {
    polled,
    windowSeconds,
    intervalMs,
    objectives = {},
    versions,
  } = props;
  const theme = useTheme();
  const { stats, error, updatedAt, history } = polled;
  const window = formatDuration(windowSeconds * 1000);

  const failure = error && (
    <Alert severity="warning">
      Could not refresh the figures: {errorMessage(error)}
    </Alert>
  );
  if (!stats) {
    return (
      failure ?? (
        <Typography variant="body2" color="textSecondary">
          Reading the figures…
        </Typography>
      )
    );
  }

  const rates = history.map(sample => sample.requestsPerSecond);
  const errorObjective =
    objectives.maxErrorRate === undefined
      ? undefined
      : {
          text: `≤ ${formatRate(objectives.maxErrorRate)}`,
          missed:
            stats.requests > 0 && stats.errorRate > objectives.maxErrorRate,
        };
  return (
    <>
      {failure}
      <Typography variant="body2" color="textSecondary" paragraph>
        {stats.requests === 0
          ? `No requests in the last ${window}.`
          : `${formatNumber(stats.requests)} requests, ${formatNumber(
              stats.errors,
            )} failed, in the last ${window}.`}{' '}
        {updatedAt &&
          `Updated at ${new Date(
            updatedAt,
          ).toLocaleTimeString()}, every ${formatDuration(intervalMs)}.`}
      </Typography>
      <Grid container spacing={2}>
        <Grid item xs={6} sm={4} md={3}>
          <Figure
            label="Requests per second"
            value={formatNumber(stats.requestsPerSecond)}
          >
            {rates.length > 1 && (
              <TrendLine
                data={rates}
                min={0}
                max={Math.max(...rates) || 1}
                color={theme.palette.primary.main}
                title="Requests per second, recent polls"
              />
            )}
          </Figure>
        </Grid>
        <Grid item xs={6} sm={4} md={3}>
          <Figure
            label="Error rate"
            value={stats.requests ? formatRate(stats.errorRate) : '–'}
            objective={errorObjective}
          />
        </Grid>
        <Grid item xs={4} sm={4} md={2}>
          <Figure
            label="Latency p50"
            value={formatLatency(stats.latencyMs.p50)}
          />
        </Grid>
        <Grid item xs={4} sm={6} md={2}>
          <Figure
            label="Latency p95"
            value={formatLatency(stats.latencyMs.p95)}
            objective={latencyObjective(
              stats.latencyMs.p95,
              objectives.latencyP95Ms,
            )}
          />
        </Grid>
        <Grid item xs={4} sm={6} md={2}>
          <Figure
            label="Latency p99"
            value={formatLatency(stats.latencyMs.p99)}
            objective={latencyObjective(
              stats.latencyMs.p99,
              objectives.latencyP99Ms,
            )}
          />
        </Grid>
      </Grid>
      {stats.byVersion.length > 1 && (
        <Box mt={2}>
          <ByVersionTable stats={stats} versions={versions} />
        </Box>
      )}
    </>
  );
}
