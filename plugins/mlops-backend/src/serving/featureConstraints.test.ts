import { entityKindSchemaValidator } from '@backstage/catalog-model';
import { datasetEntitySchema } from '@loopline/mlops-common';
import { checkFeatureConstraints } from './featureLayout';
import { datasetFeatures } from './features';

const features = [
  { name: 'alcohol', type: 'float', constraints: { min: 8, max: 15 } },
  {
    name: 'color',
    type: 'categorical',
    constraints: { values: ['red', 'white'] },
  },
  { name: 'lot', type: 'string', constraints: { pattern: '^L-[0-9]{4}$' } },
  { name: 'ph', type: 'float' },
];

describe('feature constraints from the Dataset schema', () => {
  it('passes records within every constraint', () => {
    expect(() =>
      checkFeatureConstraints(
        [{ alcohol: 8, color: 'red', lot: 'L-0001', ph: -3 }],
        features,
        false,
      ),
    ).not.toThrow();
  });

  it('answers one 400 naming each failing field, with the record in a batch', () => {
    let error: any;
    try {
      checkFeatureConstraints(
        [
          { alcohol: 10, color: 'white', lot: 'L-1234', ph: 3 },
          { alcohol: 42, color: 'pink', lot: 'lot 7', ph: 3 },
          { alcohol: 7.9, color: 'red', lot: 'L-0002', ph: 3 },
        ],
        features,
        true,
      );
    } catch (e) {
      error = e;
    }
    expect(error?.name).toBe('InputError');
    expect(error.message).toContain('(4)');
    expect(error.message).toContain(
      'records.1.alcohol: 42 is above the maximum 15',
    );
    expect(error.message).toContain(
      'records.1.color: "pink" is not one of "red", "white"',
    );
    expect(error.message).toContain(
      'records.1.lot: "lot 7" does not match ^L-[0-9]{4}$',
    );
    expect(error.message).toContain(
      'records.2.alcohol: 7.9 is below the minimum 8',
    );
    expect(error.message).not.toContain('records.0');
  });

  it('reads the constraints off the Dataset schema, which validates them', async () => {
    const entity = {
      apiVersion: 'loopline.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'wine' },
      spec: {
        type: 'curated',
        owner: 'team-a',
        lifecycle: 'production',
        location: 'file://examples/data/winequality.csv',
        format: 'csv',
        schema: {
          fields: [
            {
              name: 'alcohol',
              type: 'float',
              role: 'feature',
              constraints: { min: 8, max: 15 },
            },
            {
              name: 'color',
              type: 'categorical',
              role: 'feature',
              constraints: { values: ['red', 'white'] },
            },
            { name: 'quality', type: 'integer', role: 'target' },
          ],
        },
      },
    };
    const validate = entityKindSchemaValidator(datasetEntitySchema as any);
    expect(validate(entity)).toBe(entity);
    expect(() =>
      validate({
        ...entity,
        spec: {
          ...entity.spec,
          schema: {
            fields: [{ name: 'a', type: 'float', constraints: { minimum: 1 } }],
          },
        },
      }),
    ).toThrow();
    expect(datasetFeatures(entity.spec)).toEqual([
      { name: 'alcohol', type: 'float', constraints: { min: 8, max: 15 } },
      {
        name: 'color',
        type: 'categorical',
        constraints: { values: ['red', 'white'] },
      },
    ]);
  });
});
