/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @packageDocumentation
 */
export { mlopsPlugin as default } from './plugin';
export { mlopsServiceRef } from './inProcess';
export type { MlopsService } from './inProcess';
// What the scaffolder's mlops:serving:render-manifests renders as the KServe
// target writes it.
export {
  INFERENCE_SERVICE,
  LOOPLINE_ANNOTATIONS,
  LOOPLINE_LABELS,
  MANAGED_BY,
  inferenceServiceName,
  labelValue,
  readKServeConfig,
  storageUriFor,
} from './rollout/kserve';
export type { InferenceServiceObject } from './rollout/kserve';
export { readRolloutConfig } from './rollout/config';
export { KSERVE_LOGGER_PATH } from './serving/log';
/** The standalone serving data plane, for the `loopline-serving` bin (packages/serving). */
export { runStandaloneDataPlane } from './dataPlane/standalone';
