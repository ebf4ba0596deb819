/**
 * Which version serves a request that names no version. The default sends
 * everything to the version in Production; rollouts (canary, A/B) plug in
 * their own TrafficRouter later.
 */
import { NotFoundError } from '@backstage/errors';
import type { RegistryService } from '../registry';
import { TtlCache } from '../lib/TtlCache';

/** Where one request goes. */
export interface TrafficRoute {
  version: number;
  /** The arm of a rollout that took the request (`stable`, `candidate`); absent without one. */
  endpoint?: string;
  /**
   * When the routed version fails, the request is answered by this one
   * instead (a rollout's stable version behind its candidate), so no client
   * sees a candidate's failure.
   */
  fallback?: { version: number; endpoint: string };
  /**
   * A copy of the request also goes to this version (shadow traffic): its
   * answer is logged under `endpoint`, never returned.
   */
  mirror?: { version: number; endpoint: string };
}

/** What a router may read of a request besides its key (e.g. an A/B key). */
export interface RoutingHints {
  header(name: string): string | undefined;
  /** The OIP request's `parameters`. */
  parameters?: Record<string, unknown>;
}

export interface TrafficRouter {
  /**
   * The version for a request to `modelName`. `requestKey` (the request's id)
   * lets a weighted router split traffic per request, reproducibly. Throws
   * NotFoundError when the model has nothing to serve.
   */
  resolve(
    modelName: string,
    requestKey?: string,
    hints?: RoutingHints,
  ): Promise<TrafficRoute>;
}

export interface ProductionTrafficRouterOptions {
  registry: Pick<RegistryService, 'getLatestVersions'>;
  /** How long a model's Production version is remembered. Default 2000 ms. */
  cacheTtlMs?: number;
  /**
   * Called when a model's Production version is seen to change (e.g. to
   * unload the replaced version): `previous` and `current` are undefined when
   * there was, or is, no version in Production.
   */
  onChange?: (
    modelName: string,
    previous: number | undefined,
    current: number | undefined,
  ) => void;
  /** Milliseconds; for tests. */
  clock?: () => number;
}

/** Every request goes to the model's highest-numbered version in Production. */
export class ProductionTrafficRouter implements TrafficRouter {
  private readonly registry: Pick<RegistryService, 'getLatestVersions'>;
  private readonly cache: TtlCache<TrafficRoute>;
  private readonly onChange?: ProductionTrafficRouterOptions['onChange'];
  /** The last version seen per model, to report changes. */
  private readonly lastSeen = new Map<string, number | undefined>();

  constructor(options: ProductionTrafficRouterOptions) {
    this.registry = options.registry;
    this.onChange = options.onChange;
    this.cache = new TtlCache<TrafficRoute>({
      ttlMs: options.cacheTtlMs ?? 2000,
      cacheError: error => isNotFound(error),
      clock: options.clock,
    });
  }

  resolve(modelName: string, _requestKey?: string): Promise<TrafficRoute> {
    return this.cache.get(modelName, () => this.lookup(modelName));
  }

  /** Forgets what is cached for one model (e.g. right after a stage transition), or for all. */
  invalidate(modelName?: string): void {
    this.cache.invalidate(modelName);
  }

  private async lookup(modelName: string): Promise<TrafficRoute> {
    let current: number | undefined;
    try {
      const [production] = await this.registry.getLatestVersions(modelName, [
        'Production',
      ]);
      current = production?.version;
    } catch (error) {
      if (isNotFound(error)) {
        this.noteVersion(modelName, undefined);
        throw new NotFoundError(`Model with name ${modelName} does not exist.`);
      }
      throw error;
    }
    this.noteVersion(modelName, current);
    if (current === undefined) {
      throw new NotFoundError(
        `Model ${modelName} has no version in Production`,
      );
    }
    return { version: current };
  }

  private noteVersion(modelName: string, current: number | undefined) {
    const known = this.lastSeen.has(modelName);
    const previous = this.lastSeen.get(modelName);
    if (current === undefined) {
      this.lastSeen.delete(modelName);
    } else {
      this.lastSeen.set(modelName, current);
    }
    if (known && previous !== current && this.onChange) {
      try {
        this.onChange(modelName, previous, current);
      } catch {
        // A listener's failure must not fail routing.
      }
    }
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: string })?.name === 'NotFoundError';
}
