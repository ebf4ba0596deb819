export {
  RolloutService,
  ANALYSIS_ACTOR,
  bucketOf,
  armOfKey,
} from './RolloutService';
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
