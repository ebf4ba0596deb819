export { EntityMlopsOverviewCard } from './EntityMlopsOverviewCard';
export type { EntityMlopsOverviewCardProps } from './EntityMlopsOverviewCard';
