import { useMemo, useState } from 'react';
import { useLocation } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import type { Run } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import {
  MlflowHint,
  modelCardMetrics,
  orderMetricKeys,
} from '../shared';
import { SERIES_COLORS } from './MetricChart';
import { MetricComparison } from './MetricComparison';
import { RunsTable } from './RunsTable';

/** Props of {@link EntityModelExperimentsContent}. */
export interface EntityModelExperimentsContentProps {
  /** Defaults to "Runs". */
  title?: string;
}

/**
 * The Model's runs (its experiments' runs and its versions' source runs)
 * with their params and metrics, and a chart comparing a metric's history
 * across the selected runs. `?run=<id>` preselects a run.
 */
export function EntityModelExperimentsContent(
  props: EntityModelExperimentsContentProps,
) {
  const { title = 'Runs' } = props;
  const { entity } = useEntity();
  const mlopsApi = useApi(mlopsApiRef);
  const location = useLocation();
  const preferredMetrics = modelCardMetrics(entity);
  const entityRef = stringifyEntityRef(entity);

  const runs = useAsync(async (): Promise<Run[]> => {
    const models = await mlopsApi.getRegisteredModels({ entityRef });
    const lists = await Promise.all(
      models.map(model => mlopsApi.getModelRuns(model.name)),
    );
    // A run may belong to two registered models of the entity: list it once.
    const byId = new Map<string, Run>();
    for (const run of lists.flat()) {
      byId.set(run.runId, run);
    }
    return [...byId.values()].sort((a, b) => b.startTime - a.startTime);
  }, [mlopsApi, entityRef]);

  const [selected, setSelected] = useState<string[]>(() => {
    const run = new URLSearchParams(location.search).get('run');
    return run ? [run] : [];
  });

  const { paramKeys, metricKeys, colors } = useMemo(() => {
    const list = runs.value ?? [];
    return {
      paramKeys: [
        ...new Set(list.flatMap(run => Object.keys(run.params))),
      ].sort(),
      metricKeys: orderMetricKeys(
        list.flatMap(run => run.metrics.map(point => point.key)),
        preferredMetrics,
      ),
      // Stable colours: by the run's place in the list, not in the selection.
      colors: Object.fromEntries(
        list.map((run, index) => [
          run.runId,
          SERIES_COLORS[index % SERIES_COLORS.length],
        ]),
      ),
    };
  }, [runs.value, preferredMetrics]);

  if (runs.error) {
    return (
      <ResponseErrorPanel title="Could not load the runs" error={runs.error} />
    );
  }
  if (runs.loading || !runs.value) {
    return <Progress />;
  }
  if (runs.value.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="No runs yet"
        description={`Runs logged to ${entity.metadata.name}'s experiments, and the runs its versions come from, show up here.`}
        action={<MlflowHint modelName={entity.metadata.name} />}
      />
    );
  }

  const selectedRuns = runs.value.filter(run => selected.includes(run.runId));
  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <InfoCard
          title={title}
          subheader="Select two or more runs to compare their metrics"
        >
          <RunsTable
            label={`Runs of ${entity.metadata.name}`}
            runs={runs.value}
            paramKeys={paramKeys}
            metricKeys={metricKeys}
            selected={selected}
            onSelect={setSelected}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <InfoCard title="Compare runs">
          {selectedRuns.length < 2 ? (
            <Typography variant="body2" color="textSecondary">
              Select two or more runs to compare their metric histories.
            </Typography>
          ) : (
            <MetricComparison
              runs={selectedRuns}
              colors={colors}
              preferredMetrics={preferredMetrics}
            />
          )}
        </InfoCard>
      </Grid>
    </Grid>
  );
}
