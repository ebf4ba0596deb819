import type {
  HttpAuthService,
  LifecycleService,
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
export {
  HttpControlPlaneChannel,
  runStandaloneDataPlane,
  standaloneSettingsFromEnv,
} from './standalone';

/**
 * Deployments are built before the data plane in the plugin's wiring order,
 * yet a deployment applied must reach the workers at once: this hook is
 * handed to the rollouts first and forwards to the supervisor once it exists.
 */
export class RoutingRefreshHook {
  private target?: Pick<DataPlaneSupervisor, 'refresh'>;

  /** For `createRollouts({ onDeploymentApplied })`. */
  readonly onDeploymentApplied = (): void => {
    void this.target?.refresh();
  };

  attach(target: Pick<DataPlaneSupervisor, 'refresh'>): void {
    this.target = target;
  }
}

/**
 * Starts the supervisor with the backend and stops it with it. A data plane
 * that cannot start (its port taken, a worker that cannot listen) is logged
 * as an error naming the port and its config key, and its workers stopped;
 * the backend (the control plane, the portal's own `/api/mlops/v2` routes)
 * stays up, as a platform engineer expects of an optional listener: one
 * misconfigured port should not take the catalog down with it.
 */
export function startWithBackend(
  supervisor: Pick<DataPlaneSupervisor, 'start' | 'close'>,
  lifecycle: Pick<LifecycleService, 'addStartupHook' | 'addShutdownHook'>,
  logger: LoggerService,
  where: { port: number; grpcPort?: number },
): void {
  lifecycle.addStartupHook(async () => {
    lifecycle.addShutdownHook(() => supervisor.close());
    try {
      await supervisor.start();
    } catch (error) {
      await supervisor.close().catch(() => {});
      logger.error(
        `The serving data plane did not start, so it serves nothing: ${
          (error as Error)?.message
        }. Check that port ${where.port} (mlops.serving.dataPlane.port)${
          where.grpcPort !== undefined
            ? ` and ${where.grpcPort} (mlops.serving.dataPlane.grpcPort)`
            : ''
        } are free; the backend and its /api/mlops routes keep running.`,
      );
    }
  });
}

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
    /** mlops.serving.log.sampleRate: decided in the workers, so unsampled events ship without tensors. */
    logSampleRate?: number;
    /** Given: the supervisor starts and stops with the backend (startWithBackend). */
    lifecycle?: Pick<LifecycleService, 'addStartupHook' | 'addShutdownHook'>;
    /** Given: deployments applied refresh the workers' table through it. */
    refreshHook?: RoutingRefreshHook;
  },
): {
  endpoint: ControlPlaneEndpoint;
  supervisor?: DataPlaneSupervisor;
  router: express.Router;
} {
  const { config, serving } = options;
  const endpoint = new ControlPlaneEndpoint({
    ...options,
    rateLimits: config?.rateLimits,
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
      rateLimited: config.rateLimits !== undefined,
      ...(options.logSampleRate !== undefined
        ? { logSampleRate: options.logSampleRate }
        : {}),
      ...options.rolloutRouting,
    },
  });
  options.refreshHook?.attach(supervisor);
  if (options.lifecycle) {
    startWithBackend(supervisor, options.lifecycle, options.logger, config);
  }
  return { endpoint, supervisor, router };
}
