export { EntityModelServingCard } from './EntityModelServingCard';
export type { EntityModelServingCardProps } from './EntityModelServingCard';
