import { useMemo, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  DependencyGraph,
  DependencyGraphTypes,
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink, useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Switch from '@material-ui/core/Switch';
import Typography from '@material-ui/core/Typography';
import type {
  LineageCatalogLink,
  LineageColumnNodeData,
  LineageDataset,
  LineageImpact,
  LineageJob,
  LineageNode,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import {
  edgesOf,
  filterByDirection,
  LineageDirection,
  nodeLabel,
  withSchemaChanges,
} from './lineageGraph';

/** Props of {@link EntityLineageContent}. */
export interface EntityLineageContentProps {
  /** Job hops shown at first; defaults to 5. */
  initialDepth?: number;
}

const DEPTHS = [1, 2, 3, 5, 10, 20];

/**
 * The Lineage tab of a Model, Dataset or Pipeline: the OpenLineage graph
 * around the entity (datasets → jobs → model versions), with depth,
 * direction and column-level controls, a side panel on the clicked node,
 * the impact panel, and a Dataset's versions.
 *
 * Drawn with `@backstage/core-components`' DependencyGraph (dagre layout,
 * zoom and pan built in, themed like the rest of the portal), so no graph
 * library is added.
 */
export function EntityLineageContent(props: EntityLineageContentProps) {
  const { entity } = useEntity();
  const api = useApi(mlopsApiRef);
  const entityRef = stringifyEntityRef(entity);
  const [depth, setDepth] = useState(props.initialDepth ?? 5);
  const [direction, setDirection] = useState<LineageDirection>('both');
  const [columns, setColumns] = useState(false);
  const [selectedId, setSelectedId] = useState<string | undefined>();

  const graph = useAsync(
    () => api.getLineageGraph({ entityRef, depth }),
    [api, entityRef, depth],
  );
  const impact = useAsync(
    () => api.getLineageImpact(entityRef),
    [api, entityRef],
  );

  const nodes = useMemo(
    () =>
      graph.value
        ? filterByDirection(graph.value.graph, graph.value.nodeId, direction)
        : [],
    [graph.value, direction],
  );
  const links = useMemo(
    () => new Map((graph.value?.links ?? []).map(l => [l.nodeId, l])),
    [graph.value],
  );
  const selected = nodes.find(n => n.id === selectedId);

  if (graph.loading) {
    return <Progress />;
  }
  if (graph.error) {
    return <ResponseErrorPanel error={graph.error} />;
  }
  const startId = graph.value?.nodeId ?? null;
  if (!startId || nodes.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="No lineage yet"
        description={
          startId
            ? `No OpenLineage event has named ${startId} yet.`
            : "Name this entity's OpenLineage dataset or job with the openlineage.io/dataset or openlineage.io/job annotation (a Dataset's spec.location also works), or register a version of the Model."
        }
      />
    );
  }

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <InfoCard title="Lineage" subheader={startId}>
          <Box display="flex" alignItems="center" mb={2} style={{ gap: 24 }}>
            <FormControl>
              <InputLabel id="lineage-depth">Depth</InputLabel>
              <Select
                labelId="lineage-depth"
                value={depth}
                onChange={e => setDepth(Number(e.target.value))}
              >
                {DEPTHS.map(d => (
                  <MenuItem key={d} value={d}>
                    {d}
                  </MenuItem>
                ))}
              </Select>
            </FormControl>
            <FormControl>
              <InputLabel id="lineage-direction">Direction</InputLabel>
              <Select
                labelId="lineage-direction"
                value={direction}
                onChange={e => setDirection(e.target.value as LineageDirection)}
              >
                <MenuItem value="both">Both</MenuItem>
                <MenuItem value="upstream">Upstream</MenuItem>
                <MenuItem value="downstream">Downstream</MenuItem>
              </Select>
            </FormControl>
            <FormControlLabel
              control={
                <Switch
                  checked={columns}
                  onChange={e => setColumns(e.target.checked)}
                  inputProps={{ 'aria-label': 'Column-level lineage' }}
                />
              }
              label="Columns"
            />
          </Box>
          <Grid container spacing={2}>
            <Grid item xs={12} md={selected ? 8 : 12}>
              <DependencyGraph
                nodes={nodes.map(node => ({ id: node.id, node }))}
                edges={edgesOf(nodes)}
                direction={DependencyGraphTypes.Direction.LEFT_RIGHT}
                zoom="enabled"
                renderNode={({ node }) => (
                  <LineageGraphNode
                    node={node.node}
                    link={links.get(node.id)}
                    start={node.id === startId}
                    selected={node.id === selectedId}
                    onClick={() => setSelectedId(node.id)}
                  />
                )}
              />
            </Grid>
            {selected && (
              <Grid item xs={12} md={4}>
                <NodePanel node={selected} link={links.get(selected.id)} />
              </Grid>
            )}
          </Grid>
        </InfoCard>
      </Grid>
      {columns && (
        <Grid item xs={12}>
          <ColumnLineage nodeId={startId} />
        </Grid>
      )}
      <Grid item xs={12}>
        <ImpactPanel
          loading={impact.loading}
          error={impact.error}
          impact={impact.value}
        />
      </Grid>
      {entity.kind === 'Dataset' && startId.startsWith('dataset:') && (
        <Grid item xs={12}>
          <DatasetVersions
            node={graph.value!.graph.find(n => n.id === startId)}
          />
        </Grid>
      )}
    </Grid>
  );
}

