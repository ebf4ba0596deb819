import {
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
  RootConfigService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import express from 'express';
import { LineageService } from './LineageService';
import { LineageStore } from './LineageStore';
import { OpenLineageValidator } from './OpenLineageValidator';
import { createLineageRouter } from './router';
import { LineageCatalog } from './LineageCatalog';
import { LineageImpactService, ProvenanceSources } from './LineageImpact';
import { LooplineEmitter } from './LooplineEmitter';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { RegistryService } from '../registry';
import { TrackingService } from '../tracking';

export { LineageService, InvalidEventError } from './LineageService';
export { LineageStore } from './LineageStore';
export { OpenLineageValidator } from './OpenLineageValidator';
export { createLineageRouter, OPENLINEAGE_PATH } from './router';
export { LineageCatalog, lineageNameOf } from './LineageCatalog';
export { LineageImpactService } from './LineageImpact';
export { LooplineEmitter, runUuidOf } from './LooplineEmitter';
export type { LineageEvent, RunEvent, DatasetEvent, JobEvent } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `mlops.lineage.*`: body limit and retention. */
export interface LineageConfig {
  jsonBodyLimit: string;
  /** Days of raw events, finished runs and superseded dataset versions kept; undefined keeps all. */
  retentionDays: number | undefined;
}

export function readLineageConfig(config: RootConfigService): LineageConfig {
  return {
    jsonBodyLimit:
      config.getOptionalString('mlops.lineage.jsonBodyLimit') ?? '5mb',
    retentionDays: config.getOptionalNumber('mlops.lineage.retentionDays'),
  };
}

/**
 * Lineage: the OpenLineage ingest and the Marquez-compatible read API
 * (`/api/mlops/openlineage/api/v1`), and the retention task.
 */
export async function createLineage(options: {
  db: Knex;
  config: RootConfigService;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  scheduler: SchedulerService;
  auth: AuthService;
  catalog: CatalogService;
  registry: RegistryService;
  tracking: TrackingService;
  /** The inference log's lookup of a request id, for prediction provenance. */
  inferenceRequests?: ProvenanceSources['getRequest'];
}): Promise<{ service: LineageService; router: express.Router }> {
  const config = readLineageConfig(options.config);
  const store = new LineageStore(options.db);
  const service = new LineageService(store, new OpenLineageValidator());
  const { registry, tracking } = options;
  const catalogLink = new LineageCatalog(
    options.catalog,
    options.auth,
    registry,
  );
  // Registrations are recorded as lineage: run → model version.
  const emitter = new LooplineEmitter({
    getRun: runId => tracking.getRun(runId),
    getExperimentName: async id => (await tracking.getExperiment(id)).name,
    datasetIdOf: ref => catalogLink.datasetIdOf(ref),
    ingest: event => service.ingest(event),
    logger: options.logger,
  });
  registry.addVersionListener(version => emitter.versionRegistered(version));
  const router = createLineageRouter({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    logger: options.logger,
    lineage: service,
    impact: new LineageImpactService(service, catalogLink, registry, {
      getRequest: async requestId =>
        options.inferenceRequests ? options.inferenceRequests(requestId) : [],
      getVersion: (name, version) => registry.getVersion(name, version),
      getRun: runId => tracking.getRun(runId),
    }),
    jsonBodyLimit: config.jsonBodyLimit,
  });
  const { retentionDays } = config;
  if (retentionDays !== undefined) {
    await options.scheduler.scheduleTask({
      id: 'mlops-lineage-retention',
      frequency: { hours: 1 },
      timeout: { minutes: 10 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        const purged = await store.purgeBefore(
          Date.now() - retentionDays * DAY_MS,
        );
        options.logger.info(
          `Lineage retention: removed ${purged.events} events, ${purged.runs} runs, ${purged.datasetVersions} dataset versions`,
        );
      },
    });
  }
  return { service, router };
}
