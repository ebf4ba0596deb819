import os from 'node:os';
import path from 'node:path';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { mlopsPermissions } from '@loopline/mlops-common';
import { applyMigrations } from './database/migrations';
import { useSqliteWal } from './database/sqlite';
import { AuditStore, AuditTrail, createAuditRouter } from './audit';
import { createInfoRouter, InfoService } from './info';
import {
  catalogModelEntityLookup,
  FileSystemArtifactStore,
  RegistryService,
  RegistryStore,
} from './registry';
import { createRegistryRouter } from './registry/router';
import {
  LoggedModelService,
  LoggedModelStore,
  TrackingService,
  TrackingStore,
} from './tracking';
import { createTrackingRouter } from './tracking/router';
import { createMlflowRouter, MlflowArtifacts } from './mlflow';
import {
  CatalogFeatureSchemaSource,
  createEmbeddedServing,
  createEmbeddedServingParts,
  createServingRouter,
  readServingConfig,
} from './serving';
import { createDataPlane, RoutingRefreshHook } from './dataPlane';
import {
  createInferenceLog,
  KSERVE_LOGGER_PATH,
  readInferenceLogConfig,
} from './serving/log';
import { createRollouts, RolloutStore } from './rollout';
import { seedDemoModels } from './demo/seed';
import { createPipelines } from './pipelines';
import { createQuality } from './quality';
import { createMonitoring } from './monitoring';
import { createLineage } from './lineage';
import { MlopsInProcessService, mlopsServiceHolderRef } from './inProcess';
import { createRouter } from './router';

const DEFAULT_MAX_ARTIFACT_BYTES = 100 * 1024 * 1024;

/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @public
 */
