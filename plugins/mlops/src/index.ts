/**
 * Loopline's frontend plugin: the ML overview page and entity cards for
 * Models, Datasets and Pipelines.
 *
 * @packageDocumentation
 */
export {
  mlopsPlugin,
  MlopsPage,
  EntityMlopsOverviewCard,
  EntityMlopsRelationsCard,
  EntityMlopsGraphCard,
  EntityMlopsAuditCard,
  EntityDependsOnModelsCard,
  EntityDatasetMonitorsCard,
  EntityModelVersionsContent,
  EntityModelExperimentsContent,
  EntityModelServingCard,
  EntityModelDeploymentsContent,
  EntityModelDriftContent,
  EntityPipelineRunsContent,
  EntityDatasetDataDocsContent,
  EntityLineageContent,
  MlopsTargetColumnPickerFieldExtension,
  MlopsNamePickerFieldExtension,
} from './plugin';
export { mlopsApiRef, MlopsClient } from './api';
export type {
  DeleteModelAliasRequest,
  GetAuditEventsRequest,
  MlopsApi,
  RolloutControlAction,
} from './api';
export type { EntityMlopsOverviewCardProps } from './components/EntityMlopsOverviewCard';
export type { EntityMlopsRelationsCardProps } from './components/EntityMlopsRelationsCard';
export type { EntityMlopsGraphCardProps } from './components/EntityMlopsGraphCard';
export type { EntityMlopsAuditCardProps } from './components/EntityMlopsAuditCard';
export type { EntityDependsOnModelsCardProps } from './components/EntityDependsOnModelsCard';
export type { EntityDatasetMonitorsCardProps } from './components/EntityDatasetMonitorsCard';
export type { EntityModelVersionsContentProps } from './components/EntityModelVersionsContent';
export type { EntityModelExperimentsContentProps } from './components/EntityModelExperimentsContent';
export type { EntityModelServingCardProps } from './components/EntityModelServingCard';
export type { EntityModelDeploymentsContentProps } from './components/EntityModelDeploymentsContent';
export type { EntityModelDriftContentProps } from './components/EntityModelDriftContent';
export type { EntityPipelineRunsContentProps } from './components/EntityPipelineRunsContent';
export type { EntityLineageContentProps } from './components/EntityLineageContent';
export type { EntityDatasetDataDocsContentProps } from './components/EntityDatasetDataDocsContent';
export type { TargetColumnPickerUiOptions } from './components/TargetColumnPicker';
export type { NamePickerUiOptions } from './components/NamePicker';
