export { mlopsApiRef } from './MlopsApi';
export type {
  DeleteModelAliasRequest,
  GetAuditEventsRequest,
  MlopsApi,
} from './MlopsApi';
export { MlopsClient } from './MlopsClient';
