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

/** `logged-models/search`: model attributes, params and tags. */
export const LOGGED_MODEL_SEARCH_SCHEMA: SearchSchema = {
  subject: 'logged models',
  entityTypes: ['param', 'tag'],
  attributes: {
    model_id: 'list',
    name: 'list',
    model_type: 'list',
    status: 'list',
    source_run_id: 'list',
    creation_timestamp: 'numeric',
    last_updated_timestamp: 'numeric',
  },
  attributeAliases: { creation_time: 'creation_timestamp' },
  orderableAttributes: [
    'model_id',
    'name',
    'creation_timestamp',
    'last_updated_timestamp',
  ],
};
