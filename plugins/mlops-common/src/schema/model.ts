import { DRIFT_METHODS, MODEL_TYPES } from '../kinds';
import { entityRef, entityRefList, cronExpression, kindSchema } from './common';

const nonNegative = { type: 'number', minimum: 0 };

/** JSON Schema of `loopline.dev/v1alpha1` `Model`. */
export const modelEntitySchema = kindSchema({
  id: 'LooplineModelV1alpha1',
  kind: 'Model',
  description:
    'A machine-learning model: what it predicts, who owns it, what it is trained on and how it is served and watched.',
  specRequired: [],
  specProperties: {
    type: { enum: [...MODEL_TYPES], description: 'The learning task.' },
    trainedOn: {
      ...entityRefList,
      description:
        'Datasets the model is trained on (kind defaults to Dataset).',
    },
    producedBy: {
      ...entityRef,
      description:
        'The Pipeline that trains the model (kind defaults to Pipeline).',
    },
    framework: { type: 'string', minLength: 1, examples: ['onnx', 'sklearn'] },
    modelCard: {
      type: 'object',
      additionalProperties: false,
      properties: {
        description: { type: 'string' },
        intendedUse: { type: 'string' },
        limitations: { type: 'string' },
        ethicalConsiderations: { type: 'string' },
        metrics: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    fairness: {
      type: 'object',
      required: ['sensitiveFeatures'],
      additionalProperties: false,
      properties: {
        sensitiveFeatures: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
        },
        thresholds: {
          type: 'object',
          additionalProperties: nonNegative,
        },
      },
    },
    monitoring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        drift: {
          type: 'object',
          required: ['method', 'threshold'],
          additionalProperties: false,
          properties: {
            method: { enum: [...DRIFT_METHODS] },
            threshold: nonNegative,
            schedule: cronExpression,
            reference: entityRef,
            driftShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            windowMinutes: { type: 'integer', minimum: 1 },
          },
        },
        quality: {
          type: 'object',
          required: ['metric'],
          additionalProperties: false,
          properties: {
            metric: { enum: ['accuracy', 'f1', 'rocAuc', 'rmse', 'mae', 'r2'] },
            min: { type: 'number' },
            max: { type: 'number' },
          },
        },
        alerts: {
          type: 'object',
          additionalProperties: false,
          properties: {
            severity: { enum: ['info', 'warning', 'critical'] },
            cooldownMinutes: { type: 'integer', minimum: 0 },
            minDriftShare: { type: 'number', minimum: 0, maximum: 1 },
            maxLatencyP95Ms: nonNegative,
            maxErrorRate: { type: 'number', minimum: 0, maximum: 1 },
            onConceptDrift: { type: 'boolean' },
          },
        },
        slos: {
          type: 'object',
          additionalProperties: false,
          properties: {
            latencyP95Ms: nonNegative,
            latencyP99Ms: nonNegative,
            maxErrorRate: { type: 'number', minimum: 0, maximum: 1 },
            minRequests: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    gates: {
      type: 'object',
      additionalProperties: false,
      description:
        'What a version must pass to go to Production: metric bounds, beating Production by a margin, a p95 latency.',
      properties: {
        metrics: {
          type: 'array',
          items: {
            type: 'object',
            required: ['metric'],
            additionalProperties: false,
            properties: {
              metric: { type: 'string', minLength: 1 },
              min: { type: 'number' },
              max: { type: 'number' },
            },
          },
        },
        beatProduction: {
          type: 'object',
          required: ['metric'],
          additionalProperties: false,
          properties: {
            metric: { type: 'string', minLength: 1 },
            margin: { type: 'number' },
          },
        },
        maxLatencyP95Ms: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    serving: {
      type: 'object',
      additionalProperties: false,
      properties: {
        runtime: { enum: ['onnx'] },
        target: { enum: ['embedded', 'kserve'] },
        environments: {
          type: 'array',
          items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
        },
      },
    },
  },
});
