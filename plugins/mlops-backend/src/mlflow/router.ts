import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  modelAliasManagePermission,
  modelStageTransitionPermission,
  modelVersionCreatePermission,
} from '@loopline/mlops-common';
import { actorOf } from '../audit';
import { createRequestAuth } from '../lib/http';
import { describeIssues } from '../lib/validation';
import { RegistryService } from '../registry';
import { TrackingService } from '../tracking';
import { MlflowError, mlflowErrorHandler } from './errors';
import {
  toMlflowExperiment,
  toMlflowMetric,
  toMlflowModelVersion,
  toMlflowRegisteredModel,
  toMlflowRun,
  toMlflowRunInfo,
} from './mappers';
import { mlflowSchemas as s } from './schemas';
import { MlflowArtifacts } from './MlflowArtifacts';

/**
 * MLflow's REST API 2.0 (the subset clients use, `specs/mlflow/README.md`),
 * mounted at `/api/mlops/mlflow`, so `MLFLOW_TRACKING_URI=<backend>/api/mlops/mlflow`
 * works unchanged. A thin adapter: parse MLflow's shapes, authorize, call the
 * tracking and registry services, answer in MLflow's shapes and error codes.
 */
export function createMlflowRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  logger: LoggerService;
  tracking: TrackingService;
  registry: RegistryService;
  artifacts: MlflowArtifacts;
  jsonBodyLimit: string;
  artifactBodyLimit: number;
}): express.Router {
  const { tracking, registry, artifacts } = options;
  const router = Router();
  const auth = createRequestAuth({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    getModel: name => registry.getRegisteredModel(name),
  });
  const credentialsOf = auth.credentialsOf;

  /** GET calls send their fields as query parameters, others as a JSON body. */
  function input<T extends z.ZodTypeAny>(schema: T, req: Request): z.infer<T> {
    const raw =
      req.method === 'GET' ? req.query : { ...req.query, ...(req.body ?? {}) };
    const result = schema.safeParse(raw);
    if (!result.success) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Invalid request: ${describeIssues(result.error)}`,
      );
    }
    return result.data;
  }

  const tags = (list?: { key: string; value: string }[]) =>
    Object.fromEntries((list ?? []).map(t => [t.key, t.value]));

  const api = Router();
  router.use('/api/2.0/mlflow', api);
  // JSON only here: artifact uploads keep their bytes whatever their type.
  api.use(express.json({ limit: options.jsonBodyLimit }));

  // ---- experiments -------------------------------------------------------

  api.post('/experiments/create', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.createExperiment, req);
    const experiment = await tracking.createExperiment({
      name: body.name,
      artifactLocation: body.artifact_location || undefined,
      tags: tags(body.tags),
    });
    res.json({ experiment_id: experiment.experimentId });
  });

  api.get('/experiments/get', async (req, res) => {
    await credentialsOf(req);
    const { experiment_id } = input(s.experimentId, req);
    const experiment = await tracking.getExperiment(experiment_id);
    res.json({ experiment: toMlflowExperiment(experiment) });
  });

  api.get('/experiments/get-by-name', async (req, res) => {
    await credentialsOf(req);
    const { experiment_name } = input(s.experimentByName, req);
    const experiment = await tracking.getExperimentByName(experiment_name);
    res.json({ experiment: toMlflowExperiment(experiment) });
  });

  const searchExperiments = async (req: Request, res: express.Response) => {
    await credentialsOf(req);
    const body = input(s.searchExperiments, req);
    const page = await tracking.searchExperiments({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
      viewType: body.view_type,
    });
    res.json({
      experiments: page.items.map(toMlflowExperiment),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    });
  };
  api.post('/experiments/search', searchExperiments);
  api.get('/experiments/search', searchExperiments);

  api.post('/experiments/set-experiment-tag', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.setExperimentTag, req);
    await tracking.setExperimentTag(body.experiment_id, body.key, body.value);
    res.json({});
  });

  api.post('/experiments/delete', async (req, res) => {
    await credentialsOf(req);
    await tracking.deleteExperiment(input(s.experimentId, req).experiment_id);
    res.json({});
  });

  api.post('/experiments/restore', async (req, res) => {
    await credentialsOf(req);
    await tracking.restoreExperiment(input(s.experimentId, req).experiment_id);
    res.json({});
  });

  // ---- runs --------------------------------------------------------------

  api.post('/runs/create', async (req, res) => {
    const credentials = await credentialsOf(req);
    const body = input(s.createRun, req);
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
    await credentialsOf(req);
    const body = input(s.updateRun, req);
    const run = await tracking.updateRun({
      runId: body.run_id,
      status: body.status,
      endTime: body.end_time,
      runName: body.run_name,
    });
    res.json({ run_info: toMlflowRunInfo(run) });
  });

  api.get('/runs/get', async (req, res) => {
    await credentialsOf(req);
    const run = await tracking.getRun(input(s.runId, req).run_id);
    res.json({ run: toMlflowRun(run) });
  });

  api.post('/runs/delete', async (req, res) => {
    await credentialsOf(req);
    await tracking.deleteRun(input(s.runId, req).run_id);
    res.json({});
  });

  api.post('/runs/restore', async (req, res) => {
    await credentialsOf(req);
    await tracking.restoreRun(input(s.runId, req).run_id);
    res.json({});
  });

  api.post('/runs/search', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.searchRuns, req);
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
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    });
  });

  api.post('/runs/log-metric', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.logMetric, req);
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
    await credentialsOf(req);
    const body = input(s.logParam, req);
    await tracking.logBatch({
      runId: body.run_id,
      params: [{ key: body.key, value: body.value }],
    });
    res.json({});
  });

  api.post('/runs/set-tag', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.setTag, req);
    await tracking.logBatch({
      runId: body.run_id,
      tags: [{ key: body.key, value: body.value }],
    });
    res.json({});
  });

  api.post('/runs/delete-tag', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.deleteTag, req);
    await tracking.deleteTag(body.run_id, body.key);
    res.json({});
  });

  api.post('/runs/log-batch', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.logBatch, req);
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
  api.post('/runs/log-inputs', async (req, res) => {
    await credentialsOf(req);
    await tracking.getRun(input(s.logInputs, req).run_id);
    res.json({});
  });
  api.post('/runs/log-model', async (req, res) => {
    await credentialsOf(req);
    await tracking.getRun(input(s.logModel, req).run_id);
    res.json({});
  });

  api.get('/metrics/get-history', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.metricHistory, req);
    const page = await tracking.getMetricHistory({
      runId: body.run_id,
      key: body.metric_key,
      maxResults: body.max_results,
      pageToken: body.page_token,
    });
    res.json({
      metrics: page.items.map(toMlflowMetric),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    });
  });

  // ---- registered models -------------------------------------------------

  async function registeredModelBody(name: string) {
    const model = await registry.getRegisteredModel(name);
    const latest = await registry.getLatestVersions(name);
    return toMlflowRegisteredModel(model, latest);
  }

  api.post('/registered-models/create', async (req, res) => {
    const credentials = await credentialsOf(req);
    const body = input(s.createRegisteredModel, req);
    const entityRef = registry.entityRefFor(body.name, tags(body.tags));
    // Registering a model for a catalog Model is the Model's owners' call.
    await auth.authorize(credentials, modelVersionCreatePermission, entityRef);
    await registry.createRegisteredModel({
      name: body.name,
      entityRef,
      description: body.description,
      tags: tags(body.tags),
    });
    res.json({ registered_model: await registeredModelBody(body.name) });
  });

  api.get('/registered-models/get', async (req, res) => {
    await credentialsOf(req);
    const { name } = input(s.registeredModelName, req);
    res.json({ registered_model: await registeredModelBody(name) });
  });

  api.patch('/registered-models/update', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.updateRegisteredModel, req);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.updateRegisteredModel(body.name, {
      description: body.description,
    });
    res.json({ registered_model: await registeredModelBody(body.name) });
  });

  const searchRegisteredModels = async (
    req: Request,
    res: express.Response,
  ) => {
    await credentialsOf(req);
    const body = input(s.searchRegisteredModels, req);
    const page = await registry.searchRegisteredModels({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
    });
    const latest = await registry.getLatestVersionsOf(
      page.items.map(model => model.name),
    );
    const models = page.items.map(model =>
      toMlflowRegisteredModel(model, latest.get(model.name) ?? []),
    );
    res.json({
      registered_models: models,
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    });
  };
  api.get('/registered-models/search', searchRegisteredModels);
  api.post('/registered-models/search', searchRegisteredModels);

  const latestVersions = async (req: Request, res: express.Response) => {
    await credentialsOf(req);
    const body = input(s.latestVersions, req);
    const versions = await registry.getLatestVersions(body.name, body.stages);
    res.json({ model_versions: versions.map(toMlflowModelVersion) });
  };
  api.post('/registered-models/get-latest-versions', latestVersions);
  api.get('/registered-models/get-latest-versions', latestVersions);

  api.post('/registered-models/alias', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.setAlias, req);
    const version = body.version;
    const { credentials } = await auth.authorizedModel(
      req,
      modelAliasManagePermission,
      body.name,
    );
    await registry.setAlias({
      name: body.name,
      alias: body.alias,
      version,
      credentials,
    });
    res.json({});
  });

  api.delete('/registered-models/alias', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.alias, req);
    const { credentials } = await auth.authorizedModel(
      req,
      modelAliasManagePermission,
      body.name,
    );
    await registry.deleteAlias({
      name: body.name,
      alias: body.alias,
      credentials,
    });
    res.json({});
  });

  api.get('/registered-models/alias', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.alias, req);
    const version = await registry.getVersionByAlias(body.name, body.alias);
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  // ---- model versions ----------------------------------------------------

  api.post('/model-versions/create', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.createVersion, req);
    const { credentials } = await auth.authorizedModel(
      req,
      modelVersionCreatePermission,
      body.name,
    );
    if (body.run_id) {
      await tracking.getRun(body.run_id);
    }
    // An ONNX file at the source (the run's artifacts) becomes the version's
    // artifact, checked before anything is stored.
    const artifact = await artifacts.findOnnxModel(body.source, body.run_id);
    const version = await registry.createVersion({
      name: body.name,
      source: body.source,
      runId: body.run_id || undefined,
      description: body.description,
      tags: tags(body.tags),
      artifact,
      credentials,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.get('/model-versions/get', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.version, req);
    const version = await registry.getVersion(body.name, body.version);
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.patch('/model-versions/update', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.updateVersion, req);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    const version = await registry.updateVersion(body.name, body.version, {
      description: body.description,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  const searchVersions = async (req: Request, res: express.Response) => {
    await credentialsOf(req);
    const body = input(s.searchVersions, req);
    const page = await registry.searchVersions({
      filter: body.filter,
      maxResults: body.max_results,
      orderBy: body.order_by,
      pageToken: body.page_token,
    });
    res.json({
      model_versions: page.items.map(toMlflowModelVersion),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    });
  };
  api.get('/model-versions/search', searchVersions);
  api.post('/model-versions/search', searchVersions);

  api.post('/model-versions/transition-stage', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.transitionStage, req);
    const { credentials } = await auth.authorizedModel(
      req,
      modelStageTransitionPermission,
      body.name,
    );
    const version = await registry.transitionStage({
      name: body.name,
      version: body.version,
      stage: body.stage,
      archiveExistingVersions: body.archive_existing_versions ?? false,
      comment: body.comment,
      credentials,
    });
    res.json({ model_version: toMlflowModelVersion(version) });
  });

  api.post('/model-versions/set-tag', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.versionTag, req);
    await auth.authorizedModel(req, modelVersionCreatePermission, body.name);
    await registry.setVersionTag(body.name, body.version, body.key, body.value);
    res.json({});
  });

  api.get('/model-versions/get-download-uri', async (req, res) => {
    await credentialsOf(req);
    const body = input(s.version, req);
    const version = await registry.getVersion(body.name, body.version);
    res.json({ artifact_uri: version.source });
  });

  api.use((req, _res) => {
    throw new MlflowError(
      'ENDPOINT_NOT_FOUND',
      `No MLflow endpoint ${req.method} /api/2.0/mlflow${req.path}`,
    );
  });

  // ---- artifacts (mlflow-artifacts:/ URIs) -------------------------------

  const artifactRoutes = Router();
  router.use('/api/2.0/mlflow-artifacts/artifacts', artifactRoutes);

  artifactRoutes.put(
    '/*',
    express.raw({ type: () => true, limit: options.artifactBodyLimit }),
    async (req, res) => {
      await credentialsOf(req);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await artifacts.put(wildcardPath(req), body);
      res.json({});
    },
  );

  // The listing first: `/*` would match the bare folder too.
  artifactRoutes.get('/', async (req, res) => {
    await credentialsOf(req);
    const { path } = input(s.listArtifacts, req);
    res.json({ files: await artifacts.list(path ?? '') });
  });

  artifactRoutes.get('/*', async (req, res) => {
    await credentialsOf(req);
    const bytes = await artifacts.get(wildcardPath(req));
    res.type('application/octet-stream').send(bytes);
  });

  router.use(mlflowErrorHandler(options.logger));
  return router;
}

/** The decoded path matched by a route's `*`. */
function wildcardPath(req: Request): string {
  return String((req.params as Record<string, string>)['0'] ?? '');
}
