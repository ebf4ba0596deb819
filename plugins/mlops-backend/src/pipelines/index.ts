import {
  AuthService,
  DiscoveryService,
  HttpAuthService,
  LifecycleService,
  LoggerService,
  PermissionsService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { EventsService } from '@backstage/plugin-events-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import {
  DATASET_VERSION_TOPIC,
  DatasetVersionPayload,
  MONITORING_ALERT_TOPIC,
  MonitoringAlertEvent,
} from '@loopline/mlops-common';
import { Knex } from 'knex';
import type { AuditTrail } from '../audit';
import type { RegistryService } from '../registry';
import type { RolloutService } from '../rollout';
import type { TrackingService } from '../tracking';
import type { DatasetValidationService, GateService } from '../quality';
import { createBuiltinSteps } from './builtins';
import { CatalogPipelineSource } from './catalog';
import { pipelineKubeConfig, readPipelinesConfig } from './config';
import { openLineageEmitter, pipelineNotifier } from './listeners';
import { PipelineService } from './PipelineService';
import { PipelineStore } from './PipelineStore';
import { createPipelinesRouter } from './router';
import { KubernetesRunner } from './runners/KubernetesRunner';
import { LocalRunner } from './runners/LocalRunner';
import { PipelineTriggers } from './triggers';

export { PipelineService } from './PipelineService';
export type { BuiltinStep, PipelineRunListener } from './PipelineService';
export { PipelineStore } from './PipelineStore';
export { PipelineTriggers } from './triggers';
export { LocalRunner } from './runners/LocalRunner';
export { KubernetesRunner } from './runners/KubernetesRunner';
export { createPipelinesRouter } from './router';
export { readPipelinesConfig } from './config';
export { createBuiltinSteps } from './builtins';

/**
 * Pipeline runs, wired: the store, the local runner, the service, the
 * triggers (a global scheduler tick for schedules and Dataset changes, the
 * events `loopline.monitoring.alert` and `loopline.lineage.dataset-version`),
 * the router, and the lifecycle (recovery at startup, steps stopped at
 * shutdown).
 */
