export { EntityMlopsGraphCard } from './EntityMlopsGraphCard';
export type { EntityMlopsGraphCardProps } from './EntityMlopsGraphCard';
