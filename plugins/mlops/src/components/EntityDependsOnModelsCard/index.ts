export { EntityDependsOnModelsCard } from './EntityDependsOnModelsCard';
export type { EntityDependsOnModelsCardProps } from './EntityDependsOnModelsCard';
