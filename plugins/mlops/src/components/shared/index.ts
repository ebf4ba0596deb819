export * from './format';
export { AliasChip, StageChip } from './StageChip';
export {
  modelCardMetrics,
  useEntityTabPath,
  useRegisteredModels,
} from './hooks';
export { MlflowHint } from './MlflowHint';
export { ActionDialog, errorMessage } from './ActionDialog';
export { RegisteredModelSelect } from './RegisteredModelSelect';
export { usePolling } from './usePolling';
export type { Polled } from './usePolling';
export { CommentField } from './CommentField';
export { useAuditEvents } from './useAuditEvents';
export type { AuditEvents } from './useAuditEvents';
export { DriftStatusChip } from './DriftStatusChip';
export type { DriftStatus } from './DriftStatusChip';
