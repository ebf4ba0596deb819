import type {
  AuditEvent,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
} from '@loopline/mlops-common';

/*
 * Registry and tracking records of the wine-quality test Model, as the
 * backend's native routes answer them.
 */

const day = 24 * 60 * 60 * 1000;
const t0 = Date.UTC(2025, 4, 1, 8, 0, 0);

export const wineQualityRegistered: RegisteredModel = {
  name: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  description: 'Predicts the sensory quality score of a wine.',
  createdAt: t0,
  updatedAt: t0 + 2 * day,
  tags: {},
  aliases: { champion: 2 },
};

const signature = {
  inputs: [{ name: 'features', datatype: 'FP32' as const, shape: [-1, 11] }],
  outputs: [{ name: 'quality', datatype: 'FP32' as const, shape: [-1, 1] }],
};

export const version1: ModelVersion = {
  name: 'wine-quality',
  version: 1,
  entityRef: 'model:default/wine-quality',
  description: 'Ordinary least squares baseline',
  source:
    'mlflow-artifacts:/1/0a1b2c3d4e5f60718293a4b5c6d7e8f9/artifacts/model',
  runId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  status: 'READY',
  stage: 'Archived',
  aliases: [],
  creator: 'user:default/alice',
  createdAt: t0,
  updatedAt: t0 + day,
  tags: {},
  signature,
  metrics: { r2: 0.29, mae: 0.52, rmse: 0.66 },
  params: { alpha: '0' },
};

export const version2: ModelVersion = {
  ...version1,
  version: 2,
  description: 'Ridge regression',
  source:
    'mlflow-artifacts:/1/1b2c3d4e5f60718293a4b5c6d7e8f90a/artifacts/model',
  runId: '1b2c3d4e5f60718293a4b5c6d7e8f90a',
  stage: 'Production',
  aliases: ['champion'],
  creator: 'user:default/bob',
  createdAt: t0 + day,
  updatedAt: t0 + 2 * day,
  artifact: {
    path: 'wine-quality/2/model.onnx',
    sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    sizeBytes: 2048,
    format: 'onnx',
  },
  metrics: { r2: 0.31, mae: 0.5, rmse: 0.64 },
  params: { alpha: '0.5', solver: 'closed-form' },
};

export const version3: ModelVersion = {
  ...version1,
  version: 3,
  description: '',
  source: 'external:ci/wine-quality/3',
  runId: undefined,
  status: 'PENDING_REGISTRATION',
  stage: 'None',
  aliases: [],
  creator: 'external:demo-ci',
  createdAt: t0 + 2 * day,
  updatedAt: t0 + 2 * day,
  signature: undefined,
  metrics: {},
  params: {},
};

/** Newest first, as the backend lists them. */
export const wineQualityVersions = [version3, version2, version1];

export const promotionEvent: AuditEvent = {
  id: 21,
  entityRef: 'model:default/wine-quality',
  action: 'registry.stage.transition',
  actor: 'user:default/alice',
  createdAt: '2025-05-03T09:30:00.000Z',
  comment: 'Beats the baseline on the hold-out set',
  details: { version: 2, from: 'Staging', to: 'Production', archived: [1] },
};

export const aliasEvent: AuditEvent = {
  id: 22,
  entityRef: 'model:default/wine-quality',
  action: 'registry.alias.set',
  actor: 'user:default/bob',
  createdAt: '2025-05-03T10:00:00.000Z',
  comment: 'New champion',
  details: { alias: 'champion', version: 2, previousVersion: 1 },
};

/** Not a registry event: the versions tab leaves it out. */
export const otherEvent: AuditEvent = {
  id: 20,
  entityRef: 'model:default/wine-quality',
  action: 'rollout.promote',
  actor: 'user:default/alice',
  createdAt: '2025-05-03T08:00:00.000Z',
  details: {},
};

const point = (key: string, value: number, step: number): MetricPoint => ({
  key,
  value,
  timestamp: t0 + step * 1000,
  step,
});

export const ridgeRun: Run = {
  runId: '1b2c3d4e5f60718293a4b5c6d7e8f90a',
  experimentId: '1',
  runName: 'ridge-alpha-0.5',
  userId: 'bob',
  status: 'FINISHED',
  startTime: t0 + day,
  endTime: t0 + day + 95_000,
  artifactUri: 'mlflow-artifacts:/1/1b2c3d4e5f60718293a4b5c6d7e8f90a/artifacts',
  lifecycleStage: 'active',
  metrics: [point('rmse', 0.64, 9), point('r2', 0.31, 9)],
  params: { alpha: '0.5', solver: 'closed-form' },
  tags: {},
};

export const olsRun: Run = {
  runId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  experimentId: '1',
  runName: 'ols-baseline',
  userId: 'alice',
  status: 'FINISHED',
  startTime: t0,
  endTime: t0 + 3_725_000,
  artifactUri: 'mlflow-artifacts:/1/0a1b2c3d4e5f60718293a4b5c6d7e8f9/artifacts',
  lifecycleStage: 'active',
  metrics: [point('rmse', 0.66, 9), point('mae', 0.52, 9)],
  params: { alpha: '0' },
  tags: {},
};

export const failedRun: Run = {
  runId: '2c3d4e5f60718293a4b5c6d7e8f90a1b',
  experimentId: '1',
  runName: 'logistic-try',
  userId: 'alice',
  status: 'FAILED',
  startTime: t0 + 2 * day,
  endTime: t0 + 2 * day + 800,
  artifactUri: 'mlflow-artifacts:/1/2c3d4e5f60718293a4b5c6d7e8f90a1b/artifacts',
  lifecycleStage: 'active',
  metrics: [],
  params: { lr: '0.1' },
  tags: {},
};

/** Newest first, as the backend lists them. */
export const wineQualityRuns = [failedRun, ridgeRun, olsRun];

/** A metric history that goes down step by step from `start`. */
export function descendingHistory(
  key: string,
  start: number,
  steps: number,
): MetricPoint[] {
  return Array.from({ length: steps }, (_, step) =>
    point(key, start - step * 0.01, step),
  );
}
