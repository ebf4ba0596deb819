import type { SearchSchema } from '../lib/searchFilter';

/* The MLflow searches of the tracking server: what each may name. */

/** `searchRuns`: metrics, params, tags and run attributes. */
export const RUN_SEARCH_SCHEMA: SearchSchema = {
  subject: 'runs',
  entityTypes: ['metric', 'param', 'tag'],
  attributes: {
    run_id: 'list',
    run_name: 'string',
    status: 'string',
    user_id: 'string',
    artifact_uri: 'string',
    start_time: 'numeric',
    end_time: 'numeric',
  },
  attributeAliases: {
    run_uuid: 'run_id',
    created: 'start_time',
    Created: 'start_time',
  },
  orderableAttributes: [
    'run_id',
    'run_name',
    'status',
    'user_id',
    'artifact_uri',
    'start_time',
    'end_time',
    'experiment_id',
  ],
};

/** `searchExperiments`: experiment attributes and tags. */
export const EXPERIMENT_SEARCH_SCHEMA: SearchSchema = {
  subject: 'experiments',
  entityTypes: ['tag'],
  attributes: {
    name: 'string',
    creation_time: 'numeric',
    last_update_time: 'numeric',
  },
  orderableAttributes: [
    'name',
    'experiment_id',
    'creation_time',
    'last_update_time',
  ],
};
