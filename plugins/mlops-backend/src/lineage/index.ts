import {
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

export { LineageService, InvalidEventError } from './LineageService';
export { LineageStore } from './LineageStore';
export { OpenLineageValidator } from './OpenLineageValidator';
export { createLineageRouter, OPENLINEAGE_PATH } from './router';
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
}): Promise<{ service: LineageService; router: express.Router }> {
  const config = readLineageConfig(options.config);
  const store = new LineageStore(options.db);
  const service = new LineageService(store, new OpenLineageValidator());
  const router = createLineageRouter({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    logger: options.logger,
    lineage: service,
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
