export { createMlflowRouter } from './router';
export { MlflowArtifacts } from './MlflowArtifacts';
export { MlflowError, toMlflowError } from './errors';
