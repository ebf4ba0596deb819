import { useState } from 'react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  DriftFeatureResult,
  DriftHistoryResponse,
  isDriftByRules,
  modelMonitorPermission,
  ModelEntityV1alpha1,
  QualityResponse,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { Time } from '../fields';
import { errorMessage, usePolling } from '../shared';
import { DistributionChart, TimeSeriesChart } from './DriftCharts';

/** Props of {@link EntityModelDriftContent}. */
export interface EntityModelDriftContentProps {
  /** How often the reports refresh, in milliseconds; defaults to 30000. */
  pollIntervalMs?: number;
}

const WINDOWS = [
  { minutes: 15, label: 'last 15 minutes' },
  { minutes: 60, label: 'last hour' },
  { minutes: 240, label: 'last 4 hours' },
  { minutes: 1440, label: 'last day' },
];

function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential(2);
  return value.toFixed(4);
}

const columns: TableColumn<DriftFeatureResult>[] = [
  { title: 'Feature', field: 'name' },
  { title: 'Method', render: f => f.method ?? '—' },
  { title: 'Statistic', render: f => formatValue(f.statistic) },
  { title: 'p-value', render: f => formatValue(f.pValue) },
  {
    title: 'Threshold',
    render: f =>
      `${f.direction === 'p_value' ? 'p <' : '≥'} ${formatValue(f.threshold)}`,
  },
  {
    title: 'Drifted',
    render: f => (
      <Chip
        size="small"
        label={f.drifted ? 'drifted' : 'no drift'}
        color={f.drifted ? 'secondary' : 'default'}
      />
    ),
  },
  {
    title: 'Status',
    render: f => <span title={f.message}>{f.status.replace(/_/g, ' ')}</span>,
  },
];

/**
 * A Model's drift monitoring: whether the latest window drifted and how
 * much, when checks ran and run next, each feature's test, its score over
 * time against the threshold, the reference and current distributions, and
 * quality against ground truth with its SLO and ADWIN's change points.
 * Users allowed `loopline.model.monitor` can run a check now.
 */
