export { EntityModelDriftContent } from './EntityModelDriftContent';
export type { EntityModelDriftContentProps } from './EntityModelDriftContent';
