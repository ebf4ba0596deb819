/**
 * Loopline's shared definitions: the Model, Dataset and Pipeline kinds, their
 * JSON Schemas, relations, permissions and the HTTP API's types.
 *
 * @packageDocumentation
 */
export * from './kinds';
export * from './relations';
export * from './references';
export * from './permissions';
export * from './api';
export * from './schema';
export * from './tracking';
export * from './registry';
export * from './serving';
export * from './rollout';
export * from './rolloutRules';
export * from './monitoring';
export * from './lineage';
export * from './pipelines';
export * from './datasetEvents';
export * from './quality';
