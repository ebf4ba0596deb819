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
   * A port of its own for the OIP and predict routes (the data plane), next
   * to the same routes under /api/mlops; absent: no extra listener.
   */
  dataPlane?: { port: number; host: string };
}

/**
 * Reads `mlops.serving.*`: `jsonBodyLimit` (default `mlops.api.jsonBodyLimit`,
 * else `1mb`), `intraOpNumThreads` (1), `interOpNumThreads` (1),
 * `maxLoadedModels` (16), `routingCacheTtlMs` (2000), `permissionCacheTtlMs`
 * (5000), `preload` (false).
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
        }
      : undefined,
  };
}
