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

type EmbeddedServingConfig = Pick<
  ServingConfig,
  | 'intraOpNumThreads'
  | 'interOpNumThreads'
  | 'maxLoadedModels'
  | 'routingCacheTtlMs'
>;

/** What loads versions and what routes to Production: built first, so routers in front of them (rollouts) can use both. */
export interface EmbeddedServingParts {
  sessions: ModelSessions;
  /** Routes to Production; unloads a version once Production moves past it. */
  trafficRouter: ProductionTrafficRouter;
}

/** The sessions and the Production traffic router of the embedded server. */
export function createEmbeddedServingParts(options: {
  registry: ServingRegistry;
  logger: LoggerService;
  config: EmbeddedServingConfig;
}): EmbeddedServingParts {
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
  return { sessions, trafficRouter };
}

/**
 * The embedded server's parts wired together: sessions, the Production
 * traffic router (which unloads a version once Production moves past it),
 * and the service.
 */
export function createEmbeddedServing(options: {
  registry: ServingRegistry;
  logger: LoggerService;
  config: EmbeddedServingConfig;
  observers?: InferenceObserver[];
  featureSource?: FeatureSchemaSource;
  /** Parts built beforehand (`createEmbeddedServingParts`); default: built here. */
  parts?: EmbeddedServingParts;
  /**
   * Routes requests in front of the Production router (e.g. by rollouts),
   * falling back to it; default: the Production router alone.
   */
  routeWith?: (production: ProductionTrafficRouter) => TrafficRouter;
}): EmbeddedServingParts & { service: InferenceService } {
  const { registry, logger, config } = options;
  const { sessions, trafficRouter } =
    options.parts ?? createEmbeddedServingParts({ registry, logger, config });
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
