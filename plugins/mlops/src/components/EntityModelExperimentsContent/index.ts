export { EntityModelExperimentsContent } from './EntityModelExperimentsContent';
export type { EntityModelExperimentsContentProps } from './EntityModelExperimentsContent';
