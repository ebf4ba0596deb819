import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Registry } from 'prom-client';
import type { DataPlaneConfig, ServingConfig } from '../config';
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

/**
 * The data plane wired from config: one endpoint answering every worker, and
 * the supervisor of `dataPlane.workers` worker processes on `dataPlane.port`.
 */
export function createDataPlane(
  options: Omit<
    ControlPlaneEndpointOptions,
    'permissionCacheTtlMs' | 'credentialsCacheTtlMs' | 'metricsRegistry'
  > & {
    config: DataPlaneConfig;
    serving: ServingConfig;
    rolloutRouting: {
      servingEnvironment: string;
      environments: string[];
      abKeyHeader: string;
    };
    logger: LoggerService;
    metricsRegistry?: Registry;
  },
): DataPlaneSupervisor {
  const { config, serving } = options;
  const endpoint = new ControlPlaneEndpoint({
    ...options,
    permissionCacheTtlMs: serving.permissionCacheTtlMs,
    credentialsCacheTtlMs: config.credentialsCacheTtlMs,
  });
  return new DataPlaneSupervisor({
    endpoint,
    workers: config.workers,
    routingRefreshMs: config.routingRefreshMs,
    logger: options.logger,
    metricsRegistry: options.metricsRegistry,
    worker: {
      port: config.port,
      host: config.host,
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
}
