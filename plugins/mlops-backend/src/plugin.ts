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
import { AuditStore, AuditTrail, createAuditRouter } from './audit';
import { createInfoRouter, InfoService } from './info';
import {
  FileSystemArtifactStore,
  RegistryService,
  RegistryStore,
} from './registry';
import { createRegistryRouter } from './registry/router';
import { TrackingService, TrackingStore } from './tracking';
import { createTrackingRouter } from './tracking/router';
import { createMlflowRouter, MlflowArtifacts } from './mlflow';
import {
  CatalogFeatureSchemaSource,
  createEmbeddedServing,
  createServingRouter,
  readServingConfig,
} from './serving';
import { createDataPlane, DataPlaneSupervisor } from './serving/dataPlane';
import {
  createInferenceLog,
  KSERVE_LOGGER_PATH,
  readInferenceLogConfig,
} from './serving/log';
import {
  createRolloutRouter,
  EmbeddedDeploymentTarget,
  readRolloutConfig,
  RolloutMetrics,
  rolloutNotifier,
  RolloutService,
  RolloutStore,
  RolloutTrafficRouter,
} from './rollout';
import type { DeploymentTarget } from './rollout';
import { KServeTarget } from './rollout/kserve/KServeTarget';
import {
  kubeConfigFor,
  readKServeConfig,
  storageUriFor,
} from './rollout/kserve/config';
import { seedDemoModels } from './demo/seed';
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
        inProcess,
      }) {
        const db = await database.getClient();
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
        const registry = new RegistryService({
          store: new RegistryStore(db),
          artifacts: new FileSystemArtifactStore(
            path.join(artifactDirectory, 'models'),
            { maxBytes: maxArtifactBytes },
          ),
          auditTrail,
          runLookup: runIds => tracking.lookupRunSummaries(runIds),
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
        const rolloutConfig = readRolloutConfig(config);
        const rolloutStore = new RolloutStore(db);
        let dataPlane: DataPlaneSupervisor | undefined;
        // Requests are routed by the deployments stored (rollouts first,
        // else the Production version).
        let rolloutRouting: RolloutTrafficRouter | undefined;
        const { service: inference, sessions } = createEmbeddedServing({
          registry,
          logger,
          config: servingConfig,
          observers: inferenceLog.observers,
          featureSource,
          routeWith: production => {
            rolloutRouting = new RolloutTrafficRouter({
              store: rolloutStore,
              environment: rolloutConfig.servingEnvironment,
              environments: rolloutConfig.environments
                .filter(e => e.target === 'embedded')
                .map(e => e.name),
              fallback: production,
              abKeyHeader: rolloutConfig.abKeyHeader,
            });
            return rolloutRouting;
          },
        });

        // Progressive delivery: deployments per model and environment, on
        // the embedded server or on KServe.
        const targets: DeploymentTarget[] = [
          new EmbeddedDeploymentTarget({
            sessions,
            routedElsewhere: (model, environment) =>
              rolloutStore.routedVersions(model, environment),
            onApplied: name => {
              rolloutRouting?.invalidate(name);
              void dataPlane?.refresh(); // the workers route by the new deployment at once
            },
          }),
        ];
        const kserveConfig = readKServeConfig(config);
        if (kserveConfig) {
          targets.push(
            new KServeTarget({
              kubeConfig: kubeConfigFor(kserveConfig),
              namespace: kserveConfig.namespace,
              loggerUrl: kserveConfig.loggerUrl,
              loggerToken: kserveConfig.loggerToken,
            }),
          );
        }
        const rollouts = new RolloutService({
          store: rolloutStore,
          registry,
          logReader: inferenceLog.store,
          targets,
          config: rolloutConfig,
          auditTrail,
          serviceCredentials: () => auth.getOwnServiceCredentials(),
          storageUriOf: version =>
            kserveConfig
              ? storageUriFor(kserveConfig.storageUriTemplate, {
                  modelName: version.name,
                  version: version.version,
                  sha256: version.artifact?.sha256,
                })
              : `loopline://${version.name}/${version.version}`,
          logger,
          listeners: [
            new RolloutMetrics(inferenceLog.metrics.registry),
            rolloutNotifier({ notifications, logger }),
          ],
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
          inferenceRequests: id => inferenceLog.store.getRequest(id),
        });
        httpRouter.use(lineage.router);

        httpRouter.use(
          createRouter({
            jsonBodyLimit,
            // OIP routes answer in the protocol's shape, errors included.
            servingRouter,
            // The KServe logger route parses its own (large) bodies.
            inferenceLogRouter: inferenceLog.router,
            // MLflow's routes answer in MLflow's shapes, errors included.
            mlflowRouter: createMlflowRouter({
              httpAuth,
              permissions,
              logger,
              tracking,
              registry,
              artifacts: mlflowArtifacts,
              jsonBodyLimit,
              artifactBodyLimit: maxArtifactBytes,
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
              }),
              createTrackingRouter({ httpAuth, tracking }),
              createRolloutRouter({ httpAuth, permissions, rollouts }),
              monitoring.router,
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
          frequency: { milliseconds: rolloutConfig.analysisIntervalMs },
          timeout: { minutes: 5 },
          initialDelay: { milliseconds: rolloutConfig.analysisIntervalMs },
          fn: async () => {
            await inferenceLog.inferenceLogger.flush();
            await rollouts.refreshTargetStatuses();
            await rollouts.analyzeAll();
          },
        });
        // One global tick evaluates every Model's drift schedule; a due run
        // is claimed in the database, so it runs once across instances.
        await scheduler.scheduleTask({
          id: 'mlops-monitoring-tick',
          frequency: { seconds: monitoring.config.tickIntervalSeconds },
          timeout: { minutes: 10 },
          initialDelay: { seconds: monitoring.config.tickIntervalSeconds },
          fn: async () => {
            await inferenceLog.inferenceLogger.flush();
            await monitoring.tick();
          },
        });
        // A restart mid-rollout: the targets are told the stored state again.
        lifecycle.addStartupHook(async () => {
          await rollouts.reconcileAll();
        });
        lifecycle.addShutdownHook(async () => {
          await inference.mirrorsSettled(); // shadow copies are logged too
          await inferenceLog.inferenceLogger.close(); // the final flush
          await sessions.close();
        });
        if (servingConfig.dataPlane) {
          // The production path for inference clients: worker processes on a
          // port of their own, routing by tables this backend pushes.
          dataPlane = createDataPlane({
            config: servingConfig.dataPlane,
            serving: servingConfig,
            rolloutRouting: {
              servingEnvironment: rolloutConfig.servingEnvironment,
              environments: rolloutConfig.environments
                .filter(e => e.target === 'embedded')
                .map(e => e.name),
              abKeyHeader: rolloutConfig.abKeyHeader,
            },
            auth,
            permissions,
            registry,
            rolloutStore,
            featureSource,
            observers: inferenceLog.observers,
            logger: logger.child({ service: 'data-plane' }),
            metricsRegistry: inferenceLog.metrics.registry,
          });
          const supervisor = dataPlane;
          lifecycle.addStartupHook(async () => {
            await supervisor.start();
            lifecycle.addShutdownHook(() => supervisor.close());
          });
        }
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
