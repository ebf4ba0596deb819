export * from './types';
export { InferenceLogStore } from './InferenceLogStore';
export type { GroundTruthRecord } from './InferenceLogStore';
export { InferenceLogger, INFERENCE_LOG_DEFAULTS } from './InferenceLogger';
export type {
  InferenceLoggerOptions,
  InferenceLoggerCounters,
  InferenceLoggerTimers,
} from './InferenceLogger';
export { InferenceLogService } from './InferenceLogService';
export type { InferenceLogServiceOptions } from './InferenceLogService';
export { parseKServeCloudEvent } from './kserveEvents';
export type { CloudEventHttpInput } from './kserveEvents';
export { latencyPercentiles, quantileSorted } from './percentiles';
export { combineObservers } from './observers';
export { createInferenceLogRouter, KSERVE_LOGGER_PATH } from './router';
export type { InferenceLogRouterOptions, MetricsSource } from './router';
export { readInferenceLogConfig } from './config';
export type { InferenceLogConfig } from './config';
export { createInferenceLog } from './createInferenceLog';
export type { InferenceLog } from './createInferenceLog';
