import {
  Entity,
  EntityRelation,
  parseEntityRef,
  RELATION_DEPENDENCY_OF,
  RELATION_DEPENDS_ON,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  DatasetEntityV1alpha1,
  getMlopsReferences,
  isMlopsEntity,
  LOOPLINE_API_VERSION,
  ModelEntityV1alpha1,
  PipelineEntityV1alpha1,
} from '@loopline/mlops-common';

/*
 * Test entities taken from the demo catalog (examples/), with the relations
 * the catalog module would emit, computed from the same shared references.
 */

export const wineQuality: ModelEntityV1alpha1 = {
  apiVersion: LOOPLINE_API_VERSION,
  kind: 'Model',
  metadata: {
    name: 'wine-quality',
    title: 'Wine quality',
    description: 'Predicts the sensory quality score of a wine.',
    tags: ['wine', 'regression'],
  },
  spec: {
    type: 'regression',
    owner: 'group:wine-science',
    lifecycle: 'production',
    system: 'wine-quality',
    trainedOn: ['wine-features'],
    producedBy: 'wine-quality-training',
    framework: 'onnx',
    modelCard: {
      intendedUse: "Rank new wine lots for the sommeliers' tasting queue.",
      limitations: 'Trained on Portuguese vinho verde only.',
      ethicalConsiderations: 'Scores never replace the sensory panel.',
      metrics: ['rmse', 'mae'],
    },
    monitoring: {
      drift: {
        method: 'psi',
        threshold: 0.2,
        schedule: '0 * * * *',
        reference: 'wine-features',
      },
      slos: { latencyP95Ms: 50, maxErrorRate: 0.01 },
    },
    serving: {
      runtime: 'onnx',
      target: 'embedded',
      environments: ['staging', 'production'],
    },
  },
};

export const customerChurn: ModelEntityV1alpha1 = {
  apiVersion: LOOPLINE_API_VERSION,
  kind: 'Model',
  metadata: { name: 'customer-churn', tags: ['customers'] },
  spec: {
    type: 'classification',
    owner: 'group:customer-insights',
    lifecycle: 'experimental',
    system: 'customer-retention',
    fairness: {
      sensitiveFeatures: ['region'],
      thresholds: { demographicParityDifference: 0.1 },
    },
  },
};

export const wineQualityRaw: DatasetEntityV1alpha1 = {
  apiVersion: LOOPLINE_API_VERSION,
  kind: 'Dataset',
  metadata: { name: 'wine-quality-raw', tags: ['wine'] },
  spec: {
    type: 'raw',
    owner: 'group:wine-science',
    lifecycle: 'production',
    system: 'wine-quality',
    location: 'file:examples/data/winequality.csv',
    format: 'csv',
    freshness: { maxAge: 'P30D' },
    schema: {
      fields: [
        { name: 'alcohol', type: 'float', role: 'feature' },
        {
          name: 'color',
          type: 'categorical',
          role: 'feature',
          description: 'red or white',
        },
        { name: 'quality', type: 'integer', role: 'target', nullable: true },
      ],
    },
    expectations: [
      {
        type: 'expect_column_values_to_be_between',
        column: 'pH',
        min: 2.5,
        max: 4.5,
      },
      {
        type: 'expect_column_values_to_be_in_set',
        column: 'color',
        values: ['red', 'white'],
        mostly: 0.95,
      },
    ],
  },
};

export const wineFeatures: DatasetEntityV1alpha1 = {
  apiVersion: LOOPLINE_API_VERSION,
  kind: 'Dataset',
  metadata: { name: 'wine-features', tags: ['wine', 'features'] },
  spec: {
    type: 'feature-set',
    owner: 'group:wine-science',
    lifecycle: 'production',
    system: 'wine-quality',
    location: 's3://acme-lake/features/wine/',
    format: 'parquet',
    derivedFrom: ['wine-quality-raw'],
  },
};

export const wineQualityTraining: PipelineEntityV1alpha1 = {
  apiVersion: LOOPLINE_API_VERSION,
  kind: 'Pipeline',
  metadata: { name: 'wine-quality-training' },
  spec: {
    type: 'training',
    owner: 'group:wine-science',
    lifecycle: 'production',
    system: 'wine-quality',
    schedule: '0 4 * * 1',
    consumes: ['wine-features'],
    produces: ['model:wine-quality'],
    runner: { type: 'kubernetes', image: 'ghcr.io/acme/wine-train:1.0.0' },
    steps: [
      { name: 'train', command: ['loopline-train', '--task', 'regression'] },
      {
        name: 'register',
        description: 'Registers the new version',
        dependsOn: ['train'],
      },
    ],
    triggers: [
      { type: 'schedule', cron: '0 4 * * 1' },
      { type: 'drift', model: 'wine-quality' },
      { type: 'dataset-update', dataset: 'wine-features' },
      { type: 'manual' },
    ],
  },
};

export const wineQualityApi: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'wine-quality-api' },
  spec: {
    type: 'service',
    lifecycle: 'production',
    owner: 'group:wine-science',
    dependsOn: ['model:wine-quality'],
  },
};

const group = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name },
  spec: { type: 'team', children: [] },
});

/** Adds to each entity the relations the catalog would give it, both ways. */
function withRelations<T extends Entity[]>(entities: T): T {
  const relations = new Map<string, EntityRelation[]>();
  const relate = (source: string, type: string, targetRef: string) => {
    const known = relations.get(source) ?? [];
    if (!known.some(r => r.type === type && r.targetRef === targetRef)) {
      relations.set(source, [...known, { type, targetRef }]);
    }
  };
  for (const entity of entities) {
    const ref = stringifyEntityRef(entity);
    const links = isMlopsEntity(entity)
      ? getMlopsReferences(entity).map(({ type, inverse, target }) => ({
          type,
          inverse,
          target: stringifyEntityRef(target),
        }))
      : ((entity.spec?.dependsOn as string[] | undefined) ?? []).map(
          target => ({
            type: RELATION_DEPENDS_ON,
            inverse: RELATION_DEPENDENCY_OF,
            target: stringifyEntityRef(parseEntityRef(target)),
          }),
        );
    for (const { type, inverse, target } of links) {
      relate(ref, type, target);
      relate(target, inverse, ref);
    }
  }
  for (const entity of entities) {
    entity.relations = relations.get(stringifyEntityRef(entity));
  }
  return entities;
}

/** The test catalog: the entities above, related, and their owners. */
export const catalogEntities: Entity[] = withRelations([
  wineQuality,
  customerChurn,
  wineQualityRaw,
  wineFeatures,
  wineQualityTraining,
  wineQualityApi,
  group('wine-science'),
  group('customer-insights'),
]);
