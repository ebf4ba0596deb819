import { useCallback, useEffect, useRef, useState } from 'react';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Grid from '@material-ui/core/Grid';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import {
  isFinishedRunState,
  isPipelineEntity,
  PipelineEntityV1alpha1,
  PipelineLogLine,
  PipelineRun,
  pipelineRunPermission,
} from '@loopline/mlops-common';
import { mlopsApiRef } from '../../api';
import { Time } from '../fields';
import { errorMessage, formatDuration, usePolling } from '../shared';

/** Props of {@link EntityPipelineRunsContent}. */
export interface EntityPipelineRunsContentProps {
  /** How often the runs and logs refresh, in milliseconds; defaults to 3000. */
  pollIntervalMs?: number;
}

const STATE_COLORS: Record<string, 'default' | 'primary' | 'secondary'> = {
  running: 'primary',
  failed: 'secondary',
};

function StateChip(props: { state: string }) {
  return (
    <Chip
      size="small"
      label={props.state}
      color={STATE_COLORS[props.state] ?? 'default'}
      variant={props.state === 'succeeded' ? 'outlined' : 'default'}
    />
  );
}

function durationOf(run: { startedAt?: string; finishedAt?: string }) {
  if (!run.startedAt) return '–';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return formatDuration(end - Date.parse(run.startedAt));
}

