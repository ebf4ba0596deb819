export { TrackingStore, likeToGlob } from './TrackingStore';
export type {
  ExperimentInfo,
  ExperimentPatch,
  KeyValue,
  NewRun,
  RunInfo,
  RunPatch,
  ViewType,
} from './TrackingStore';
export {
  TrackingService,
  TRACKING_LIMITS,
  RUN_STATUSES,
  DEFAULT_EXPERIMENT_ID,
  MODEL_EXPERIMENT_TAG,
} from './TrackingService';
export type {
  LogBatchRequest,
  MetricInput,
  RunSummary,
} from './TrackingService';
export { parseSearchFilter, parseOrderBy } from '../lib/searchFilter';
export { RUN_SEARCH_SCHEMA, EXPERIMENT_SEARCH_SCHEMA } from './searchSchemas';
export type {
  FilterClause,
  OrderByClause,
  SearchSchema,
  Comparator,
} from '../lib/searchFilter';
export { createTrackingRouter } from './router';
export { LoggedModelService } from './LoggedModelService';
export { LoggedModelStore, LOGGED_MODEL_STATUSES } from './LoggedModelStore';
export type { LoggedModel, LoggedModelStatus } from './LoggedModelStore';
