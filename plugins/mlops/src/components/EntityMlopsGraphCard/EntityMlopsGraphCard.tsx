import { ComponentProps } from 'react';
import { EntityCatalogGraphCard } from '@backstage/plugin-catalog-graph';
import {
  GRAPH_KINDS,
  GRAPH_RELATION_PAIRS,
  GRAPH_RELATIONS,
} from '../../relations';

/**
 * Props of {@link EntityMlopsGraphCard}: those of the catalog graph's
 * `EntityCatalogGraphCard`, whose ML defaults they override.
 */
export type EntityMlopsGraphCardProps = ComponentProps<
  typeof EntityCatalogGraphCard
>;

/**
 * The catalog graph card around the current entity, set up to follow the ML
 * relations (trained on, produced by, consumes, derived from) as well as
 * ownership, systems and dependencies, and to draw each pair as one edge.
 */
export function EntityMlopsGraphCard(props: EntityMlopsGraphCardProps) {
  return (
    <EntityCatalogGraphCard
      kinds={GRAPH_KINDS}
      relations={GRAPH_RELATIONS}
      relationPairs={GRAPH_RELATION_PAIRS}
      {...props}
    />
  );
}
