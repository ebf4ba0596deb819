import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { createRequestAuth } from '../lib/http';
import { ModelEntityLookup, RegistryService } from '../registry';
import type { StageGate } from '../registry/stageGate';
import { LoggedModelService, TrackingService } from '../tracking';
import { MlflowError, mlflowErrorHandler } from './errors';
import { MlflowArtifacts } from './MlflowArtifacts';
import { addArtifactRoutes } from './routes/artifacts';
import {
  MlflowRouteContext,
  MlflowRunIoListener,
  mlflowInput,
  tagRecord,
} from './routes/context';
import { addExperimentRoutes } from './routes/experiments';
import { addLoggedModelRoutes } from './routes/loggedModels';
import { addModelVersionRoutes } from './routes/modelVersions';
import { addRegisteredModelRoutes } from './routes/registeredModels';
import { addRunRoutes } from './routes/runs';

/**
 * MLflow's REST API 2.0 (the subset clients use, `specs/mlflow/README.md`),
 * mounted at `/api/mlops/mlflow`, so `MLFLOW_TRACKING_URI=<backend>/api/mlops/mlflow`
 * works unchanged. A thin adapter: parse MLflow's shapes, authorize, call the
 * tracking and registry services, answer in MLflow's shapes and error codes.
 * Each MLflow resource has its own route file under `routes/`.
 */
export function createMlflowRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  logger: LoggerService;
  tracking: TrackingService;
  loggedModels: LoggedModelService;
  registry: RegistryService;
  /** Whether the catalog has a Model entity; a registered model without one is refused. */
  modelEntityExists: ModelEntityLookup;
  artifacts: MlflowArtifacts;
  jsonBodyLimit: string;
  artifactBodyLimit: number;
  /** The Model's gates, checked before a version moves to Production. */
  stageGate?: StageGate;
  /** Told what runs read and wrote (`runs/log-inputs`, `runs/outputs`). */
  runIo?: MlflowRunIoListener;
}): express.Router {
  const { tracking, registry, artifacts } = options;
  const context: MlflowRouteContext = {
    auth: createRequestAuth({
      httpAuth: options.httpAuth,
      permissions: options.permissions,
      getModel: name => registry.getRegisteredModel(name),
    }),
    tracking,
    loggedModels: options.loggedModels,
    registry,
    modelEntityExists: options.modelEntityExists,
    artifacts,
    input: mlflowInput,
    tags: tagRecord,
    artifactBodyLimit: options.artifactBodyLimit,
    permissions: options.permissions,
    ...(options.stageGate ? { stageGate: options.stageGate } : {}),
    runIo: options.runIo,
  };
  const router = Router();

  const api = Router();
  router.use('/api/2.0/mlflow', api);
  // JSON only here: artifact uploads keep their bytes whatever their type.
  api.use(express.json({ limit: options.jsonBodyLimit }));
  addExperimentRoutes(api, context);
  addRunRoutes(api, context);
  addLoggedModelRoutes(api, context);
  addRegisteredModelRoutes(api, context);
  addModelVersionRoutes(api, context);
  api.use((req, _res) => {
    throw new MlflowError(
      'ENDPOINT_NOT_FOUND',
      `No MLflow endpoint ${req.method} /api/2.0/mlflow${req.path}`,
    );
  });

  const artifactRoutes = Router();
  router.use('/api/2.0/mlflow-artifacts/artifacts', artifactRoutes);
  addArtifactRoutes(artifactRoutes, context);
  artifactRoutes.use((req, _res) => {
    throw new MlflowError(
      'ENDPOINT_NOT_FOUND',
      `No MLflow artifact endpoint ${req.method} /api/2.0/mlflow-artifacts/artifacts${req.path}`,
    );
  });

  router.use(mlflowErrorHandler(options.logger));
  return router;
}
