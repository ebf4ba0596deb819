/**
 * Relation names of the Loopline kinds. Each pair is emitted in both
 * directions by the catalog module; the names are decided here, once.
 * Ownership (`ownedBy`/`ownerOf`), system membership (`partOf`/`hasPart`) and
 * a Component's `dependsOn` a Model use Backstage's own names.
 */

/** Model → Dataset it was trained on. */
export const RELATION_TRAINED_ON = 'trainedOn';
/** Dataset → Model trained on it. */
export const RELATION_USED_TO_TRAIN = 'usedToTrain';
/** Model or Dataset → Pipeline that writes it. */
export const RELATION_PRODUCED_BY = 'producedBy';
/** Pipeline → Model or Dataset it writes. */
export const RELATION_PRODUCES = 'produces';
/** Pipeline → Dataset it reads. */
export const RELATION_CONSUMES_DATASET = 'consumesDataset';
/** Dataset → Pipeline that reads it. */
export const RELATION_DATASET_CONSUMED_BY = 'datasetConsumedBy';
/** Dataset → Dataset it is derived from. */
export const RELATION_DERIVED_FROM = 'derivedFrom';
/** Dataset → Dataset derived from it. */
export const RELATION_SOURCE_OF = 'sourceOf';

/** Each ML relation with its inverse, in the shape the catalog graph takes. */
export const MLOPS_RELATION_PAIRS: ReadonlyArray<[string, string]> = [
  [RELATION_TRAINED_ON, RELATION_USED_TO_TRAIN],
  [RELATION_PRODUCED_BY, RELATION_PRODUCES],
  [RELATION_CONSUMES_DATASET, RELATION_DATASET_CONSUMED_BY],
  [RELATION_DERIVED_FROM, RELATION_SOURCE_OF],
];

/** Every ML relation name, both directions. */
export const MLOPS_RELATIONS: ReadonlyArray<string> =
  MLOPS_RELATION_PAIRS.flat();

/** Human labels for the relations, used by the frontend's related-entities card. */
export const MLOPS_RELATION_TITLES: Readonly<Record<string, string>> = {
  [RELATION_TRAINED_ON]: 'Trained on',
  [RELATION_USED_TO_TRAIN]: 'Used to train',
  [RELATION_PRODUCED_BY]: 'Produced by',
  [RELATION_PRODUCES]: 'Produces',
  [RELATION_CONSUMES_DATASET]: 'Consumes',
  [RELATION_DATASET_CONSUMED_BY]: 'Consumed by',
  [RELATION_DERIVED_FROM]: 'Derived from',
  [RELATION_SOURCE_OF]: 'Source of',
};
