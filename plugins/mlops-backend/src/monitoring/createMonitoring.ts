import type {
  AuthService,
  SchedulerService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { EventsService } from '@backstage/plugin-events-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { AuditTrail } from '../audit';
import { readDataset } from '../datasets';
import { createAlerter } from './alerts';
import { CatalogModelDirectory } from './catalog';
import { readMonitoringConfig } from './config';
import { MonitoringMetrics } from './metrics';
import { MonitoringStore } from './MonitoringStore';
import { InferenceWindowReader, MonitoringService } from './MonitoringService';
import { createMonitoringRouter } from './router';

/**
 * The monitoring domain wired: store, service, router, and the scheduler's
 * tick (`tick`, to run as one global task).
 */
export function createMonitoring(options: {
  db: Knex;
  config: Config;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auth: AuthService;
  catalog: CatalogService;
  log: InferenceWindowReader;
  featureNamesOf: (modelName: string) => Promise<string[] | undefined>;
  /** The registry's Production version of a Model (the overview shows it). */
  productionVersionOf?: (modelName: string) => Promise<number | undefined>;
  /** `mlops.api.jsonBodyLimit`: the body limit of the routes other than compare. */
  jsonBodyLimit: string;
  metricsRegistry: Registry;
  events?: EventsService;
  notifications?: NotificationService;
  auditTrail?: AuditTrail;
}) {
  const config = readMonitoringConfig(options.config);
  const store = new MonitoringStore(options.db);
  const service = new MonitoringService({
    store,
    models: new CatalogModelDirectory({
      catalog: options.catalog,
      auth: options.auth,
    }),
    log: options.log,
    featureNamesOf: options.featureNamesOf,
    productionVersionOf: options.productionVersionOf,
    auditTrail: options.auditTrail,
    readDataset: (location, format) => readDataset(location, { format }),
    config,
    metrics: new MonitoringMetrics(options.metricsRegistry),
    alerter: createAlerter({
      store,
      events: options.events,
      notifications: options.notifications,
      auditTrail: options.auditTrail,
      serviceCredentials: () => options.auth.getOwnServiceCredentials(),
      logger: options.logger,
      alertmanagerUrl: config.alertmanagerUrl,
      appBaseUrl: options.config.getOptionalString('app.baseUrl'),
    }),
    logger: options.logger,
  });
  return {
    service,
    config,
    router: createMonitoringRouter({
      httpAuth: options.httpAuth,
      permissions: options.permissions,
      monitoring: service,
      maxCompareColumns: config.maxCompareColumns,
      jsonBodyLimit: options.jsonBodyLimit,
      compareBodyLimit: config.compareBodyLimit,
    }),
    tick: () => service.tick(),
    /**
     * One global scheduler task evaluates every Model's drift schedule (a
     * due run is claimed in the database, so it runs once across instances);
     * `beforeTick` flushes the inference log first.
     */
    schedule: (scheduler: SchedulerService, beforeTick: () => Promise<void>) =>
      scheduler.scheduleTask({
        id: 'mlops-monitoring-tick',
        frequency: { seconds: config.tickIntervalSeconds },
        timeout: { minutes: 10 },
        initialDelay: { seconds: config.tickIntervalSeconds },
        fn: async () => {
          await beforeTick();
          await service.tick();
        },
      }),
  };
}
