export { EntityMlopsRelationsCard } from './EntityMlopsRelationsCard';
export type { EntityMlopsRelationsCardProps } from './EntityMlopsRelationsCard';
