import express from 'express';
import { MlflowRouteContext, nextPageToken } from './context';
import { mlflowSchemas as s } from '../schemas';
import { actorOf } from '../../audit';
import { toMlflowMetric, toMlflowRun, toMlflowRunInfo } from '../mappers';

/** MLflow's `runs/*` and `metrics/*` routes. */
export function addRunRoutes(api: express.Router, context: MlflowRouteContext) {
  const { auth, input, tags, tracking, artifacts } = context;

  api.post('/runs/create', async (req, res) => {
    const credentials = await auth.credentialsOf(req);
    const body = input(req, s.createRun);
    const run = await tracking.createRun({
      experimentId: body.experiment_id,
      userId: body.user_id || actorOf(credentials),
      runName: body.run_name || undefined,
      startTime: body.start_time,
      tags: tags(body.tags),
    });
    res.json({ run: toMlflowRun(run) });
  });

  api.post('/runs/update', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.updateRun);
    const run = await tracking.updateRun({
      runId: body.run_id,
      status: body.status,
      endTime: body.end_time,
      runName: body.run_name,
    });
    res.json({ run_info: toMlflowRunInfo(run) });
  });

  api.get('/runs/get', async (req, res) => {
    await auth.credentialsOf(req);
    const run = await tracking.getRun(input(req, s.runId).run_id);
    res.json({ run: toMlflowRun(run) });
  });

  api.post('/runs/delete', async (req, res) => {
    await auth.credentialsOf(req);
    await tracking.deleteRun(input(req, s.runId).run_id);
    res.json({});
  });

  api.post('/runs/restore', async (req, res) => {
    await auth.credentialsOf(req);
    await tracking.restoreRun(input(req, s.runId).run_id);
    res.json({});
  });

  api.post('/runs/search', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.searchRuns);
    const page = await tracking.searchRuns({
      experimentIds: body.experiment_ids,
      filter: body.filter,
      runViewType: body.run_view_type,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
    });
    res.json({
      runs: page.items.map(toMlflowRun),
      ...nextPageToken(page),
    });
  });

  api.post('/runs/log-metric', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.logMetric);
    await tracking.logBatch({
      runId: body.run_id,
      metrics: [
        {
          key: body.key,
          value: body.value,
          timestamp: body.timestamp,
          step: body.step ?? 0,
        },
      ],
    });
    res.json({});
  });

  api.post('/runs/log-parameter', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.logParam);
    await tracking.logBatch({
      runId: body.run_id,
      params: [{ key: body.key, value: body.value }],
    });
    res.json({});
  });

  api.post('/runs/set-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.setTag);
    await tracking.logBatch({
      runId: body.run_id,
      tags: [{ key: body.key, value: body.value }],
    });
    res.json({});
  });

  api.post('/runs/delete-tag', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.deleteTag);
    await tracking.deleteTag(body.run_id, body.key);
    res.json({});
  });

  api.post('/runs/log-batch', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.logBatch);
    await tracking.logBatch({
      runId: body.run_id,
      metrics: body.metrics?.map(m => ({
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
        step: m.step ?? 0,
      })),
      params: body.params?.map(p => ({ key: p.key, value: p.value })),
      tags: body.tags?.map(t => ({ key: t.key, value: t.value })),
    });
    res.json({});
  });

  // Accepted so that MLflow's `log_model` and dataset logging do not fail;
  // the model itself reaches the registry through `model-versions/create`.
  // The datasets become the run's inputs in lineage.
  api.post('/runs/log-inputs', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.logInputs);
    await tracking.getRun(body.run_id);
    await context.runIo?.inputsLogged(body.run_id, body.datasets ?? []);
    res.json({});
  });
  api.post('/runs/log-model', async (req, res) => {
    await auth.credentialsOf(req);
    await tracking.getRun(input(req, s.logModel).run_id);
    res.json({});
  });

  // A run's artifacts, relative to its artifact root (MLflow's UI and older clients).
  api.get('/artifacts/list', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.listRunArtifacts);
    res.json(await artifacts.listRun(body.run_id, body.path));
  });

  api.get('/metrics/get-history', async (req, res) => {
    await auth.credentialsOf(req);
    const body = input(req, s.metricHistory);
    const page = await tracking.getMetricHistory({
      runId: body.run_id,
      key: body.metric_key,
      maxResults: body.max_results,
      pageToken: body.page_token,
    });
    res.json({
      metrics: page.items.map(toMlflowMetric),
      ...nextPageToken(page),
    });
  });
}
