export { RolloutService, ANALYSIS_ACTOR } from './RolloutService';
export { armOfKey } from './abAssignment';
export { bucketOf } from '../lib/hash';
export type { RolloutListener, RolloutRegistry } from './RolloutService';
export { RolloutStore } from './RolloutStore';
export { readRolloutConfig } from './config';
export type { RolloutConfig, RolloutEnvironment } from './config';
export { EmbeddedDeploymentTarget, RolloutTrafficRouter } from './embedded';
export { createRolloutRouter } from './router';
export { rolloutNotifier } from './notifications';
export { RolloutMetrics } from './metrics';
export type {
  DeploymentTarget,
  DesiredDeployment,
  RolloutLogReader,
} from './types';
export { createRollouts } from './createRollouts';
export type { Rollouts } from './createRollouts';
export { InferenceLogRolloutReader } from './logReader';
export type { RolloutLogSource } from './logReader';
