import type {
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type express from 'express';
import { createDataPlaneRouter } from './router';
import type { Registry } from 'prom-client';
import type { DataPlaneConfig, ServingConfig } from '../serving/config';
import {
  ControlPlaneEndpoint,
  ControlPlaneEndpointOptions,
  DataPlaneSupervisor,
} from './DataPlaneSupervisor';
import { parseByteSize } from './protocol';

export {
  ControlPlaneEndpoint,
  DataPlaneSupervisor,
} from './DataPlaneSupervisor';
export type {
  ControlPlaneEndpointOptions,
  DataPlaneSupervisorOptions,
} from './DataPlaneSupervisor';
export { DataPlaneServer } from './DataPlaneServer';
export {
  ControlPlaneLink,
  DataPlaneAuth,
  EventShipper,
} from './ControlPlaneLink';
export {
  buildRoutingTable,
  TableRegistry,
  TableRolloutStore,
} from './routingTable';
export type { RoutingTable } from './routingTable';
export type { DataPlaneWorkerOptions } from './protocol';
export { runDataPlaneWorker } from './worker';
export { createDataPlaneRouter } from './router';
export { HttpControlPlaneChannel, runStandaloneDataPlane } from './standalone';

/**
 * The data plane wired from config: one endpoint answering every data plane
 * (the worker processes over IPC, standalone ones over HTTP through
 * `router`), and, when `config` is given, the supervisor of its
 * `workers` worker processes on `port`.
 */
export function createDataPlane(
  options: Omit<
    ControlPlaneEndpointOptions,
    'permissionCacheTtlMs' | 'credentialsCacheTtlMs' | 'metricsRegistry'
  > & {
    config?: DataPlaneConfig;
    serving: ServingConfig;
    rolloutRouting: {
      servingEnvironment: string;
      environments: string[];
      abKeyHeader: string;
    };
    httpAuth: HttpAuthService;
    logger: LoggerService;
    metricsRegistry?: Registry;
  },
): {
  endpoint: ControlPlaneEndpoint;
  supervisor?: DataPlaneSupervisor;
  router: express.Router;
} {
  const { config, serving } = options;
  const endpoint = new ControlPlaneEndpoint({
    ...options,
    permissionCacheTtlMs: serving.permissionCacheTtlMs,
    credentialsCacheTtlMs: config?.credentialsCacheTtlMs ?? 60000,
  });
  const router = createDataPlaneRouter({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    endpoint,
    tableMaxAgeMs: config?.routingRefreshMs ?? 2000,
  });
  if (!config) return { endpoint, router };
  const supervisor = new DataPlaneSupervisor({
    endpoint,
    workers: config.workers,
    routingRefreshMs: config.routingRefreshMs,
    logger: options.logger,
    metricsRegistry: options.metricsRegistry,
    worker: {
      port: config.port,
      host: config.host,
      ...(config.grpcPort !== undefined ? { grpcPort: config.grpcPort } : {}),
      jsonBodyLimitBytes: parseByteSize(serving.jsonBodyLimit),
      intraOpNumThreads: serving.intraOpNumThreads,
      interOpNumThreads: serving.interOpNumThreads,
      maxLoadedModels: serving.maxLoadedModels,
      permissionCacheTtlMs: serving.permissionCacheTtlMs,
      credentialsCacheTtlMs: config.credentialsCacheTtlMs,
      logBufferSize: config.logBufferSize,
      ...options.rolloutRouting,
    },
  });
  return { endpoint, supervisor, router };
}