/** The "Run" dialog: the pipeline's declared parameters with their defaults, and a comment. */
function RunDialog(props: {
  pipeline: PipelineEntityV1alpha1;
  open: boolean;
  onClose(): void;
  onStarted(run: PipelineRun): void;
}) {
  const { pipeline, open, onClose, onStarted } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const declared = pipeline.spec.parameters ?? [];
  const [values, setValues] = useState<Record<string, string>>({});
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const parameters = Object.fromEntries(
        Object.entries(values).filter(([, v]) => v !== ''),
      );
      const run = await mlopsApi.startPipelineRun(pipeline.metadata.name, {
        parameters,
        ...(comment ? { comment } : {}),
      });
      onStarted(run);
    } catch (e) {
      setError(errorMessage(e as Error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={onClose} aria-labelledby="run-dialog-title">
      <DialogTitle id="run-dialog-title">
        Run {pipeline.metadata.title ?? pipeline.metadata.name}
      </DialogTitle>
      <DialogContent>
        {declared.map(parameter => (
          <TextField
            key={parameter.name}
            id={`run-parameter-${parameter.name}`}
            label={parameter.name}
            helperText={parameter.description}
            placeholder={parameter.default}
            value={values[parameter.name] ?? ''}
            onChange={e =>
              setValues({ ...values, [parameter.name]: e.target.value })
            }
            fullWidth
            margin="dense"
          />
        ))}
        <TextField
          id="run-comment"
          label="Comment"
          value={comment}
          onChange={e => setComment(e.target.value)}
          fullWidth
          margin="dense"
        />
        {error && (
          <Typography color="error" role="alert">
            {error}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
        <Button color="primary" onClick={start} disabled={busy}>
          Start run
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/** A run's log, fetched incrementally while the run goes on. */
function RunLog(props: {
  pipelineName: string;
  run: PipelineRun;
  pollIntervalMs: number;
}) {
  const { pipelineName, run, pollIntervalMs } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const [lines, setLines] = useState<PipelineLogLine[]>([]);
  const last = useRef(0);
  const complete = useRef(false);

  useEffect(() => {
    setLines([]);
    last.current = 0;
    complete.current = false;
  }, [run.id]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        for (;;) {
          const page = await mlopsApi.getPipelineRunLogs(pipelineName, run.id, {
            after: last.current,
          });
          if (stopped) return;
          last.current = page.last;
          if (page.items.length > 0) {
            setLines(previous => [...previous, ...page.items]);
          }
          complete.current = page.complete;
          if (page.complete || page.items.length === 0) break;
        }
      } catch {
        // The next poll tries again.
      }
      if (!stopped && !complete.current) {
        timer = setTimeout(poll, pollIntervalMs);
      }
    };
    poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [mlopsApi, pipelineName, run.id, run.state, pollIntervalMs]);

  return (
    <Box
      component="pre"
      aria-label="Run log"
      style={{
        maxHeight: 400,
        overflow: 'auto',
        fontSize: 12,
        background: 'rgba(0,0,0,0.05)',
        padding: 8,
      }}
    >
      {lines.length === 0
        ? 'No output yet.'
        : lines
            .map(
              l =>
                `[${l.step}${l.attempt > 1 ? ` #${l.attempt}` : ''}] ${
                  l.stream === 'stderr' ? '! ' : ''
                }${l.text}`,
            )
            .join('\n')}
    </Box>
  );
}

/** One run: its steps (in dependency order, with states), outputs, actions and live log. */
function RunDetails(props: {
  pipelineName: string;
  run: PipelineRun;
  canRun: boolean;
  pollIntervalMs: number;
  onChanged(message: string): void;
}) {
  const { pipelineName, run, canRun, pollIntervalMs, onChanged } = props;
  const mlopsApi = useApi(mlopsApiRef);
  const alertApi = useApi(alertApiRef);
  const act = async (what: () => Promise<unknown>, message: string) => {
    try {
      await what();
      onChanged(message);
    } catch (e) {
      alertApi.post({ message: errorMessage(e as Error), severity: 'error' });
    }
  };

  return (
    <InfoCard title={`Run ${run.id.slice(0, 8)}`}>
      <section aria-label="Run details">
        <Typography variant="body2">
          <StateChip state={run.state} /> {run.trigger.cause}
          {run.reason ? ` — ${run.reason}` : ''}
        </Typography>
        <Table size="small" aria-label="Steps">
          <TableHead>
            <TableRow>
              <TableCell>Step</TableCell>
              <TableCell>After</TableCell>
              <TableCell>State</TableCell>
              <TableCell>Exit code</TableCell>
              <TableCell>Duration</TableCell>
              <TableCell>Note</TableCell>
              <TableCell />
            </TableRow>
          </TableHead>
          <TableBody>
            {run.steps.map(step => (
              <TableRow key={step.name}>
                <TableCell>
                  {step.name}
                  {step.kind !== 'command' ? ` (${step.kind})` : ''}
                </TableCell>
                <TableCell>{step.dependsOn.join(', ') || '–'}</TableCell>
                <TableCell>
                  <StateChip state={step.state} />
                  {step.attempt > 1 ? ` attempt ${step.attempt}` : ''}
                </TableCell>
                <TableCell>{step.exitCode ?? '–'}</TableCell>
                <TableCell>{durationOf(step)}</TableCell>
                <TableCell>{step.message ?? ''}</TableCell>
                <TableCell>
                  {canRun &&
                    isFinishedRunState(run.state) &&
                    (step.state === 'failed' || step.state === 'cancelled') && (
                      <Button
                        size="small"
                        onClick={() =>
                          act(
                            () =>
                              mlopsApi.retryPipelineStep(
                                pipelineName,
                                run.id,
                                step.name,
                              ),
                            `Retrying ${step.name}`,
                          )
                        }
                      >
                        Retry {step.name}
                      </Button>
                    )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <Box mt={1}>
          {run.outputs.mlflowRunIds.map(id => (
            <Chip
              key={id}
              size="small"
              label={`MLflow run ${id.slice(0, 8)}`}
            />
          ))}
          {run.outputs.modelVersions.map(v => (
            <Link
              key={`${v.name}@${v.version}`}
              to={`/catalog/default/model/${v.name}/versions`}
            >
              {v.name} v{v.version}{' '}
            </Link>
          ))}
          {run.outputs.rollouts.map(r => (
            <Link
              key={`${r.model}/${r.environment}`}
              to={`/catalog/default/model/${r.model}/deployments`}
            >
              Rollout of {r.model} v{r.version} to {r.environment}{' '}
            </Link>
          ))}
          <Link
            to={`/catalog/default/pipeline/${pipelineName}/lineage?run=${run.id}`}
          >
            Lineage
          </Link>
        </Box>
        {canRun && !isFinishedRunState(run.state) && !run.cancelRequested && (
          <Button
            onClick={() =>
              act(
                () => mlopsApi.cancelPipelineRun(pipelineName, run.id),
                'Cancelling the run',
              )
            }
          >
            Cancel run
          </Button>
        )}
        <RunLog
          pipelineName={pipelineName}
          run={run}
          pollIntervalMs={pollIntervalMs}
        />
      </section>
    </InfoCard>
  );
}

/**
 * The Runs tab of a Pipeline: its runs (trigger, state, duration), the next
 * scheduled time, "Run" with a parameters dialog for those allowed, and the
 * selected run's steps, outputs and live log.
 */
export function EntityPipelineRunsContent(
  props: EntityPipelineRunsContentProps,
) {
  const pollIntervalMs = props.pollIntervalMs ?? 3000;
  const { entity } = useEntity();
  const mlopsApi = useApi(mlopsApiRef);
  const alertApi = useApi(alertApiRef);
  const name = entity.metadata.name;
  const entityRef = stringifyEntityRef(entity);
  const polled = usePolling(
    name,
    () => mlopsApi.listPipelineRuns(name, { limit: 50 }),
    pollIntervalMs,
  );
  const runPermission = usePermission({
    permission: pipelineRunPermission,
    resourceRef: entityRef,
  });
  const [selected, setSelected] = useState<string>();
  const [dialogOpen, setDialogOpen] = useState(false);
  const { refresh } = polled;
  const onChanged = useCallback(
    (message: string) => {
      alertApi.post({ message, severity: 'success', display: 'transient' });
      refresh();
    },
    [alertApi, refresh],
  );

  if (!isPipelineEntity(entity)) {
    return <EmptyState missing="info" title="Not a Pipeline" />;
  }
  if (!polled.value) {
    return polled.error ? (
      <ResponseErrorPanel
        title={`Could not load the runs of ${name}`}
        error={polled.error}
      />
    ) : (
      <Progress />
    );
  }
  const runs = polled.value.items;
  const current = runs.find(r => r.id === selected) ?? runs[0];

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <InfoCard title="Runs">
          <Box display="flex" alignItems="center" mb={1}>
            <Typography variant="body2" style={{ flexGrow: 1 }}>
              {polled.value.nextScheduledAt ? (
                <>
                  Next scheduled run:{' '}
                  <Time value={polled.value.nextScheduledAt} />
                </>
              ) : (
                'No schedule'
              )}
            </Typography>
            {runPermission.allowed && (
              <Button
                variant="contained"
                color="primary"
                onClick={() => setDialogOpen(true)}
              >
                Run
              </Button>
            )}
          </Box>
          {runs.length === 0 ? (
            <Typography>No runs yet.</Typography>
          ) : (
            <Table size="small" aria-label="Pipeline runs">
              <TableHead>
                <TableRow>
                  <TableCell>Created</TableCell>
                  <TableCell>Trigger</TableCell>
                  <TableCell>State</TableCell>
                  <TableCell>Duration</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {runs.map(run => (
                  <TableRow
                    key={run.id}
                    hover
                    selected={run.id === current?.id}
                    onClick={() => setSelected(run.id)}
                    style={{ cursor: 'pointer' }}
                  >
                    <TableCell>
                      <Time value={run.createdAt} />
                    </TableCell>
                    <TableCell>
                      {run.trigger.type}
                      {run.trigger.user ? ` by ${run.trigger.user}` : ''}
                    </TableCell>
                    <TableCell>
                      <StateChip state={run.state} />
                    </TableCell>
                    <TableCell>{durationOf(run)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </InfoCard>
      </Grid>
      {current && (
        <Grid item xs={12}>
          <RunDetails
            pipelineName={name}
            run={current}
            canRun={runPermission.allowed}
            pollIntervalMs={pollIntervalMs}
            onChanged={onChanged}
          />
        </Grid>
      )}
      <RunDialog
        pipeline={entity}
        open={dialogOpen}
        onClose={() => setDialogOpen(false)}
        onStarted={run => {
          setDialogOpen(false);
          setSelected(run.id);
          onChanged(`Run ${run.id.slice(0, 8)} started`);
        }}
      />
    </Grid>
  );
}
