export { EntityDatasetDataDocsContent } from './EntityDatasetDataDocsContent';
export type { EntityDatasetDataDocsContentProps } from './EntityDatasetDataDocsContent';
