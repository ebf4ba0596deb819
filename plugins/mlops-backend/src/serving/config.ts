import { Config } from '@backstage/config';

/** The embedded server's settings, from `mlops.serving` (with defaults). */
export interface ServingConfig {
  /** Largest JSON body of the infer and predict routes. */
  jsonBodyLimit: string;
  intraOpNumThreads: number;
  interOpNumThreads: number;
  /** Most sessions kept in memory. */
  maxLoadedModels: number;
  /** How long a model's Production version (and registry lookups) are cached. */
  routingCacheTtlMs: number;
  /** How long a permission decision is reused per caller and model. */
  permissionCacheTtlMs: number;
  /** Load every Production version at startup. */
  preload: boolean;
  /**
   * The data plane: the OIP and predict routes on a port of their own,
   * served by worker processes (see src/dataPlane); absent: only the
   * routes under /api/mlops.
   */
  dataPlane?: DataPlaneConfig;
}

/** `mlops.serving.dataPlane`. */
export interface DataPlaneConfig {
  port: number;
  host: string;
  /** OIP over gRPC on this port too (absent: HTTP only). */
  grpcPort?: number;
  /** Worker processes sharing the port; each has its own event loop and sessions. */
  workers: number;
  /** How often the control plane rebuilds the routing table (pushed only when it changed). */
  routingRefreshMs: number;
  /** Log events a worker holds for the control plane; beyond it the oldest are dropped and counted. */
  logBufferSize: number;
  /** How long a token's verification is reused (never past the token's expiry). */
  credentialsCacheTtlMs: number;
  /** Rate limits per principal on the inference routes; absent: none. */
  rateLimits?: RateLimitConfig;
}

/**
 * Reads `mlops.serving.*`: `jsonBodyLimit` (default `mlops.api.jsonBodyLimit`,
 * else `1mb`), `intraOpNumThreads` (1), `interOpNumThreads` (1),
 * `maxLoadedModels` (16), `routingCacheTtlMs` (2000), `permissionCacheTtlMs`
 * (5000), `preload` (false); `dataPlane.*` when `dataPlane.port` is set:
 * `host` (0.0.0.0), `workers` (1), `routingRefreshMs` (2000),
 * `logBufferSize` (10000), `credentialsCacheTtlMs` (60000).
 */
export function readServingConfig(config: Config): ServingConfig {
  const serving = config.getOptionalConfig('mlops.serving');
  const count = (key: string, fallback: number, min: number) => {
    const value = serving?.getOptionalNumber(key);
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new Error(
        `Invalid config mlops.serving.${key}: ${value}; it must be an integer of at least ${min}`,
      );
    }
    return value;
  };
  return {
    jsonBodyLimit:
      serving?.getOptionalString('jsonBodyLimit') ??
      config.getOptionalString('mlops.api.jsonBodyLimit') ??
      '1mb',
    intraOpNumThreads: count('intraOpNumThreads', 1, 1),
    interOpNumThreads: count('interOpNumThreads', 1, 1),
    maxLoadedModels: count('maxLoadedModels', 16, 1),
    routingCacheTtlMs: count('routingCacheTtlMs', 2000, 0),
    permissionCacheTtlMs: count('permissionCacheTtlMs', 5000, 0),
    preload: serving?.getOptionalBoolean('preload') ?? false,
    dataPlane: serving?.has('dataPlane.port')
      ? {
          port: count('dataPlane.port', 0, 1),
          host: serving.getOptionalString('dataPlane.host') ?? '0.0.0.0',
          ...(serving.has('dataPlane.grpcPort')
            ? { grpcPort: count('dataPlane.grpcPort', 0, 0) }
            : {}),
          workers: count('dataPlane.workers', 1, 1),
          routingRefreshMs: count('dataPlane.routingRefreshMs', 2000, 100),
          logBufferSize: count('dataPlane.logBufferSize', 10000, 1),
          credentialsCacheTtlMs: count(
            'dataPlane.credentialsCacheTtlMs',
            60000,
            0,
          ),
          ...(serving.has('dataPlane.rateLimits')
            ? {
                rateLimits: readRateLimitConfig(
                  serving.getConfig('dataPlane.rateLimits'),
                ),
              }
            : {}),
        }
      : undefined,
  };
}

/** A tier: requests a minute, and the burst a principal may spend at once. */
export interface RateLimitTier {
  perMinute: number;
  burst: number;
}

/** `mlops.serving.dataPlane.rateLimits`. */
export interface RateLimitConfig {
  tiers: Record<string, RateLimitTier>;
  /** The tier of principals not listed; absent: they are not limited. */
  defaultTier?: string;
  /** Principal (`user:default/jane`, `service:external:ci`) → tier name. */
  principals: Record<string, string>;
}

/** Seed 003's tiers, the defaults when `rateLimits` names no tiers. */
export const DEFAULT_RATE_LIMIT_TIERS: Record<string, RateLimitTier> = {
  basic: { perMinute: 60, burst: 10 },
  standard: { perMinute: 600, burst: 50 },
  premium: { perMinute: 6000, burst: 200 },
};

/**
 * Reads `mlops.serving.dataPlane.rateLimits`; undefined when the section is
 * absent (no limits). Tiers default to seed 003's basic / standard / premium.
 */
export function readRateLimitConfig(
  config: Config | undefined,
): RateLimitConfig | undefined {
  if (!config) return undefined;
  const tiersConfig = config.getOptionalConfig('tiers');
  const tiers: Record<string, RateLimitTier> = tiersConfig
    ? Object.fromEntries(
        tiersConfig.keys().map(name => {
          const tier = tiersConfig.getConfig(name);
          const perMinute = tier.getNumber('perMinute');
          const burst = tier.getOptionalNumber('burst') ?? perMinute;
          if (!(perMinute > 0) || !(burst >= 1)) {
            throw new Error(
              `Invalid config mlops.serving.dataPlane.rateLimits.tiers.${name}: perMinute must be > 0 and burst >= 1`,
            );
          }
          return [name, { perMinute, burst }];
        }),
      )
    : { ...DEFAULT_RATE_LIMIT_TIERS };
  const defaultTier = config.getOptionalString('defaultTier');
  const principalsConfig = config.getOptionalConfig('principals');
  const principals: Record<string, string> = {};
  for (const key of principalsConfig?.keys() ?? []) {
    principals[key] = principalsConfig!.getString(key);
  }
  for (const [where, tier] of [
    ['defaultTier', defaultTier],
    ...Object.entries(principals).map(([p, t]) => [`principals.${p}`, t]),
  ] as Array<[string, string | undefined]>) {
    if (tier !== undefined && !tiers[tier]) {
      throw new Error(
        `Invalid config mlops.serving.dataPlane.rateLimits.${where}: no tier named '${tier}' (tiers: ${Object.keys(
          tiers,
        ).join(', ')})`,
      );
    }
  }
  return { tiers, ...(defaultTier ? { defaultTier } : {}), principals };
}