export function EntityModelDriftContent(props: EntityModelDriftContentProps) {
  const { pollIntervalMs = 30_000 } = props;
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const modelName = entity.metadata.name;
  const mlopsApi = useApi(mlopsApiRef);
  const alertApi = useApi(alertApiRef);
  const monitor = usePermission({
    permission: modelMonitorPermission,
    resourceRef: entityRef,
  });
  const [version, setVersion] = useState('');
  const [windowMinutes, setWindowMinutes] = useState(60);
  const [feature, setFeature] = useState('');
  const [running, setRunning] = useState(false);
  const polled = usePolling<{
    drift: DriftHistoryResponse;
    quality: QualityResponse;
  }>(
    `${modelName}\u0000${version}`,
    async () => {
      const options = version ? { version } : {};
      const [drift, quality] = await Promise.all([
        mlopsApi.getDriftHistory(modelName, options),
        mlopsApi.getModelQuality(modelName, options),
      ]);
      return { drift, quality };
    },
    pollIntervalMs,
  );

  const runNow = async () => {
    setRunning(true);
    try {
      const { reports } = await mlopsApi.runDriftCheck(modelName, {
        windowMinutes,
        ...(version ? { version } : {}),
      });
      const drifted = reports.filter(r => r.datasetDrift).length;
      alertApi.post({
        message: `Drift check done: ${reports.length} report${
          reports.length === 1 ? '' : 's'
        }, ${drifted} with dataset drift`,
        severity: drifted ? 'warning' : 'success',
        display: 'transient',
      });
      polled.refresh();
    } catch (error) {
      alertApi.post({
        message: `Could not run the drift check: ${errorMessage(
          error as Error,
        )}`,
        severity: 'error',
      });
    } finally {
      setRunning(false);
    }
  };

  if (!polled.value) {
    return polled.error ? (
      <ResponseErrorPanel
        title={`Could not load the drift reports of ${modelName}`}
        error={polled.error}
      />
    ) : (
      <Progress />
    );
  }
  const { drift, quality } = polled.value;
  const latest = drift.latest;
  const monitoringSpec = (entity as Partial<ModelEntityV1alpha1>).spec
    ?.monitoring;
  const versions = [...new Set(drift.history.map(h => h.version))];
  const runButton = monitor.allowed ? (
    <Button
      variant="contained"
      color="primary"
      disabled={running}
      onClick={runNow}
    >
      {running ? 'Running…' : 'Run now'}
    </Button>
  ) : null;
  const controls = (
    <Grid container spacing={2} alignItems="center">
      <Grid item>
        <TextField
          select
          label="Version"
          value={version}
          onChange={e => setVersion(e.target.value)}
          style={{ minWidth: 140 }}
        >
          <MenuItem value="">All versions</MenuItem>
          {versions.map(v => (
            <MenuItem key={v} value={v}>
              {v === 'all' ? 'no version' : `v${v}`}
            </MenuItem>
          ))}
        </TextField>
      </Grid>
      <Grid item>
        <TextField
          select
          label="Window"
          value={windowMinutes}
          onChange={e => setWindowMinutes(Number(e.target.value))}
          style={{ minWidth: 160 }}
        >
          {WINDOWS.map(w => (
            <MenuItem key={w.minutes} value={w.minutes}>
              {w.label}
            </MenuItem>
          ))}
        </TextField>
      </Grid>
      <Grid item>{runButton}</Grid>
    </Grid>
  );

  if (!latest) {
    return (
      <Grid container spacing={3}>
        <Grid item xs={12}>
          {controls}
        </Grid>
        <Grid item xs={12}>
          <EmptyState
            missing="data"
            title="No drift report yet"
            description={
              drift.schedule
                ? `Checks run on the schedule ${drift.schedule}${
                    drift.nextRunAt ? `; the next at ${drift.nextRunAt}` : ''
                  }.`
                : 'Set spec.monitoring.drift.schedule on the Model to check on a schedule, or run a check now.'
            }
          />
        </Grid>
      </Grid>
    );
  }

  const selected =
    latest.features.find(f => f.name === feature) ??
    latest.features.find(f => f.drifted) ??
    latest.features[0];
  const distribution = latest.distributions?.find(
    d => d.name === selected?.name,
  );
  const scorePoints = [...drift.history]
    .reverse()
    .map(h => ({
      t: Date.parse(h.createdAt),
      value: h.scores[selected?.name ?? ''] ?? NaN,
    }))
    .filter(p => Number.isFinite(p.value));
  const sloMetric = quality.slo?.metric ?? 'rmse';
  const qualityMetric =
    quality.points.some(p => p.metrics[sloMetric] !== undefined) ||
    !quality.points.length
      ? sloMetric
      : (['accuracy', 'f1', 'rocAuc', 'rmse', 'mae', 'r2'] as const).find(m =>
          quality.points.some(p => p.metrics[m] !== undefined),
        ) ?? sloMetric;
  const sloLimit = quality.slo?.min ?? quality.slo?.max;

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        {controls}
        {polled.error && (
          <Alert severity="warning">
            Could not refresh the reports: {errorMessage(polled.error)}
          </Alert>
        )}
      </Grid>
      <Grid item xs={12}>
        <InfoCard title="Status">
          <Grid container spacing={3}>
            <Grid item>
              <Typography variant="overline">Drift</Typography>
              <Typography variant="h5" data-testid="drift-status">
                {latest.status === 'insufficient_data'
                  ? 'insufficient data'
                  : isDriftByRules(latest, monitoringSpec)
                  ? 'Drift detected'
                  : 'No drift'}
              </Typography>
            </Grid>
            <Grid item>
              <Typography variant="overline">Drifted features</Typography>
              <Typography variant="h5">
                {latest.numberOfDriftedColumns} of {latest.numberOfColumns} (
                {(latest.shareOfDriftedColumns * 100).toFixed(0)}%, drift at{' '}
                {(
                  (monitoringSpec?.alerts?.minDriftShare ?? latest.driftShare) *
                  100
                ).toFixed(0)}
                %)
              </Typography>
            </Grid>
            <Grid item>
              <Typography variant="overline">Version</Typography>
              <Typography variant="h5">
                {latest.version === 'all' ? '—' : `v${latest.version}`}
              </Typography>
            </Grid>
            <Grid item>
              <Typography variant="overline">Last run</Typography>
              <Typography variant="body1">
                <Time value={Date.parse(latest.createdAt)} /> ({latest.trigger},{' '}
                {latest.rowCount} rows
                {latest.sampled ? ', sampled' : ''})
              </Typography>
            </Grid>
            <Grid item>
              <Typography variant="overline">Next run</Typography>
              <Typography variant="body1">
                {drift.nextRunAt ? (
                  <Time value={Date.parse(drift.nextRunAt)} />
                ) : (
                  'not scheduled'
                )}
              </Typography>
            </Grid>
          </Grid>
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <Table<DriftFeatureResult>
          title="Features"
          options={{ paging: false, search: false, padding: 'dense' }}
          columns={columns}
          data={latest.features}
          onRowClick={(_, row) => row && setFeature(row.name)}
        />
      </Grid>
      {selected && (
        <Grid item xs={12} md={6}>
          <InfoCard title={`${selected.name}: score over time`}>
            {scorePoints.length ? (
              <TimeSeriesChart
                title={`${selected.name} ${
                  selected.direction === 'p_value' ? 'p-value' : 'distance'
                }`}
                points={scorePoints}
                limit={{
                  value: selected.threshold,
                  label: `threshold ${selected.threshold}`,
                }}
              />
            ) : (
              <Typography>No score yet.</Typography>
            )}
          </InfoCard>
        </Grid>
      )}
      {distribution && (
        <Grid item xs={12} md={6}>
          <InfoCard title={`${distribution.name}: reference vs current`}>
            <DistributionChart
              title={`${distribution.name} distribution`}
              bins={distribution.bins}
              reference={distribution.reference}
              current={distribution.current}
            />
          </InfoCard>
        </Grid>
      )}
      <Grid item xs={12}>
        <InfoCard title="Quality against ground truth">
          {quality.points.length ? (
            <TimeSeriesChart
              title={qualityMetric}
              points={quality.points
                .map(p => ({
                  t: Date.parse(p.createdAt),
                  value: p.metrics[qualityMetric] ?? NaN,
                }))
                .filter(p => Number.isFinite(p.value))}
              limit={
                sloLimit !== undefined && quality.slo?.metric === qualityMetric
                  ? { value: sloLimit, label: `SLO ${sloLimit}` }
                  : undefined
              }
              markers={quality.changePoints.map(c => ({
                t: Date.parse(c.at),
                label: `ADWIN change (v${
                  c.version
                }, mean error ${c.estimation.toFixed(3)})`,
              }))}
            />
          ) : (
            <Typography>
              No ground truth has arrived for the windows checked yet.
            </Typography>
          )}
        </InfoCard>
      </Grid>
    </Grid>
  );
}
