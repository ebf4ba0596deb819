import { SchedulerServiceTaskScheduleDefinition } from '@backstage/backend-plugin-api';
import { Config, readDurationFromConfig } from '@backstage/config';
import { INFERENCE_LOG_DEFAULTS } from './InferenceLogger';

/** The inference log's, the KServe logger route's and the metrics' settings. */
export interface InferenceLogConfig {
  log: {
    sampleRate: number;
    flushIntervalMs: number;
    maxBatchSize: number;
    maxBufferSize: number;
    retentionDays: number;
    maxPayloadChars: number;
    /** How often the retention purge runs. */
    purgeFrequency: SchedulerServiceTaskScheduleDefinition['frequency'];
  };
  kserveLogger: {
    /** Shared secret KServe's logger sends as `?token=`; none: a Backstage token is needed. */
    token?: string;
    bodyLimit: string;
  };
  metrics: {
    collectDefaultMetrics: boolean;
    maxModels: number;
  };
  stats: {
    maxWindowSeconds: number;
  };
}

/**
 * Reads (all optional, defaults in brackets):
 * `mlops.serving.log.sampleRate` (1), `.flushIntervalMs` (1000), `.maxBatchSize` (500),
 * `.maxBufferSize` (10000), `.retentionDays` (30), `.maxPayloadChars` (262144),
 * `.purgeFrequency` ({ hours: 1 });
 * `mlops.serving.kserveLogger.token` (none), `.bodyLimit` ('10mb');
 * `mlops.serving.metrics.collectDefaultMetrics` (false), `.maxModels` (1000);
 * `mlops.serving.stats.maxWindowSeconds` (86400).
 * Throws on a value out of range, so a bad config fails at startup.
 */
export function readInferenceLogConfig(config: Config): InferenceLogConfig {
  const serving = config.getOptionalConfig('mlops.serving');
  const log = serving?.getOptionalConfig('log');
  const kserve = serving?.getOptionalConfig('kserveLogger');
  const metrics = serving?.getOptionalConfig('metrics');
  const stats = serving?.getOptionalConfig('stats');
  const d = INFERENCE_LOG_DEFAULTS;

  const number = (
    section: Config | undefined,
    prefix: string,
    path: string,
    fallback: number,
    min: number,
    max: number,
    integer: boolean,
  ) => {
    const value = section?.getOptionalNumber(path);
    if (value === undefined) {
      return fallback;
    }
    if (
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new Error(
        `Invalid config mlops.serving.${prefix}.${path}: ${value}; it must be ${
          integer ? 'an integer' : 'a number'
        } in [${min}, ${max}]`,
      );
    }
    return value;
  };
  const max = Number.MAX_SAFE_INTEGER;

  return {
    log: {
      sampleRate: number(log, 'log', 'sampleRate', d.sampleRate, 0, 1, false),
      flushIntervalMs: number(
        log,
        'log',
        'flushIntervalMs',
        d.flushIntervalMs,
        10,
        3_600_000,
        true,
      ),
      maxBatchSize: number(
        log,
        'log',
        'maxBatchSize',
        d.maxBatchSize,
        1,
        100_000,
        true,
      ),
      maxBufferSize: number(
        log,
        'log',
        'maxBufferSize',
        d.maxBufferSize,
        1,
        10_000_000,
        true,
      ),
      retentionDays: number(
        log,
        'log',
        'retentionDays',
        d.retentionDays,
        0.001,
        36_500,
        false,
      ),
      maxPayloadChars: number(
        log,
        'log',
        'maxPayloadChars',
        d.maxPayloadChars,
        16,
        max,
        true,
      ),
      purgeFrequency: log?.has('purgeFrequency')
        ? readDurationFromConfig(log, { key: 'purgeFrequency' })
        : { hours: 1 },
    },
    kserveLogger: {
      token: kserve?.getOptionalString('token') || undefined,
      bodyLimit: kserve?.getOptionalString('bodyLimit') ?? '10mb',
    },
    metrics: {
      collectDefaultMetrics:
        metrics?.getOptionalBoolean('collectDefaultMetrics') ?? false,
      maxModels: number(
        metrics,
        'metrics',
        'maxModels',
        1000,
        1,
        1_000_000,
        true,
      ),
    },
    stats: {
      maxWindowSeconds: number(
        stats,
        'stats',
        'maxWindowSeconds',
        86_400,
        1,
        31 * 86_400,
        true,
      ),
    },
  };
}
