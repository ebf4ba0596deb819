export { KServeTarget, KubernetesApiError } from './KServeTarget';
export type { KServeTargetOptions } from './KServeTarget';
export { kubeConfigFor, readKServeConfig, storageUriFor } from './config';
export type { KServeClusterConfig, KServeConfig } from './config';
export {
  INFERENCE_SERVICE,
  LOOPLINE_ANNOTATIONS,
  LOOPLINE_LABELS,
  MANAGED_BY,
  inferenceServiceManifest,
  inferenceServiceName,
  labelValue,
} from './inferenceService';
export type { InferenceServiceObject } from './inferenceService';