export async function createPipelines(options: {
  config: Config;
  db: Knex;
  logger: LoggerService;
  auth: AuthService;
  discovery: DiscoveryService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  notifications: NotificationService;
  scheduler: SchedulerService;
  lifecycle: LifecycleService;
  events: EventsService;
  auditTrail: AuditTrail;
  tracking: TrackingService;
  registry: RegistryService;
  rollouts: Pick<RolloutService, 'start'>;
  gates?: GateService;
  validations?: DatasetValidationService;
}) {
  const { config, logger, auth, discovery } = options;
  const settings = readPipelinesConfig(config);
  const store = new PipelineStore(options.db);
  const source = new CatalogPipelineSource(options.catalog, auth);
  const ownBaseUrl = () => discovery.getBaseUrl('mlops');
  // A token the steps (and the lineage emitter) send back to us; a plugin
  // request token lives about an hour.
  const ownToken = async () =>
    (
      await auth.getPluginRequestToken({
        onBehalfOf: await auth.getOwnServiceCredentials(),
        targetPluginId: 'mlops',
      })
    ).token;
  const openLineageUrl = async () =>
    settings.openLineageUrl ?? `${await ownBaseUrl()}/openlineage`;

  const localRunner = new LocalRunner({
    workspaceRoot: settings.workspaceDirectory,
    defaultTimeoutSeconds: settings.defaultTimeoutSeconds,
    passEnv: settings.passEnv,
  });
  const kubernetes = settings.kubernetes;
  const kubernetesRunner = kubernetes
    ? new KubernetesRunner({
        kubeConfigOf: cluster => pipelineKubeConfig(config, cluster),
        ...kubernetes,
      })
    : undefined;
  // Resolved now, so that a misnamed cluster fails at startup.
  if (kubernetes?.cluster) pipelineKubeConfig(config, kubernetes.cluster);
  const service = new PipelineService({
    store,
    pipelines: source,
    runners: kubernetesRunner ? [localRunner, kubernetesRunner] : [localRunner],
    builtins: createBuiltinSteps({
      tracking: options.tracking,
      registry: options.registry,
      rollouts: options.rollouts,
      workspaceOf: runId => localRunner.workspaceOf(runId),
      gates: options.gates,
      validations: options.validations,
      serviceCredentials: () => auth.getOwnServiceCredentials(),
    }),
    stepEnvironment: async () => {
      const token = await ownToken();
      return {
        MLFLOW_TRACKING_URI:
          settings.trackingUri ?? `${await ownBaseUrl()}/mlflow`,
        MLFLOW_TRACKING_TOKEN: token,
        OPENLINEAGE_URL: await openLineageUrl(),
        OPENLINEAGE__TRANSPORT__TYPE: 'http',
        OPENLINEAGE__TRANSPORT__AUTH__TYPE: 'api_key',
        OPENLINEAGE__TRANSPORT__AUTH__API_KEY: token,
      };
    },
    auditTrail: options.auditTrail,
    serviceCredentials: () => auth.getOwnServiceCredentials(),
    listeners: [
      pipelineNotifier({ notifications: options.notifications, logger }),
      openLineageEmitter({ url: openLineageUrl, token: ownToken, logger }),
    ],
    logger,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    staleAfterMs: settings.staleAfterMs,
    maxLogLinesPerStep: settings.maxLogLinesPerStep,
  });
  const triggers = new PipelineTriggers({
    service,
    pipelines: source,
    store,
    datasets: source,
    serviceCredentials: () => auth.getOwnServiceCredentials(),
    logger,
    maxLatenessMs: settings.maxLatenessMs,
  });

  await options.events.subscribe({
    id: 'mlops-pipelines',
    topics: [MONITORING_ALERT_TOPIC, DATASET_VERSION_TOPIC],
    onEvent: async params => {
      if (params.topic === MONITORING_ALERT_TOPIC) {
        await triggers.onMonitoringAlert(
          params.eventPayload as MonitoringAlertEvent,
        );
      } else if (params.topic === DATASET_VERSION_TOPIC) {
        await triggers.onDatasetVersion(
          params.eventPayload as DatasetVersionPayload,
        );
      }
    },
  });

  // One tick a minute across all instances: due schedule slots and changed
  // Datasets become runs (idempotently), abandoned runs are failed, queued
  // runs find a free slot.
  await options.scheduler.scheduleTask({
    id: 'mlops-pipeline-triggers',
    scope: 'global',
    frequency: { cron: '* * * * *' },
    timeout: { minutes: 5 },
    fn: async () => {
      await triggers.tick();
      await service.recoverAbandonedRuns();
      await service.dispatch();
    },
  });
  await options.scheduler.scheduleTask({
    id: 'mlops-pipeline-log-purge',
    frequency: { hours: 6 },
    timeout: { minutes: 10 },
    initialDelay: { minutes: 2 },
    fn: async () => {
      const deleted = await service.purgeLogs(settings.logRetentionDays);
      if (deleted > 0) logger.info(`Purged ${deleted} pipeline log lines`);
    },
  });
  if (kubernetesRunner) {
    // Finished Jobs whose own cleanup timer was lost (restart), on clusters without the TTL controller.
    await options.scheduler.scheduleTask({
      id: 'mlops-pipeline-job-cleanup',
      frequency: { minutes: 30 },
      timeout: { minutes: 5 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        const deleted = await kubernetesRunner.cleanupFinishedJobs();
        if (deleted.length > 0) {
          logger.info(`Deleted ${deleted.length} finished pipeline Jobs`);
        }
      },
    });
  }
  options.lifecycle.addStartupHook(async () => {
    service.start();
    await service.recoverAbandonedRuns();
    await service.dispatch();
  });
  options.lifecycle.addShutdownHook(() => service.shutdown());

  return {
    service,
    triggers,
    router: createPipelinesRouter({
      httpAuth: options.httpAuth,
      permissions: options.permissions,
      pipelines: service,
    }),
  };
}
