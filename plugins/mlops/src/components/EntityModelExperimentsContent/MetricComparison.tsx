import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import type { MetricHistory, Run } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { CompactColumn, CompactTable } from '../fields';
import { formatNumber, orderMetricKeys } from '../shared';
import { ChartSeries, MetricChart } from './MetricChart';

interface Summary {
  id: string;
  label: string;
  color: string;
  points: number;
  last?: number;
  min?: number;
  max?: number;
}

const value = (number?: number) =>
  number === undefined ? '' : formatNumber(number);

const summaryColumns: CompactColumn<Summary>[] = [
  {
    title: 'Run',
    render: row => (
      <span style={{ borderLeft: `4px solid ${row.color}`, paddingLeft: 6 }}>
        {row.label}
      </span>
    ),
  },
  { title: 'Points', render: row => row.points },
  { title: 'Last', render: row => value(row.last) },
  { title: 'Min', render: row => value(row.min) },
  { title: 'Max', render: row => value(row.max) },
];

function summarise(line: ChartSeries): Summary {
  const finite = line.points.map(p => p.y).filter(Number.isFinite);
  let min: number | undefined;
  let max: number | undefined;
  for (const y of finite) {
    min = min === undefined ? y : Math.min(min, y);
    max = max === undefined ? y : Math.max(max, y);
  }
  return {
    id: line.id,
    label: line.label,
    color: line.color,
    points: line.points.length,
    last: line.points[line.points.length - 1]?.y,
    min,
    max,
  };
}

/**
 * The histories of one metric of the selected runs, as lines by step. Only
 * the runs that logged the metric are asked for it.
 */
export function MetricComparison(props: {
  runs: Run[];
  /** The colour of each run, by run id. */
  colors: Record<string, string>;
  preferredMetrics: ReadonlyArray<string>;
}) {
  const { runs, colors, preferredMetrics } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const keys = orderMetricKeys(
    runs.flatMap(run => run.metrics.map(point => point.key)),
    preferredMetrics,
  );
  const [chosen, setChosen] = useState<string>();
  const key = chosen && keys.includes(chosen) ? chosen : keys[0];
  const logged = runs.filter(run =>
    run.metrics.some(point => point.key === key),
  );
  const missing = runs.filter(run => !logged.includes(run));
  const loggedIds = logged.map(run => run.runId).join(',');

  const histories = useAsync(async (): Promise<MetricHistory[]> => {
    if (!key) {
      return [];
    }
    return Promise.all(
      logged.map(run => mlopsApi.getMetricHistory(run.runId, key)),
    );
    // `loggedIds` stands for `logged`, a new array on each render.
  }, [mlopsApi, key, loggedIds]);

  if (!key) {
    return (
      <Typography variant="body2" color="textSecondary">
        The selected runs logged no metrics.
      </Typography>
    );
  }

  let chart;
  if (histories.error) {
    chart = (
      <ResponseErrorPanel
        title={`Could not load the history of ${key}`}
        error={histories.error}
      />
    );
  } else if (histories.loading || !histories.value) {
    chart = <Progress />;
  } else {
    const byRun = new Map(histories.value.map(h => [h.runId, h]));
    const series: ChartSeries[] = logged.map(run => ({
      id: run.runId,
      label: run.runName,
      color: colors[run.runId],
      points: (byRun.get(run.runId)?.points ?? []).map(point => ({
        x: point.step,
        y: point.value,
      })),
    }));
    chart = (
      <>
        <MetricChart
          title={`${key} by step`}
          xLabel="step"
          yLabel={key}
          series={series}
        />
        <CompactTable
          label={`${key} summary`}
          columns={summaryColumns}
          rows={series.map(summarise)}
          rowKey={row => row.id}
        />
      </>
    );
  }

  return (
    <>
      <TextField
        id="compare-metric"
        select
        label="Metric"
        value={key}
        onChange={event => setChosen(event.target.value)}
        SelectProps={{ native: true }}
        margin="dense"
        style={{ minWidth: 200 }}
      >
        {keys.map(option => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </TextField>
      {missing.length > 0 && (
        <Typography variant="body2" color="textSecondary">
          Not logged by {missing.map(run => run.runName).join(', ')}.
        </Typography>
      )}
      {chart}
    </>
  );
}
