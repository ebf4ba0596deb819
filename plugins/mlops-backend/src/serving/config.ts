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
        }
      : undefined,
  };
}
