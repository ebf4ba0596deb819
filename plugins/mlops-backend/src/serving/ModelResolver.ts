/**
 * Finds what a request names: the registered model (404 when unknown), a
 * version of it, or else the version the traffic router picks. Lookups are
 * cached briefly (unknown names too), so a flood of requests does not
 * become a flood of registry reads.
 */
import { NotFoundError } from '@backstage/errors';
import { ModelVersion } from '@loopline/mlops-common';
import { TtlCache } from '../lib/TtlCache';
import type { ModelRef, ServingRegistry } from './InferenceService';
import { parseVersion } from '../lib/version';
import { RoutingHints, TrafficRoute, TrafficRouter } from './TrafficRouter';

export class ModelResolver {
  private readonly registry: Pick<
    ServingRegistry,
    'getRegisteredModel' | 'getVersion'
  >;
  private readonly trafficRouter: TrafficRouter;
  private readonly models: TtlCache<ModelRef>;
  private readonly versions: TtlCache<ModelVersion>;

  constructor(options: {
    registry: Pick<ServingRegistry, 'getRegisteredModel' | 'getVersion'>;
    trafficRouter: TrafficRouter;
    /** How long lookups are kept. Default 2000 ms. */
    cacheTtlMs?: number;
  }) {
    this.registry = options.registry;
    this.trafficRouter = options.trafficRouter;
    const ttlMs = options.cacheTtlMs ?? 2000;
    const cacheError = (error: unknown) =>
      (error as { name?: string })?.name === 'NotFoundError';
    this.models = new TtlCache({ ttlMs, cacheError, maxEntries: 10000 });
    this.versions = new TtlCache({ ttlMs, cacheError, maxEntries: 10000 });
  }

  requireModel(modelName: string): Promise<ModelRef> {
    return this.models.get(modelName, async () => {
      try {
        const model = await this.registry.getRegisteredModel(modelName);
        return { name: model.name, entityRef: model.entityRef };
      } catch (error) {
        if ((error as Error)?.name === 'NotFoundError') {
          throw new NotFoundError(
            `Model with name ${modelName} does not exist.`,
          );
        }
        throw error;
      }
    });
  }

  requireVersion(name: string, version: number): Promise<ModelVersion> {
    return this.versions.get(`${version}\u0000${name}`, async () => {
      try {
        return await this.registry.getVersion(name, version);
      } catch (error) {
        if ((error as Error)?.name === 'NotFoundError') {
          throw new NotFoundError(`Model ${name} has no version ${version}`);
        }
        throw error;
      }
    });
  }

  /** The version asked for (it must exist), else the traffic router's choice. */
  async routeVersion(
    name: string,
    version: number | string | undefined,
    requestKey?: string,
    hints?: RoutingHints,
  ): Promise<TrafficRoute> {
    if (version === undefined) {
      return this.trafficRouter.resolve(name, requestKey, hints);
    }
    const number = parseVersion(version);
    await this.requireVersion(name, number);
    return { version: number };
  }
}
