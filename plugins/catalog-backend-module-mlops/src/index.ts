/**
 * The Loopline catalog module: the Model, Dataset and Pipeline kinds.
 *
 * @packageDocumentation
 */
export { catalogModuleMlopsEntityModel as default } from './module';
export { MlopsEntitiesProcessor } from './processor';
