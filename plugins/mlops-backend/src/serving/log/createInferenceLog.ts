import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import { Knex } from 'knex';
import { ServingMetrics } from '../metrics';
import { InferenceLogConfig } from './config';
import { InferenceLogger } from './InferenceLogger';
import { InferenceLogService } from './InferenceLogService';
import { InferenceLogStore } from './InferenceLogStore';
import { createInferenceLogRouter, InferenceLogRouterOptions } from './router';
import { InferenceEventObserver } from './types';

/** Everything of the inference log, built from its config. */
export interface InferenceLog {
  store: InferenceLogStore;
  /** record/observe, flush, close (shutdown), purge (retention task). */
  inferenceLogger: InferenceLogger;
  service: InferenceLogService;
  metrics: ServingMetrics;
  /** The KServe logger, ground truth, stats, requests and metrics routes. */
  router: express.Router;
  /** For the InferenceService: the metrics first, then the log. */
  observers: InferenceEventObserver[];
}

/** Wires store, logger, metrics, service and router together. */
export function createInferenceLog(options: {
  db: Knex;
  config: InferenceLogConfig;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  registry: InferenceLogRouterOptions['registry'];
  /** ms since the epoch; for tests. */
  clock?: () => number;
}): InferenceLog {
  const { config } = options;
  const store = new InferenceLogStore(options.db);
  const metrics = new ServingMetrics({
    collectDefaultMetrics: config.metrics.collectDefaultMetrics,
    maxModels: config.metrics.maxModels,
  });
  const inferenceLogger = new InferenceLogger({
    store,
    logger: options.logger,
    metrics,
    sampleRate: config.log.sampleRate,
    flushIntervalMs: config.log.flushIntervalMs,
    maxBatchSize: config.log.maxBatchSize,
    maxBufferSize: config.log.maxBufferSize,
    retentionDays: config.log.retentionDays,
    maxPayloadChars: config.log.maxPayloadChars,
    clock: options.clock,
  });
  const service = new InferenceLogService({
    store,
    logger: inferenceLogger,
    clock: options.clock,
  });
  const router = createInferenceLogRouter({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    registry: options.registry,
    service,
    metrics,
    kserveLoggerToken: config.kserveLogger.token,
    kserveBodyLimit: config.kserveLogger.bodyLimit,
    maxStatsWindowSeconds: config.stats.maxWindowSeconds,
    clock: options.clock,
  });
  return {
    store,
    inferenceLogger,
    service,
    metrics,
    router,
    observers: [metrics, inferenceLogger],
  };
}
