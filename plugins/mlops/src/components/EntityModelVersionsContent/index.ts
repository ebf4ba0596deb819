export { EntityModelVersionsContent } from './EntityModelVersionsContent';
export type { EntityModelVersionsContentProps } from './EntityModelVersionsContent';
