/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @packageDocumentation
 */
export { mlopsPlugin as default } from './plugin';
export { mlopsServiceRef } from './inProcess';
export type { MlopsService } from './inProcess';
// The scaffolder's mlops:serving:render-manifests builds the InferenceService
// with the KServe target's own code.
export {
  INFERENCE_SERVICE,
  inferenceServiceManifest,
  inferenceServiceName,
  readKServeConfig,
  storageUriFor,
} from './rollout/kserve';
export type { InferenceServiceObject } from './rollout/kserve';
export type { DesiredDeployment, TargetVersion } from './rollout/types';
export { readRolloutConfig } from './rollout/config';
export { KSERVE_LOGGER_PATH } from './serving/log';
/** The standalone serving data plane, for the `loopline-serving` bin (packages/serving). */
export { runStandaloneDataPlane } from './dataPlane/standalone';
