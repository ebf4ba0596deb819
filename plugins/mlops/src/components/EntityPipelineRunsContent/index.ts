export { EntityPipelineRunsContent } from './EntityPipelineRunsContent';
export type { EntityPipelineRunsContentProps } from './EntityPipelineRunsContent';
