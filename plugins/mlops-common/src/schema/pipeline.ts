import { PIPELINE_TYPES } from '../kinds';
import { PIPELINE_STEP_KINDS } from '../pipelines';
import { cronExpression, entityRef, entityRefList, kindSchema } from './common';

/** JSON Schema of `loopline.dev/v1alpha1` `Pipeline`. */
export const pipelineEntitySchema = kindSchema({
  id: 'LooplinePipelineV1alpha1',
  kind: 'Pipeline',
  description:
    'A data, training, evaluation or batch-inference pipeline: what it reads, what it writes, its steps and triggers.',
  specRequired: [],
  specProperties: {
    type: { enum: [...PIPELINE_TYPES] },
    schedule: cronExpression,
    consumes: {
      ...entityRefList,
      description: 'Datasets the pipeline reads (kind defaults to Dataset).',
    },
    produces: {
      ...entityRefList,
      description:
        'Models or Datasets the pipeline writes; name the kind (`model:x`).',
    },
    runner: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { enum: ['local', 'kubernetes'] },
        image: { type: 'string', minLength: 1 },
        cluster: { type: 'string', minLength: 1 },
        namespace: {
          type: 'string',
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
        },
      },
    },
    concurrency: { type: 'integer', minimum: 1, maximum: 100 },
    parameters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          description: { type: 'string' },
          default: { type: 'string' },
        },
      },
    },
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          description: { type: 'string' },
          image: { type: 'string', minLength: 1 },
          command: { type: 'array', items: { type: 'string' } },
          run: { type: 'string', minLength: 1 },
          kind: { enum: [...PIPELINE_STEP_KINDS] },
          with: {
            type: 'object',
            additionalProperties: { type: ['string', 'number', 'boolean'] },
          },
          timeoutSeconds: { type: 'integer', minimum: 1 },
          dependsOn: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
    },
    triggers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { enum: ['schedule', 'drift', 'dataset-update', 'manual'] },
          cron: cronExpression,
          model: entityRef,
          dataset: entityRef,
        },
        // if/then rather than oneOf, so that an error names the missing field.
        allOf: [
          {
            if: { properties: { type: { const: 'schedule' } } },
            then: { required: ['cron'] },
          },
          {
            if: { properties: { type: { const: 'drift' } } },
            then: { required: ['model'] },
          },
          {
            if: { properties: { type: { const: 'dataset-update' } } },
            then: { required: ['dataset'] },
          },
        ],
      },
    },
  },
});