const NODE_WIDTH = 220;
const NODE_HEIGHT = 48;

function LineageGraphNode(props: {
  node: LineageNode;
  link: LineageCatalogLink | undefined;
  start: boolean;
  selected: boolean;
  onClick: () => void;
}) {
  const { node, link, start, selected, onClick } = props;
  const { name, namespace } = nodeLabel(node);
  const isJob = node.type === 'JOB';
  const inCatalog = !!link?.entityRef;
  return (
    <g
      data-testid="lineage-node"
      role="button"
      aria-label={node.id}
      onClick={onClick}
      style={{ cursor: 'pointer' }}
    >
      <rect
        width={NODE_WIDTH}
        height={NODE_HEIGHT}
        rx={isJob ? 4 : 16}
        fill={isJob ? '#e3f2fd' : '#f1f8e9'}
        stroke={selected ? '#d32f2f' : start ? '#1565c0' : '#90a4ae'}
        strokeWidth={selected || start ? 3 : 1}
        strokeDasharray={inCatalog ? undefined : '4 3'}
      />
      <text x={10} y={20} fontSize={13} fontWeight="bold">
        {truncate(name, 28)}
      </text>
      <text x={10} y={38} fontSize={11} fill="#546e7a">
        {truncate(
          `${isJob ? 'job' : 'dataset'} · ${namespace}${
            inCatalog ? '' : ' · not in the catalog'
          }`,
          36,
        )}
      </text>
    </g>
  );
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function CatalogLinkLine(props: { link: LineageCatalogLink | undefined }) {
  const { link } = props;
  if (!link?.entityRef) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not in the catalog · owner unknown
      </Typography>
    );
  }
  return (
    <Typography variant="body2">
      <EntityRefLink entityRef={link.entityRef} /> · owner{' '}
      {link.owner ? <EntityRefLink entityRef={link.owner} /> : 'unknown'}
    </Typography>
  );
}

function NodePanel(props: {
  node: LineageNode;
  link: LineageCatalogLink | undefined;
}) {
  const { node, link } = props;
  const { name, namespace } = nodeLabel(node);
  const facets = (node.data as LineageDataset | LineageJob).facets ?? {};
  return (
    <InfoCard title={name} subheader={`${node.type} in ${namespace}`}>
      <section aria-label="Selected node">
        <CatalogLinkLine link={link} />
        {node.type === 'JOB' && <JobDetails job={node.data as LineageJob} />}
        {node.type === 'DATASET' && <DatasetVersions node={node} compact />}
        <Typography variant="subtitle2" style={{ marginTop: 16 }}>
          Facets
        </Typography>
        {Object.keys(facets).length === 0 ? (
          <Typography variant="body2">None</Typography>
        ) : (
          Object.entries(facets).map(([key, value]) => (
            <details key={key}>
              <summary>{key}</summary>
              <pre style={{ fontSize: 11, whiteSpace: 'pre-wrap' }}>
                {JSON.stringify(value, null, 2)}
              </pre>
            </details>
          ))
        )}
      </section>
    </InfoCard>
  );
}

function JobDetails(props: { job: LineageJob }) {
  const run = props.job.latestRun;
  return (
    <Box mt={1}>
      <Typography variant="subtitle2">Last run</Typography>
      {run ? (
        <Typography variant="body2">
          {run.state} · {run.id}
          {run.endedAt ? ` · ended ${run.endedAt}` : ''}
        </Typography>
      ) : (
        <Typography variant="body2">No run yet</Typography>
      )}
    </Box>
  );
}

