import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import {
  Link,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import type {
  LineageProvenance,
  ServingRequestSummary,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';

/**
 * The model's latest logged requests; each opens the chain behind its
 * prediction (`GET /lineage/provenance?requestId=`).
 */
export function ServingRequests(props: { modelName: string; limit?: number }) {
  const { modelName, limit = 10 } = props;
  const api = useApi(mlopsApiRef);
  const requests = useAsyncRetry(
    () => api.getServingRequests(modelName, limit),
    [api, modelName, limit],
  );
  const [open, setOpen] = useState<string>();

  if (requests.error) {
    return (
      <ResponseErrorPanel
        title="Could not load the latest requests"
        error={requests.error}
      />
    );
  }
  const columns: TableColumn<ServingRequestSummary>[] = [
    {
      title: 'When',
      render: r => new Date(r.createdAt).toLocaleString(),
    },
    {
      title: 'Request',
      render: r => (
        <Link
          to={`#provenance-${r.requestId}`}
          aria-label={`Provenance of ${r.requestId}`}
          onClick={(e: React.MouseEvent) => {
            e.preventDefault();
            setOpen(r.requestId);
          }}
        >
          {r.requestId}
        </Link>
      ),
    },
    { title: 'Version', render: r => (r.version ? `v${r.version}` : '–') },
    { title: 'Arm', field: 'route' },
    { title: 'Status', field: 'status' },
    {
      title: 'Latency',
      render: r =>
        r.latencyMs === undefined || r.latencyMs === null
          ? '–'
          : `${r.latencyMs.toFixed(1)} ms`,
    },
  ];
  return (
    <>
      <Table
        isLoading={requests.loading}
        options={{ paging: false, search: false, toolbar: false, padding: 'dense' }}
        columns={columns}
        data={requests.value ?? []}
        emptyContent={
          <Box p={2}>
            <Typography variant="body2">No requests logged yet.</Typography>
          </Box>
        }
      />
      <Button size="small" onClick={requests.retry}>
        Refresh
      </Button>
      {open && (
        <ProvenanceDialog requestId={open} onClose={() => setOpen(undefined)} />
      )}
    </>
  );
}

function ProvenanceDialog(props: { requestId: string; onClose: () => void }) {
  const api = useApi(mlopsApiRef);
  const chain = useAsync(
    () => api.getLineageProvenance(props.requestId),
    [api, props.requestId],
  );
  let body;
  if (chain.error) {
    body = (
      <ResponseErrorPanel
        title="Could not trace this prediction"
        error={chain.error}
      />
    );
  } else if (!chain.value) {
    body = <Progress />;
  } else {
    body = <ProvenanceChain provenance={chain.value} />;
  }
  return (
    <Dialog open onClose={props.onClose} maxWidth="md" fullWidth>
      <DialogTitle>Where did prediction {props.requestId} come from?</DialogTitle>
      <DialogContent>{body}</DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}

/** The chain: request → model version → training run → datasets → upstream. */
export function ProvenanceChain(props: { provenance: LineageProvenance }) {
  const { requests, modelVersion, trainingRun, trainedOn, upstream } =
    props.provenance;
  const request = requests[0];
  return (
    <Box>
      <Typography variant="subtitle2">Request</Typography>
      <Typography variant="body2" gutterBottom>
        {request
          ? `${request.status} · ${request.source} · arm ${request.route}${
              request.endpoint ? ` · endpoint ${request.endpoint}` : ''
            } · ${new Date(request.createdAt).toLocaleString()}`
          : 'Not in the inference log.'}
      </Typography>
      <Typography variant="subtitle2">Model version</Typography>
      <Typography variant="body2" component="div" gutterBottom>
        {modelVersion ? (
          <>
            <EntityRefLink entityRef={modelVersion.entityRef} /> ·{' '}
            {modelVersion.name} v{modelVersion.version} · {modelVersion.stage}
            {modelVersion.sha256 ? ` · sha256 ${modelVersion.sha256}` : ''}
          </>
        ) : (
          'Unknown'
        )}
      </Typography>
      <Typography variant="subtitle2">Training run</Typography>
      <Typography variant="body2" gutterBottom>
        {trainingRun
          ? `${trainingRun.runName} (${trainingRun.runId}) · params ${
              Object.entries(trainingRun.params)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ') || 'none'
            } · metrics ${
              Object.entries(trainingRun.metrics)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ') || 'none'
            }`
          : 'No training run recorded.'}
      </Typography>
      <Typography variant="subtitle2">Trained on</Typography>
      {trainedOn.length === 0 ? (
        <Typography variant="body2" gutterBottom>
          No dataset versions recorded.
        </Typography>
      ) : (
        <ul>
          {trainedOn.map(d => (
            <li key={`${d.nodeId}@${d.version}`}>
              <Typography variant="body2">
                {d.nodeId} · version {d.contentHash ?? d.version}
                {d.rowCount !== null ? ` · ${d.rowCount} rows` : ''}
              </Typography>
            </li>
          ))}
        </ul>
      )}
      <Typography variant="subtitle2">Upstream</Typography>
      {upstream.length === 0 ? (
        <Typography variant="body2">Nothing further upstream.</Typography>
      ) : (
        <ul>
          {upstream.map(d => (
            <li key={d.nodeId}>
              <Typography variant="body2" component="span">
                {d.entityRef ? <EntityRefLink entityRef={d.entityRef} /> : d.nodeId}
                {d.entityRef ? '' : ' (not in the catalog)'}
                {d.versions[0]?.contentHash
                  ? ` · ${d.versions[0].contentHash}`
                  : ''}
              </Typography>
            </li>
          ))}
        </ul>
      )}
    </Box>
  );
}
