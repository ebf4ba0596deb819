import { Entity } from '@backstage/catalog-model';

/** One invalid entity of our kinds, with what its error must say. */
export interface InvalidEntityCase {
  defect: string;
  entity: Entity;
  /** The field the error must name (JSON pointer). */
  field: string;
}

function model(name: string, spec: Record<string, unknown>): Entity {
  return {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Model',
    metadata: { name },
    spec: {
      type: 'regression',
      owner: 'group:wine-science',
      lifecycle: 'experimental',
      ...spec,
    },
  };
}

function dataset(name: string, spec: Record<string, unknown>): Entity {
  return {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name },
    spec: {
      type: 'raw',
      owner: 'group:wine-science',
      lifecycle: 'experimental',
      location: 's3://bucket/data/',
      format: 'csv',
      ...spec,
    },
  };
}

function pipeline(name: string, spec: Record<string, unknown>): Entity {
  return {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Pipeline',
    metadata: { name },
    spec: {
      type: 'training',
      owner: 'group:wine-science',
      lifecycle: 'experimental',
      ...spec,
    },
  };
}

/** Many distinct defects, each in an entity of its own name. */
export const invalidEntityCases: InvalidEntityCase[] = [
  {
    defect: 'unknown model type',
    entity: model('bad-model-type', { type: 'magic' }),
    field: '/spec/type',
  },
  {
    defect: 'missing owner',
    entity: model('bad-model-owner', { owner: undefined }),
    field: '/spec',
  },
  {
    defect: 'owner of the wrong type',
    entity: model('bad-model-owner-type', { owner: 42 }),
    field: '/spec/owner',
  },
  {
    defect: 'trainedOn not a list',
    entity: model('bad-model-trained-on', { trainedOn: 'wine-features' }),
    field: '/spec/trainedOn',
  },
  {
    defect: 'trainedOn naming a Component',
    entity: model('bad-model-trained-on-kind', {
      trainedOn: ['wine-features', 'component:wine-quality-api'],
    }),
    field: '/spec/trainedOn/1',
  },
  {
    defect: 'producedBy naming a Dataset',
    entity: model('bad-model-produced-by', {
      producedBy: 'dataset:wine-features',
    }),
    field: '/spec/producedBy',
  },
  {
    defect: 'owner naming a System',
    entity: model('bad-model-owner-kind', { owner: 'system:wine-quality' }),
    field: '/spec/owner',
  },
  {
    defect: 'negative drift threshold',
    entity: model('bad-model-drift', {
      monitoring: { drift: { method: 'psi', threshold: -1 } },
    }),
    field: '/spec/monitoring/drift/threshold',
  },
  {
    defect: 'unknown drift method',
    entity: model('bad-model-drift-method', {
      monitoring: { drift: { method: 'vibes', threshold: 0.1 } },
    }),
    field: '/spec/monitoring/drift/method',
  },
  {
    defect: 'error rate above 1',
    entity: model('bad-model-slo', {
      monitoring: { slos: { maxErrorRate: 5 } },
    }),
    field: '/spec/monitoring/slos/maxErrorRate',
  },
  {
    defect: 'unknown spec field',
    entity: model('bad-model-extra', { trainedOnn: ['wine-features'] }),
    field: '/spec',
  },
  {
    defect: 'missing lifecycle',
    entity: model('bad-model-lifecycle', { lifecycle: undefined }),
    field: '/spec',
  },
  {
    defect: 'unknown dataset type',
    entity: dataset('bad-dataset-type', { type: 'lake' }),
    field: '/spec/type',
  },
  {
    defect: 'missing location',
    entity: dataset('bad-dataset-location', { location: undefined }),
    field: '/spec',
  },
  {
    defect: 'location not a URI',
    entity: dataset('bad-dataset-uri', { location: 'just a path' }),
    field: '/spec/location',
  },
  {
    defect: 'unknown format',
    entity: dataset('bad-dataset-format', { format: 'xlsx' }),
    field: '/spec/format',
  },
  {
    defect: 'schema field without a type',
    entity: dataset('bad-dataset-field', {
      schema: { fields: [{ name: 'alcohol' }] },
    }),
    field: '/spec/schema/fields/0',
  },
  {
    defect: 'schema field with an unknown role',
    entity: dataset('bad-dataset-role', {
      schema: { fields: [{ name: 'x', type: 'float', role: 'label' }] },
    }),
    field: '/spec/schema/fields/0/role',
  },
  {
    defect: 'derivedFrom naming a Model',
    entity: dataset('bad-dataset-derived', {
      derivedFrom: ['model:wine-quality'],
    }),
    field: '/spec/derivedFrom/0',
  },
  {
    defect: 'malformed freshness',
    entity: dataset('bad-dataset-freshness', {
      freshness: { maxAge: '1 day' },
    }),
    field: '/spec/freshness/maxAge',
  },
  {
    defect: 'unknown expectation',
    entity: dataset('bad-dataset-expectation', {
      expectations: [{ type: 'expect_magic' }],
    }),
    field: '/spec/expectations/0/type',
  },
  {
    defect: 'unknown pipeline type',
    entity: pipeline('bad-pipeline-type', { type: 'etl' }),
    field: '/spec/type',
  },
  {
    defect: 'malformed schedule',
    entity: pipeline('bad-pipeline-schedule', { schedule: 'daily' }),
    field: '/spec/schedule',
  },
  {
    defect: 'produces without a kind',
    entity: pipeline('bad-pipeline-produces', { produces: ['wine-quality'] }),
    field: '/spec/produces/0',
  },
  {
    defect: 'produces naming a Component',
    entity: pipeline('bad-pipeline-produces-kind', {
      produces: ['component:wine-quality-api'],
    }),
    field: '/spec/produces/0',
  },
  {
    defect: 'consumes naming a Pipeline',
    entity: pipeline('bad-pipeline-consumes', {
      consumes: ['pipeline:wine-data-prep'],
    }),
    field: '/spec/consumes/0',
  },
  {
    defect: 'drift trigger without a model',
    entity: pipeline('bad-pipeline-trigger', { triggers: [{ type: 'drift' }] }),
    field: '/spec/triggers/0',
  },
  {
    defect: 'unknown runner',
    entity: pipeline('bad-pipeline-runner', { runner: { type: 'airflow' } }),
    field: '/spec/runner/type',
  },
  {
    defect: 'step without a name',
    entity: pipeline('bad-pipeline-step', { steps: [{ command: ['train'] }] }),
    field: '/spec/steps/0',
  },
  {
    defect: 'missing spec',
    entity: {
      apiVersion: 'loopline.dev/v1alpha1',
      kind: 'Model',
      metadata: { name: 'bad-model-no-spec' },
    },
    field: '<root>',
  },
];
