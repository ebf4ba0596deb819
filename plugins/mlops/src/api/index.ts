export { mlopsApiRef } from './MlopsApi';
export type {
  DeleteModelAliasRequest,
  GetAuditEventsRequest,
  MlopsApi,
  RolloutControlAction,
} from './MlopsApi';
export { MlopsClient } from './MlopsClient';
