import type {
  PredictResponse,
  ServingModelInfo,
  ServingStats,
} from '@loopline/mlops-common';

/*
 * Serving records of the wine-quality test Model, as the backend's serving
 * routes answer them.
 */

export const wineQualityServingInfo: ServingModelInfo = {
  model: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  servedVersion: 2,
  loadedVersions: [2, 1],
  signature: {
    inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }],
    outputs: [{ name: 'quality', datatype: 'FP32', shape: [-1, 1] }],
  },
  features: [
    { name: 'alcohol', type: 'float', description: 'Alcohol, % vol' },
    { name: 'sulphates', type: 'float' },
    { name: 'vintage', type: 'integer' },
  ],
};

export const wineQualityStats: ServingStats = {
  model: 'wine-quality',
  windowSeconds: 300,
  requests: 1200,
  errors: 24,
  requestsPerSecond: 4,
  errorRate: 0.02,
  latencyMs: { p50: 3.2, p95: 12.5, p99: 61 },
  byVersion: [
    {
      version: 2,
      requests: 1080,
      errors: 12,
      latencyMs: { p50: 3, p95: 11, p99: 40 },
    },
    {
      version: 1,
      requests: 120,
      errors: 12,
      latencyMs: { p50: 5, p95: 20, p99: 80 },
    },
  ],
};

export const noTrafficStats: ServingStats = {
  model: 'wine-quality',
  windowSeconds: 300,
  requests: 0,
  errors: 0,
  requestsPerSecond: 0,
  errorRate: 0,
  latencyMs: {},
  byVersion: [],
};

export const wineQualityPrediction: PredictResponse = {
  model: 'wine-quality',
  version: 2,
  requestId: '5f0c1d2e-8a9b-4c3d-9e8f-0a1b2c3d4e5f',
  outputs: { quality: [5.8734512] },
  prediction: 5.8734512,
  latencyMs: 2.345,
};
