export { EntityLineageContent } from './EntityLineageContent';
export type { EntityLineageContentProps } from './EntityLineageContent';
