import useAsync from 'react-use/esm/useAsync';
import {
  InfoCard,
  Progress,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  catalogApiRef,
  EntityRefLink,
  useEntity,
} from '@backstage/plugin-catalog-react';
import Alert from '@material-ui/lab/Alert';
import Typography from '@material-ui/core/Typography';
import {
  DATASET_KIND,
  MODEL_KIND,
  ModelEntityV1alpha1,
  ModelMonitoringSummary,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { DriftStatusChip, errorMessage } from '../shared';

/** Props of {@link EntityDatasetMonitorsCard}. */
export interface EntityDatasetMonitorsCardProps {
  /** Defaults to "Monitored by". */
  title?: string;
}

interface Row {
  model: Entity;
  how: string;
  method?: string;
  schedule?: string;
  summary?: ModelMonitoringSummary;
}

/** The Dataset a Model's drift is measured against, as the backend picks it. */
function driftReferenceOf(model: ModelEntityV1alpha1): string | undefined {
  const ref =
    model.spec.monitoring?.drift?.reference ?? model.spec.trainedOn?.[0];
  if (!ref) return undefined;
  try {
    return stringifyEntityRef(
      parseEntityRef(ref, {
        defaultKind: DATASET_KIND,
        defaultNamespace: model.metadata.namespace ?? 'default',
      }),
    ).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

const columns: TableColumn<Row>[] = [
  {
    title: 'Model',
    render: row => <EntityRefLink entityRef={row.model} />,
  },
  { title: 'As', field: 'how' },
  { title: 'Method', render: row => row.method ?? 'automatic' },
  { title: 'Schedule', render: row => row.schedule ?? 'on demand' },
  {
    title: 'Drift',
    render: row => (
      <DriftStatusChip status={row.summary?.drift?.status ?? 'not_checked'} />
    ),
  },
];

/**
 * The Models whose drift checks compare with this Dataset (it is their
 * `spec.monitoring.drift.reference`, or the first Dataset they were trained
 * on), with their method, schedule and latest drift status.
 */
export function EntityDatasetMonitorsCard(
  props: EntityDatasetMonitorsCardProps,
) {
  const { entity } = useEntity();
  const catalogApi = useApi(catalogApiRef);
  const mlopsApi = useApi(mlopsApiRef);
  const self = stringifyEntityRef(entity).toLocaleLowerCase('en-US');
  const { value, loading, error } = useAsync(async (): Promise<Row[]> => {
    const { items } = await catalogApi.getEntities({
      filter: { kind: MODEL_KIND },
      fields: [
        'kind',
        'metadata.name',
        'metadata.namespace',
        'metadata.title',
        'spec',
      ],
    });
    const monitoring = (items as ModelEntityV1alpha1[]).filter(
      m => m.spec?.monitoring && driftReferenceOf(m) === self,
    );
    const summaries = await mlopsApi
      .getModelSummaries(monitoring.map(m => m.metadata.name))
      .catch(() => ({ items: [] as ModelMonitoringSummary[] }));
    return monitoring.map(model => ({
      model,
      how: model.spec.monitoring?.drift?.reference
        ? 'drift reference'
        : 'training data',
      method: model.spec.monitoring?.drift?.method,
      schedule: model.spec.monitoring?.drift?.schedule,
      summary: summaries.items.find(s => s.model === model.metadata.name),
    }));
  }, [catalogApi, mlopsApi, self]);

  const title = props.title ?? 'Monitored by';
  if (loading) return <Progress />;
  if (error) {
    return (
      <InfoCard title={title}>
        <Alert severity="error">
          Could not find the Models monitoring this Dataset:{' '}
          {errorMessage(error)}
        </Alert>
      </InfoCard>
    );
  }
  if (!value?.length) {
    return (
      <InfoCard title={title}>
        <Typography variant="body2" color="textSecondary">
          No Model measures drift against this Dataset.
        </Typography>
      </InfoCard>
    );
  }
  return (
    <Table<Row>
      title={title}
      options={{ paging: false, search: false, padding: 'dense' }}
      columns={columns}
      data={value}
    />
  );
}
