import {
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  RELATION_HAS_PART,
  RELATION_OWNED_BY,
  RELATION_OWNER_OF,
  RELATION_PART_OF,
} from '@backstage/catalog-model';
import {
  MLOPS_KINDS,
  MLOPS_RELATION_PAIRS,
  MLOPS_RELATION_TITLES,
} from '@loopline/mlops-common';
import {
  ALL_RELATION_PAIRS,
  RelationPairs,
} from '@backstage/plugin-catalog-graph';

/**
 * Titles of the relations an ML entity has, in the order the related
 * entities card lists them: the ML relations first, then the Backstage ones
 * the catalog module emits for them (owner, system, a Component's dependency).
 */
export const RELATION_TITLES: Readonly<Record<string, string>> = {
  ...MLOPS_RELATION_TITLES,
  [RELATION_OWNED_BY]: 'Owner',
  [RELATION_OWNER_OF]: 'Owner of',
  [RELATION_PART_OF]: 'Part of',
  [RELATION_HAS_PART]: 'Has part',
  [RELATION_DEPENDS_ON]: 'Depends on',
  [RELATION_DEPENDENCY_OF]: 'Dependency of',
};

/** The relations the ML graph follows: every relation with a title. */
export const GRAPH_RELATIONS = Object.keys(RELATION_TITLES);

/** Backstage's relation pairs plus the ML ones, so each edge is drawn once. */
export const GRAPH_RELATION_PAIRS: RelationPairs = [
  ...ALL_RELATION_PAIRS,
  ...MLOPS_RELATION_PAIRS,
];

/** The ML kinds and the kinds their Backstage relations lead to. */
export const GRAPH_KINDS = [
  ...MLOPS_KINDS,
  'Component',
  'System',
  'Group',
  'User',
];
