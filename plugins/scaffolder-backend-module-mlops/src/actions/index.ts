export { createValidateEntitiesAction } from './validateEntities';
export { createCreateRegisteredModelAction } from './createRegisteredModel';
export type { EntityLookup } from './createRegisteredModel';
export { createCreateExperimentAction } from './createExperiment';
export {
  createRenderServingManifestsAction,
  renderInferenceService,
} from './renderServingManifests';
export type { ServingDefaults } from './renderServingManifests';
export { createDescribeTokenAction } from './describeToken';
export { newModelAuthorizer } from './authorizeNewModel';
export type { NewModelAuthorizer } from './authorizeNewModel';
export { createPublishLocalAction } from './publishLocal';
