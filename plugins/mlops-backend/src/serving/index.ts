export {
  CODEC_LIMITS,
  OIP_DATATYPES,
  decodeTensor,
  encodeTensor,
  floatToHalfBits,
  halfBitsToFloat,
  parseInferRequest,
  selectOutputs,
  toFeeds,
} from './codec';
export type {
  FeedTensor,
  OrtElementType,
  OutputTensorLike,
  ParsedInferRequest,
  ServingTensorSpec,
  TensorData,
} from './codec';
export { InferenceService } from './InferenceService';
export type {
  InferenceObserver,
  InferenceRoute,
  InferenceServiceOptions,
  InferRequest,
  InferResult,
  ModelRef,
  PredictCall,
  ServingModelSchema,
  ServingRegistry,
} from './InferenceService';
export {
  LoadedModel,
  loadOnnxRuntime,
  ModelSessions,
  zeroFeeds,
} from './ModelSessions';
export type { ArtifactSource, ModelSessionsOptions } from './ModelSessions';
export { ProductionTrafficRouter } from './TrafficRouter';
export type {
  ProductionTrafficRouterOptions,
  TrafficRoute,
  TrafficRouter,
} from './TrafficRouter';
export { CatalogFeatureSchemaSource, datasetFeatures } from './features';
export type {
  CatalogFeatureSchemaSourceOptions,
  FeatureSchemaSource,
} from './features';
export { PermissionDecisionCache } from './authorization';
export { InferenceError, oipErrorHandler, oipErrorOf } from './errors';
export { readServingConfig } from './config';
export type { ServingConfig } from './config';
export { createEmbeddedServing, createEmbeddedServingParts } from './embedded';
export type { EmbeddedServingParts } from './embedded';
export { createServingRouter } from './router';
export type { ServingRouterOptions } from './router';