function DatasetVersions(props: {
  node: LineageNode | undefined;
  compact?: boolean;
}) {
  const api = useApi(mlopsApiRef);
  const data = props.node?.data as LineageDataset | undefined;
  const versions = useAsync(async () => {
    if (!data) return [];
    return withSchemaChanges(
      await api.getLineageDatasetVersions(data.namespace, data.name),
    );
  }, [api, data?.namespace, data?.name]);
  if (!data) return null;
  type Row = NonNullable<typeof versions.value>[number];
  const columns: TableColumn<Row>[] = [
    { title: 'Created', field: 'createdAt' },
    {
      title: 'Content hash',
      render: row => row.contentHash ?? '—',
    },
    { title: 'Rows', render: row => row.rowCount ?? '—' },
    {
      title: 'Schema',
      render: row =>
        row.changes.length > 0
          ? row.changes.join(', ')
          : `${row.fields.length} fields`,
    },
    {
      title: 'Produced by run',
      render: row =>
        row.createdByRun
          ? `${row.createdByRun.id} (${row.createdByRun.state})`
          : '—',
    },
  ];
  if (versions.error) {
    return <ResponseErrorPanel error={versions.error} />;
  }
  return (
    <Table<Row>
      title={props.compact ? 'Versions' : `Versions of ${data.name}`}
      isLoading={versions.loading}
      options={{
        search: false,
        paging: !props.compact,
        pageSize: 10,
        padding: 'dense',
      }}
      columns={props.compact ? columns.slice(0, 3) : columns}
      data={versions.value ?? []}
    />
  );
}

function ColumnLineage(props: { nodeId: string }) {
  const api = useApi(mlopsApiRef);
  const lineage = useAsync(
    () => api.getColumnLineage(props.nodeId),
    [api, props.nodeId],
  );
  if (lineage.error) {
    return <ResponseErrorPanel error={lineage.error} />;
  }
  type Row = LineageColumnNodeData & { id: string };
  const rows: Row[] = (lineage.value?.graph ?? [])
    .map(n => ({ ...(n.data as LineageColumnNodeData), id: n.id }))
    .filter(r => r.inputFields.length > 0);
  return (
    <Table<Row>
      title="Column-level lineage"
      isLoading={lineage.loading}
      options={{ search: false, paging: false, padding: 'dense' }}
      columns={[
        { title: 'Dataset', field: 'dataset' },
        { title: 'Field', field: 'field' },
        {
          title: 'From',
          render: row =>
            row.inputFields
              .map(
                f =>
                  `${f.dataset}.${f.field}${
                    f.transformationType ? ` (${f.transformationType})` : ''
                  }`,
              )
              .join(', '),
        },
      ]}
      data={rows}
      emptyContent={
        <Box p={2}>
          <Typography variant="body2">
            No columnLineage facet recorded for these datasets.
          </Typography>
        </Box>
      }
    />
  );
}

function ImpactPanel(props: {
  loading: boolean;
  error: Error | undefined;
  impact: LineageImpact | undefined;
}) {
  const { loading, error, impact } = props;
  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!impact) return null;
  if (impact.direction === 'downstream') {
    type Row = LineageImpact['models'][number] & { id: string };
    return (
      <Table<Row>
        title="Impact: models downstream"
        options={{ search: false, paging: false, padding: 'dense' }}
        columns={[
          {
            title: 'Model',
            render: row =>
              row.entityRef ? (
                <EntityRefLink entityRef={row.entityRef} />
              ) : (
                `${row.name} (not in the catalog)`
              ),
          },
          {
            title: 'Owner',
            render: row =>
              row.owner ? <EntityRefLink entityRef={row.owner} /> : 'unknown',
          },
          {
            title: 'Versions',
            render: row =>
              row.versions
                .map(v => `v${v.version}${v.stage ? ` (${v.stage})` : ''}`)
                .join(', '),
          },
          {
            title: 'Deployed to',
            render: row => row.deployments.join(', ') || '—',
          },
        ]}
        data={impact.models.map(m => ({ ...m, id: m.name }))}
        emptyContent={
          <Box p={2}>
            <Typography variant="body2">
              No model is fed by this entity's lineage.
            </Typography>
          </Box>
        }
      />
    );
  }
  type Row = LineageImpact['datasets'][number] & { id: string };
  return (
    <Table<Row>
      title="Root cause: datasets upstream"
      options={{ search: false, paging: false, padding: 'dense' }}
      columns={[
        {
          title: 'Dataset',
          render: row =>
            row.entityRef ? (
              <EntityRefLink entityRef={row.entityRef} />
            ) : (
              `${row.nodeId} (not in the catalog)`
            ),
        },
        {
          title: 'Owner',
          render: row =>
            row.owner ? <EntityRefLink entityRef={row.owner} /> : 'unknown',
        },
        {
          title: 'Versions',
          render: row =>
            row.versions
              .map(
                v =>
                  `${v.contentHash ?? v.version.slice(0, 8)}${
                    v.rowCount !== null ? ` (${v.rowCount} rows)` : ''
                  }`,
              )
              .join(', '),
        },
      ]}
      data={impact.datasets.map(d => ({ ...d, id: d.nodeId }))}
      emptyContent={
        <Box p={2}>
          <Typography variant="body2">
            No dataset upstream of this entity yet.
          </Typography>
        </Box>
      }
    />
  );
}