export const mlopsPlugin = createBackendPlugin({
  pluginId: 'mlops',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        auth: coreServices.auth,
        scheduler: coreServices.scheduler,
        catalog: catalogServiceRef,
        notifications: notificationService,
        events: eventsServiceRef,
        discovery: coreServices.discovery,
        inProcess: mlopsServiceHolderRef,
      },
      async init({
        config,
        logger,
        database,
        httpAuth,
        httpRouter,
        permissions,
        permissionsRegistry,
        auditor,
        lifecycle,
        auth,
        scheduler,
        catalog,
        notifications,
        events,
        discovery,
        inProcess,
      }) {
        const db = await database.getClient();
        if (await useSqliteWal(db)) {
          logger.info('SQLite database file in write-ahead-log mode');
        }
        if (!database.migrations?.skip) {
          await applyMigrations(db);
        }
        permissionsRegistry.addPermissions(mlopsPermissions);

        const jsonBodyLimit =
          config.getOptionalString('mlops.api.jsonBodyLimit') ?? '1mb';
        const artifactDirectory =
          config.getOptionalString('mlops.artifacts.directory') ??
          path.join(os.tmpdir(), 'loopline', 'artifacts');
        const maxArtifactBytes =
          config.getOptionalNumber('mlops.artifacts.maxSizeBytes') ??
          DEFAULT_MAX_ARTIFACT_BYTES;

        const auditTrail = new AuditTrail(new AuditStore(db), auditor);
        const infoService = new InfoService(db);
        const tracking = new TrackingService(new TrackingStore(db));
        const loggedModels = new LoggedModelService(
          new LoggedModelStore(db),
          tracking,
        );
        const registry = new RegistryService({
          store: new RegistryStore(db),
          artifacts: new FileSystemArtifactStore(
            path.join(artifactDirectory, 'models'),
            { maxBytes: maxArtifactBytes },
          ),
          auditTrail,
          runLookup: runIds => tracking.lookupRunSummaries(runIds),
          versionsInUse: name => new RolloutStore(db).versionsInUse(name),
        });
        // The scaffolder's mlops:* actions call these in process.
        inProcess.provide(
          new MlopsInProcessService({ permissions, registry, tracking }),
        );
        const mlflowArtifacts = new MlflowArtifacts(
          new FileSystemArtifactStore(
            path.join(artifactDirectory, 'mlflow-artifacts'),
            { maxBytes: maxArtifactBytes },
          ),
          tracking,
          loggedModels,
        );

        // Serving: OIP v2 over onnxruntime-node, every request observed by
        // the Prometheus metrics and the inference log.
        const inferenceLogConfig = readInferenceLogConfig(config);
        const inferenceLog = createInferenceLog({
          db,
          config: inferenceLogConfig,
          logger,
          httpAuth,
          permissions,
          registry,
        });
        const servingConfig = readServingConfig(config);
        const featureSource = new CatalogFeatureSchemaSource({ catalog, auth });
        const dataPlaneRefresh = new RoutingRefreshHook();
        const servingParts = createEmbeddedServingParts({
          registry,
          logger,
          config: servingConfig,
        });
        // Progressive delivery: deployments per model and environment, on
        // the embedded server or on KServe. Requests are routed by the
        // deployments stored (rollouts first, else the Production version).
        const rollouts = createRollouts({
          db,
          config,
          registry,
          auditTrail,
          logger,
          httpAuth,
          permissions,
          auth,
          notifications,
          serving: {
            sessions: servingParts.sessions,
            fallback: servingParts.trafficRouter,
          },
          inferenceLog,
          // The data plane's workers route by a new deployment at once.
          onDeploymentApplied: dataPlaneRefresh.onDeploymentApplied,
        });
        const { service: inference, sessions } = createEmbeddedServing({
          registry,
          logger,
          config: servingConfig,
          observers: inferenceLog.observers,
          featureSource,
          parts: servingParts,
          routeWith: () => rollouts.trafficRouter,
        });

        // Data docs (Dataset expectations) and Model gates (stage moves, evaluate steps).
        const quality = createQuality({
          db,
          auth,
          catalog,
          registry,
          auditTrail,
          notifications,
          logger,
          httpAuth,
          permissions,
        });

        // Pipeline runs: triggers, the local runner, recovery after a restart.
        const pipelines = await createPipelines({
          config,
          db,
          logger,
          auth,
          discovery,
          httpAuth,
          permissions,
          catalog,
          notifications,
          scheduler,
          lifecycle,
          events,
          auditTrail,
          tracking,
          registry,
          rollouts: rollouts.service,
          gates: quality.gates,
          validations: quality.validations,
        });

        // Monitoring: drift, quality and alerts over the inference log.
        const monitoring = createMonitoring({
          db,
          config,
          logger,
          httpAuth,
          permissions,
          auth,
          catalog,
          log: inferenceLog.store,
          featureNamesOf: async name =>
            (await inference.modelInfo(name)).features.map(f => f.name),
          productionVersionOf: async name =>
            (await registry.getLatestVersions(name, ['Production']))[0]
              ?.version,
          jsonBodyLimit,
          metricsRegistry: inferenceLog.metrics.registry,
          events,
          notifications,
          auditTrail,
        });

        const servingRouter = createServingRouter({
          httpAuth,
          permissions,
          service: inference,
          logger,
          jsonBodyLimit: servingConfig.jsonBodyLimit,
          permissionCacheTtlMs: servingConfig.permissionCacheTtlMs,
          credentialsCacheTtlMs: servingConfig.permissionCacheTtlMs,
        });

        // The production path for inference clients: worker processes on a
        // port of their own (mlops.serving.dataPlane), and standalone
        // loopline-serving processes, all routing by tables pushed from here.
        const dataPlanes = createDataPlane({
          config: servingConfig.dataPlane,
          serving: servingConfig,
          rolloutRouting: {
            servingEnvironment: rollouts.config.servingEnvironment,
            environments: rollouts.config.environments
              .filter(e => e.target === 'embedded')
              .map(e => e.name),
            abKeyHeader: rollouts.config.abKeyHeader,
          },
          auth,
          httpAuth,
          permissions,
          registry,
          rolloutStore: rollouts.store,
          featureSource,
          observers: inferenceLog.observers,
          logger: logger.child({ service: 'data-plane' }),
          metricsRegistry: inferenceLog.metrics.registry,
          lifecycle,
          refreshHook: dataPlaneRefresh,
          logSampleRate: inferenceLogConfig.log.sampleRate,
        });
        // OpenLineage ingest and Marquez's read API, in Marquez's error shape.
        const lineage = await createLineage({
          db,
          config,
          logger,
          httpAuth,
          permissions,
          scheduler,
          auth,
          catalog,
          registry,
          tracking,
          events,
          inferenceRequests: id => inferenceLog.store.getRequest(id),
        });
        httpRouter.use(lineage.router);
        // Rollouts are lineage too: a model version deployed to an environment.
        rollouts.service.addListener({
          onAction: event => lineage.emitter.rolloutChanged(event),
        });

        httpRouter.use(
          createRouter({
            jsonBodyLimit,
            // OIP routes answer in the protocol's shape, errors included.
            servingRouter,
            // The KServe logger route parses its own (large) bodies.
            inferenceLogRouter: inferenceLog.router,
            // Drift comparisons and uploaded references too.
            ownBodyRouters: [monitoring.router],
            // MLflow's routes answer in MLflow's shapes, errors included.
            mlflowRouter: createMlflowRouter({
              httpAuth,
              permissions,
              logger,
              tracking,
              loggedModels,
              registry,
              modelEntityExists: catalogModelEntityLookup(catalog, auth),
              runIo: lineage.emitter,
              artifacts: mlflowArtifacts,
              jsonBodyLimit,
              artifactBodyLimit: maxArtifactBytes,
              stageGate: quality.gates,
            }),
            routers: [
              createInfoRouter({ httpAuth, infoService }),
              createAuditRouter({ httpAuth, permissions, auditTrail }),
              createRegistryRouter({
                httpAuth,
                permissions,
                registry,
                tracking,
                artifactBodyLimit: maxArtifactBytes,
                stageGate: quality.gates,
              }),
              createTrackingRouter({ httpAuth, tracking }),
              rollouts.router,
              pipelines.router,
              quality.router,
              dataPlanes.router,
            ],
          }),
        );

        // Every MLflow route still demands a user or service through
        // httpAuth; letting them past the router's own check means a missing
        // token is answered in MLflow's shape (401 UNAUTHENTICATED).
        httpRouter.addAuthPolicy({ path: '/mlflow', allow: 'unauthenticated' });
        // Kubernetes probes call live/ready without a token; nothing else there.
        httpRouter.addAuthPolicy({
          path: '/v2/health',
          allow: 'unauthenticated',
        });
        if (inferenceLogConfig.kserveLogger.token) {
          // KServe's logger sends no Authorization header: the route checks
          // the shared secret in its URL (or a Backstage token) itself.
          httpRouter.addAuthPolicy({
            path: KSERVE_LOGGER_PATH,
            allow: 'unauthenticated',
          });
        }

        await scheduler.scheduleTask({
          id: 'mlops-inference-log-purge',
          frequency: inferenceLogConfig.log.purgeFrequency,
          timeout: { minutes: 10 },
          initialDelay: { minutes: 1 },
          fn: async () => {
            await inferenceLog.inferenceLogger.purge();
          },
        });
        // Analyses run on every instance's schedule, but the scheduler runs a
        // task on one instance at a time.
        await scheduler.scheduleTask({
          id: 'mlops-rollout-analysis',
          frequency: { milliseconds: rollouts.config.analysisIntervalMs },
          timeout: { minutes: 5 },
          initialDelay: { milliseconds: rollouts.config.analysisIntervalMs },
          fn: async () => {
            await inferenceLog.inferenceLogger.flush();
            await rollouts.service.refreshTargetStatuses();
            await rollouts.service.analyzeAll();
          },
        });
        await monitoring.schedule(scheduler, () =>
          inferenceLog.inferenceLogger.flush(),
        );
        // A restart mid-rollout: the targets are told the stored state again.
        lifecycle.addStartupHook(async () => {
          await rollouts.service.reconcileAll();
        });
        lifecycle.addShutdownHook(async () => {
          await inference.mirrorsSettled(); // shadow copies are logged too
          await inferenceLog.inferenceLogger.close(); // the final flush
          await sessions.close();
        });
        if (servingConfig.preload) {
          lifecycle.addStartupHook(async () => {
            await inference.preload();
          });
        }

        if (config.getOptionalBoolean('mlops.demo.seed')) {
          // After startup, so that a slow training never delays readiness.
          lifecycle.addStartupHook(async () => {
            try {
              await seedDemoModels({
                tracking,
                registry,
                logger,
                credentials: await auth.getOwnServiceCredentials(),
              });
            } catch (error) {
              logger.error('Could not seed the demo models', error as Error);
            }
          });
        }
      },
    });
  },
});
