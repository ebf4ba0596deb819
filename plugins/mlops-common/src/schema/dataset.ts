import {
  DATASET_FORMATS,
  DATASET_TYPES,
  FIELD_ROLES,
  FIELD_TYPES,
} from '../kinds';
import { entityRefList, kindSchema } from './common';

/** JSON Schema of `loopline.dev/v1alpha1` `Dataset`. */
export const datasetEntitySchema = kindSchema({
  id: 'LooplineDatasetV1alpha1',
  kind: 'Dataset',
  description:
    'A dataset: where it lives, its format and schema, what it is derived from, and the checks it must pass.',
  specRequired: ['location', 'format'],
  specProperties: {
    type: { enum: [...DATASET_TYPES] },
    location: {
      type: 'string',
      pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*:.+',
      description:
        'URI of the data, e.g. `s3://bucket/wine/` or `file:data/wine.csv`.',
    },
    format: { enum: [...DATASET_FORMATS] },
    schema: {
      type: 'object',
      required: ['fields'],
      additionalProperties: false,
      properties: {
        fields: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['name', 'type'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1 },
              type: { enum: [...FIELD_TYPES] },
              nullable: { type: 'boolean' },
              role: { enum: [...FIELD_ROLES] },
              description: { type: 'string' },
              constraints: {
                type: 'object',
                description:
                  'What the predict routes accept for this feature; a request breaking one gets a 400 naming the field.',
                additionalProperties: false,
                properties: {
                  min: { type: 'number' },
                  max: { type: 'number' },
                  values: {
                    type: 'array',
                    minItems: 1,
                    items: { type: ['string', 'number', 'boolean'] },
                  },
                  pattern: { type: 'string', minLength: 1 },
                },
              },
            },
          },
        },
      },
    },
    derivedFrom: {
      ...entityRefList,
      description:
        'Datasets this one is derived from (kind defaults to Dataset).',
    },
    expectations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: {
            enum: [
              'expect_column_values_to_not_be_null',
              'expect_column_values_to_be_unique',
              'expect_column_values_to_be_between',
              'expect_column_values_to_be_in_set',
              'expect_column_values_to_match_regex',
              'expect_column_mean_to_be_between',
              'expect_table_row_count_to_be_between',
            ],
          },
          column: { type: 'string', minLength: 1 },
          min: { type: 'number' },
          max: { type: 'number' },
          values: {
            type: 'array',
            items: { type: ['string', 'number', 'boolean'] },
          },
          regex: { type: 'string' },
          mostly: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
    },
    freshness: {
      type: 'object',
      required: ['maxAge'],
      additionalProperties: false,
      properties: {
        maxAge: {
          type: 'string',
          pattern: '^P(?!$)(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$',
          description: 'ISO-8601 duration, e.g. `P1D` or `PT6H`.',
        },
      },
    },
  },
});
