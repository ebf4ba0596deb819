import type { Comparator, SearchSchema } from '../lib/searchFilter';

/* The MLflow searches of the model registry: what each may name. */

const EQUALITY_OR_LIST: ReadonlyArray<Comparator> = ['=', '!=', 'IN', 'NOT IN'];

/** `registered-models/search`: the name, times and tags. */
export const MODEL_SEARCH_SCHEMA: SearchSchema = {
  subject: 'registered models',
  entityTypes: ['tag'],
  attributes: { name: 'list' },
  orderableAttributes: [
    'name',
    'creation_timestamp',
    'last_updated_timestamp',
    'timestamp',
  ],
};

/** `model-versions/search`: name, run, source, stage, number and tags. */
export const VERSION_SEARCH_SCHEMA: SearchSchema = {
  subject: 'model versions',
  entityTypes: ['tag'],
  attributes: {
    name: 'list',
    run_id: 'list',
    source_path: 'list',
    current_stage: 'list',
    version_number: 'numeric',
  },
  attributeComparators: {
    run_id: EQUALITY_OR_LIST,
    current_stage: EQUALITY_OR_LIST,
  },
  orderableAttributes: [
    'name',
    'version_number',
    'creation_timestamp',
    'last_updated_timestamp',
    'timestamp',
  ],
};
