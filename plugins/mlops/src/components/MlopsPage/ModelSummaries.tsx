import { createContext, ReactNode, useContext, useMemo } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { useApi } from '@backstage/core-plugin-api';
import { CatalogTableRow } from '@backstage/plugin-catalog';
import { useEntityList } from '@backstage/plugin-catalog-react';
import type { TableColumn } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import type { ModelMonitoringSummary } from '@loopline/mlops-common';
import { MODEL_KIND } from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { DriftStatusChip, formatNumber } from '../shared';

interface Summaries {
  loading: boolean;
  error?: Error;
  byName: Map<string, ModelMonitoringSummary>;
}

const SummariesContext = createContext<Summaries>({
  loading: false,
  byName: new Map(),
});

/**
 * Fetches the overview's figures of the Models the list shows (one request
 * for all of them) for the columns below.
 */
export function ModelSummariesProvider(props: { children: ReactNode }) {
  const api = useApi(mlopsApiRef);
  const { entities } = useEntityList();
  const names = useMemo(
    () =>
      entities
        .filter(e => e.kind.toLocaleLowerCase('en-US') === 'model')
        .map(e => e.metadata.name)
        .sort(),
    [entities],
  );
  const key = names.join('\u0000');
  const { value, loading, error } = useAsync(
    async () => api.getModelSummaries(names),
    // The names' content, not the array's identity.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [api, key],
  );
  const summaries = useMemo<Summaries>(
    () => ({
      loading,
      error,
      byName: new Map((value?.items ?? []).map(s => [s.model, s])),
    }),
    [value, loading, error],
  );
  return (
    <SummariesContext.Provider value={summaries}>
      {props.children}
    </SummariesContext.Provider>
  );
}

function useSummary(name: string) {
  const summaries = useContext(SummariesContext);
  return { ...summaries, summary: summaries.byName.get(name) };
}

function Pending(props: { loading: boolean; error?: Error }) {
  return (
    <Typography
      variant="body2"
      color="textSecondary"
      title={props.error ? `Could not load: ${props.error.message}` : undefined}
    >
      {props.loading ? '…' : '–'}
    </Typography>
  );
}

function ProductionCell(props: { name: string }) {
  const { summary, loading, error } = useSummary(props.name);
  if (summary?.productionVersion === undefined)
    return <Pending loading={loading} error={error} />;
  return <>v{summary.productionVersion}</>;
}

function RateCell(props: { name: string }) {
  const { summary, loading, error } = useSummary(props.name);
  if (!summary) return <Pending loading={loading} error={error} />;
  return <>{formatNumber(summary.requestRate)}/s</>;
}

function DriftCell(props: { name: string }) {
  const { summary, loading, error } = useSummary(props.name);
  if (!summary) return <Pending loading={loading} error={error} />;
  const drift = summary.drift;
  return (
    <DriftStatusChip
      status={drift?.status ?? 'not_checked'}
      title={
        drift
          ? `v${drift.version}: ${(drift.shareOfDriftedColumns * 100).toFixed(
              0,
            )}% of the features drifted (${new Date(
              drift.createdAt,
            ).toLocaleString()})`
          : 'No drift report yet'
      }
    />
  );
}

function QualityCell(props: { name: string }) {
  const { summary, loading, error } = useSummary(props.name);
  const quality = summary?.quality;
  if (!quality) return <Pending loading={loading} error={error} />;
  return (
    <Typography
      variant="body2"
      color={quality.withinSlo === false ? 'error' : 'textPrimary'}
      title={`v${quality.version}, ${new Date(
        quality.createdAt,
      ).toLocaleString()}${
        quality.withinSlo === false ? ': outside its SLO' : ''
      }`}
    >
      {quality.metric} {formatNumber(quality.value)}
    </Typography>
  );
}

/** The Models' own columns: Production version, request rate, drift badge, latest quality. */
export function modelSummaryColumns(): TableColumn<CatalogTableRow>[] {
  const name = (row: CatalogTableRow) => row.entity.metadata.name;
  const isModel = (row: CatalogTableRow) => row.entity.kind === MODEL_KIND;
  return [
    {
      title: 'Production',
      sorting: false,
      render: row =>
        isModel(row) ? <ProductionCell name={name(row)} /> : null,
    },
    {
      title: 'Requests',
      sorting: false,
      render: row => (isModel(row) ? <RateCell name={name(row)} /> : null),
    },
    {
      title: 'Drift',
      sorting: false,
      render: row => (isModel(row) ? <DriftCell name={name(row)} /> : null),
    },
    {
      title: 'Quality',
      sorting: false,
      render: row => (isModel(row) ? <QualityCell name={name(row)} /> : null),
    },
  ];
}
