import { Link } from '@backstage/core-components';
import { Entity } from '@backstage/catalog-model';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import type { ModelVersion, TensorSpec } from '@loopline/mlops-common';
import {
  Actor,
  CompactColumn,
  CompactTable,
  Field,
  FieldGrid,
  Section,
  Time,
} from '../fields';
import {
  AliasChip,
  formatBytes,
  formatNumber,
  formatShape,
  orderMetricKeys,
  StageChip,
  useEntityTabPath,
} from '../shared';
import { VersionStatus } from './VersionsTable';

type SignatureRow = TensorSpec & { direction: 'Input' | 'Output' };

const signatureColumns: CompactColumn<SignatureRow>[] = [
  { title: 'Direction', render: row => row.direction },
  { title: 'Name', render: row => <code>{row.name}</code> },
  { title: 'Datatype', render: row => row.datatype },
  { title: 'Shape', render: row => <code>{formatShape(row.shape)}</code> },
];

type Entry = [string, string];

const entryColumns = (keyTitle: string): CompactColumn<Entry>[] => [
  { title: keyTitle, render: ([key]) => <code>{key}</code> },
  { title: 'Value', render: ([, value]) => value },
];

function Entries(props: { label: string; keyTitle: string; rows: Entry[] }) {
  return props.rows.length ? (
    <CompactTable
      label={props.label}
      columns={entryColumns(props.keyTitle)}
      rows={props.rows}
      rowKey={([key]) => key}
    />
  ) : (
    <Typography variant="body2" color="textSecondary">
      None recorded.
    </Typography>
  );
}

/** Everything about one version: signature, metrics, params, artifact, source. */
export function VersionDetailsDialog(props: {
  entity: Entity;
  version: ModelVersion;
  preferredMetrics: ReadonlyArray<string>;
  onClose: () => void;
}) {
  const { entity, version, preferredMetrics, onClose } = props;
  const tabPath = useEntityTabPath(entity);
  const signatureRows: SignatureRow[] = [
    ...(version.signature?.inputs ?? []).map(tensor => ({
      ...tensor,
      direction: 'Input' as const,
    })),
    ...(version.signature?.outputs ?? []).map(tensor => ({
      ...tensor,
      direction: 'Output' as const,
    })),
  ];
  const metricRows: Entry[] = orderMetricKeys(
    Object.keys(version.metrics),
    preferredMetrics,
  ).map(key => [key, formatNumber(version.metrics[key])]);
  const paramRows: Entry[] = Object.entries(version.params).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const tagRows: Entry[] = Object.entries(version.tags).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const title = `${version.name} version ${version.version}`;
  return (
    <Dialog
      open
      onClose={onClose}
      aria-labelledby="model-version-details-title"
      fullWidth
      maxWidth="md"
    >
      <DialogTitle id="model-version-details-title">{title}</DialogTitle>
      <DialogContent dividers>
        <Box mb={2} display="flex" style={{ gap: 4 }}>
          <StageChip stage={version.stage} />
          {version.aliases.map(alias => (
            <AliasChip key={alias} alias={alias} />
          ))}
        </Box>
        <FieldGrid>
          <Field label="Description" value={version.description} prose />
          <Field
            label="Status"
            value={
              <>
                <VersionStatus status={version.status} />
                {version.statusMessage && (
                  <Typography variant="body2" color="textSecondary">
                    {version.statusMessage}
                  </Typography>
                )}
              </>
            }
          />
          <Field label="Creator" value={<Actor actor={version.creator} />} />
          <Field label="Created" value={<Time value={version.createdAt} />} />
          <Field
            label="Source"
            value={<code>{version.source}</code>}
            fullWidth
          />
          <Field
            label="Source run"
            value={
              version.runId && (
                <Link to={tabPath('experiments', { run: version.runId })}>
                  {version.runId}
                </Link>
              )
            }
          />
        </FieldGrid>
        <Section title="Signature">
          {signatureRows.length ? (
            <CompactTable
              label="Signature"
              columns={signatureColumns}
              rows={signatureRows}
              rowKey={row => `${row.direction}:${row.name}`}
            />
          ) : (
            <Typography variant="body2" color="textSecondary">
              No signature yet: it is read from the ONNX artifact once one is
              uploaded.
            </Typography>
          )}
        </Section>
        <Section title="Metrics">
          <Entries label="Metrics" keyTitle="Metric" rows={metricRows} />
        </Section>
        <Section title="Parameters">
          <Entries label="Parameters" keyTitle="Parameter" rows={paramRows} />
        </Section>
        <Section title="Artifact">
          {version.artifact ? (
            <FieldGrid>
              <Field
                label="Path"
                value={<code>{version.artifact.path}</code>}
                fullWidth
              />
              <Field
                label="SHA-256"
                value={
                  <code style={{ wordBreak: 'break-all' }}>
                    {version.artifact.sha256}
                  </code>
                }
                fullWidth
              />
              <Field
                label="Size"
                value={formatBytes(version.artifact.sizeBytes)}
              />
              <Field
                label="Format"
                value={version.artifact.format.toUpperCase()}
              />
            </FieldGrid>
          ) : (
            <Typography variant="body2" color="textSecondary">
              No artifact uploaded.
            </Typography>
          )}
        </Section>
        {tagRows.length > 0 && (
          <Section title="Tags">
            <Entries label="Tags" keyTitle="Tag" rows={tagRows} />
          </Section>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} color="primary">
          Close
        </Button>
      </DialogActions>
    </Dialog>
  );
}
