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
import { EventsService } from '@backstage/plugin-events-node';
import {
  DATASET_VERSION_TOPIC,
  DatasetVersionPayload,
} from '@loopline/mlops-common';
import { nodeIds } from './model';
import type { NewDatasetVersion } from './LineageService';
import { RegistryService } from '../registry';
import { TrackingService } from '../tracking';

export { LineageService, InvalidEventError } from './LineageService';
export { LineageStore } from './LineageStore';
export { OpenLineageValidator } from './OpenLineageValidator';
export { createLineageRouter, OPENLINEAGE_PATH } from './router';
export { LineageCatalog, lineageNameOf } from './LineageCatalog';
export { LineageImpactService } from './LineageImpact';
export {
  LooplineEmitter,
  runUuidOf,
  deploymentLineageId,
} from './LooplineEmitter';
export type { LineageEvent, RunEvent, DatasetEvent, JobEvent } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Announces new dataset versions on the events service, each with the
 * catalog Dataset that names it (pipelines' dataset-update triggers).
 * Never throws: the versions are stored whatever happens here.
 */
export async function publishDatasetVersions(
  versions: NewDatasetVersion[],
  catalog: Pick<LineageCatalog, 'linksFor'>,
  events: Pick<EventsService, 'publish'>,
  logger: LoggerService,
): Promise<void> {
  try {
    const links = await catalog
      .linksFor(versions.map(v => nodeIds.dataset(v)))
      .catch(error => {
        logger.warn(`Lineage: no catalog links for new versions: ${error}`);
        return [];
      });
    const refByNode = new Map(links.map(l => [l.nodeId, l.entityRef]));
    for (const v of versions) {
      const ref = refByNode.get(nodeIds.dataset(v));
      const payload: DatasetVersionPayload = {
        namespace: v.namespace,
        name: v.name,
        version: v.version,
        // Only a Dataset (a model's dataset links to its Model).
        ...(ref?.startsWith('dataset:') ? { entityRef: ref } : {}),
        producedAt: new Date(v.createdAt).toISOString(),
      };
      await events.publish({
        topic: DATASET_VERSION_TOPIC,
        eventPayload: payload,
      });
    }
  } catch (error) {
    logger.warn(`Lineage: could not announce new dataset versions: ${error}`);
  }
}

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
  /** Where new dataset versions are announced (`loopline.lineage.dataset-version`). */
  events?: EventsService;
  /** The inference log's lookup of a request id, for prediction provenance. */
  inferenceRequests?: ProvenanceSources['getRequest'];
}): Promise<{
  service: LineageService;
  router: express.Router;
  /** Loopline's own events: MLflow run I/O and rollouts report here. */
  emitter: LooplineEmitter;
}> {
  const config = readLineageConfig(options.config);
  const store = new LineageStore(options.db);
  const { registry, tracking, events, logger } = options;
  const catalogLink = new LineageCatalog(
    options.catalog,
    options.auth,
    registry,
  );
  const service = new LineageService(
    store,
    new OpenLineageValidator(),
    Date.now,
    events
      ? versions =>
          publishDatasetVersions(versions, catalogLink, events, logger)
      : undefined,
  );
  // Registrations are recorded as lineage: run → model version.
  const emitter = new LooplineEmitter({
    getRun: runId => tracking.getRun(runId),
    getExperimentName: async id => (await tracking.getExperiment(id)).name,
    datasetIdOf: ref => catalogLink.datasetIdOf(ref),
    ingest: event => service.ingest(event),
    logger,
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
  return { service, router, emitter };
}
