import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { CatalogFeatureSchemaSource, datasetFeatures } from './features';

const dataset = (name: string, namespace: string, fields: unknown[]) => ({
  apiVersion: 'loopline.dev/v1alpha1',
  kind: 'Dataset',
  metadata: { name, namespace },
  spec: {
    type: 'feature-set',
    owner: 'group:ml',
    lifecycle: 'production',
    location: 'file:x',
    format: 'csv',
    schema: { fields },
  },
});

const entities = [
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Model',
    metadata: { name: 'wine', namespace: 'team' },
    spec: {
      type: 'regression',
      owner: 'group:ml',
      lifecycle: 'production',
      trainedOn: ['wine-features'],
    },
  },
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Model',
    metadata: { name: 'untrained', namespace: 'default' },
    spec: { type: 'regression', owner: 'group:ml', lifecycle: 'production' },
  },
  dataset('wine-features', 'team', [
    { name: 'sample_id', type: 'string', role: 'id' },
    { name: 'alcohol', type: 'float', role: 'feature', description: '% vol' },
    { name: 'is_red', type: 'integer', role: 'feature' },
    { name: 'quality', type: 'integer', role: 'target' },
  ]),
  dataset('raw', 'default', [{ name: 'pH', type: 'float', role: 'feature' }]),
];

describe('CatalogFeatureSchemaSource', () => {
  function create() {
    const catalog = catalogServiceMock({ entities: entities as any });
    const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
    const source = new CatalogFeatureSchemaSource({
      catalog,
      auth: mockServices.auth(),
    });
    return { source, getEntityByRef };
  }

  it("reads the features of the Dataset the Model is trained on, in schema order, in the Model's namespace", async () => {
    const { source, getEntityByRef } = create();
    const expected = [
      { name: 'alcohol', type: 'float', description: '% vol' },
      { name: 'is_red', type: 'integer' },
    ];
    expect(await source.featuresFor({ entityRef: 'model:team/wine' })).toEqual(
      expected,
    );
    expect(await source.featuresFor({ entityRef: 'model:team/wine' })).toEqual(
      expected,
    );
    expect(getEntityByRef).toHaveBeenCalledTimes(2); // the Model, then the Dataset, once
  });

  it('prefers the Dataset the ONNX metadata names', async () => {
    const { source } = create();
    expect(
      await source.featuresFor({
        entityRef: 'model:team/wine',
        datasetRef: 'dataset:default/raw',
      }),
    ).toEqual([{ name: 'pH', type: 'float' }]);
  });

  it('knows nothing without a Dataset', async () => {
    const { source } = create();
    expect(
      await source.featuresFor({ entityRef: 'model:default/untrained' }),
    ).toBeUndefined();
    expect(
      await source.featuresFor({ entityRef: 'model:default/missing' }),
    ).toBeUndefined();
    expect(
      datasetFeatures({ schema: { fields: [{ name: 'y', role: 'target' }] } }),
    ).toBeUndefined();
  });
});
