import { LoggerService } from '@backstage/backend-plugin-api';
import { ServingConfig } from './config';
import { FeatureSchemaSource } from './features';
import {
  InferenceObserver,
  InferenceService,
  ServingRegistry,
} from './InferenceService';
import { ModelSessions } from './ModelSessions';
import { ProductionTrafficRouter, TrafficRouter } from './TrafficRouter';

/**
 * The embedded server's parts wired together: sessions, the Production
 * traffic router (which unloads a version once Production moves past it),
 * and the service.
 */
export function createEmbeddedServing(options: {
  registry: ServingRegistry;
  logger: LoggerService;
  config: Pick<
    ServingConfig,
    | 'intraOpNumThreads'
    | 'interOpNumThreads'
    | 'maxLoadedModels'
    | 'routingCacheTtlMs'
  >;
  observers?: InferenceObserver[];
  featureSource?: FeatureSchemaSource;
  /**
   * Routes requests in front of the Production router (e.g. by rollouts),
   * falling back to it; default: the Production router alone.
   */
  routeWith?: (production: ProductionTrafficRouter) => TrafficRouter;
}): {
  sessions: ModelSessions;
  trafficRouter: ProductionTrafficRouter;
  service: InferenceService;
} {
  const { registry, logger, config } = options;
  const sessions = new ModelSessions({
    registry,
    logger,
    intraOpNumThreads: config.intraOpNumThreads,
    interOpNumThreads: config.interOpNumThreads,
    maxLoaded: config.maxLoadedModels,
  });
  const trafficRouter = new ProductionTrafficRouter({
    registry,
    cacheTtlMs: config.routingCacheTtlMs,
    onChange: (modelName, previous) => {
      if (previous !== undefined) {
        void sessions.unload(modelName, previous);
      }
    },
  });
  const service = new InferenceService({
    registry,
    sessions,
    trafficRouter: options.routeWith?.(trafficRouter) ?? trafficRouter,
    observers: options.observers,
    featureSource: options.featureSource,
    logger,
    cacheTtlMs: config.routingCacheTtlMs,
  });
  return { sessions, trafficRouter, service };
}
