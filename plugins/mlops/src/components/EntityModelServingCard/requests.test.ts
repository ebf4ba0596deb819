import type { ServingModelInfo } from '@loopline/mlops-common';
import { wineQualityServingInfo } from '../../__testUtils__/serving';
import {
  buildInferRequest,
  curlCommand,
  featureFields,
  inferUrl,
  parseFeatureValue,
  parseFeatureValues,
  shellQuote,
} from './requests';

const mixed: ServingModelInfo = {
  model: 'houses',
  entityRef: 'model:default/houses',
  loadedVersions: [],
  signature: {
    inputs: [
      { name: 'MSZoning', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'LotArea', datatype: 'INT32', shape: [-1, 1] },
      { name: 'Paved', datatype: 'BOOL', shape: [-1] },
    ],
    outputs: [{ name: 'price', datatype: 'FP64', shape: [-1] }],
  },
  features: [
    { name: 'MSZoning', type: 'categorical' },
    { name: 'LotArea', type: 'float' },
    { name: 'Paved', type: 'boolean' },
  ],
};

describe('featureFields', () => {
  it('takes numbers for an FP32 tensor, whole numbers for integer columns', () => {
    expect(featureFields(wineQualityServingInfo)).toEqual([
      {
        name: 'alcohol',
        type: 'float',
        description: 'Alcohol, % vol',
        kind: 'float',
        datatype: 'FP32',
      },
      {
        name: 'sulphates',
        type: 'float',
        description: undefined,
        kind: 'float',
        datatype: 'FP32',
      },
      {
        name: 'vintage',
        type: 'integer',
        description: undefined,
        kind: 'integer',
        datatype: 'FP32',
      },
    ]);
  });

  it("lets each input's datatype decide when the model takes one per feature", () => {
    expect(featureFields(mixed).map(field => field.kind)).toEqual([
      'text',
      'integer',
      'boolean',
    ]);
  });

  it('goes by the feature types when the signature is unknown', () => {
    const fields = featureFields({
      ...mixed,
      signature: undefined,
      features: [
        { name: 'a', type: 'float' },
        { name: 'b', type: 'integer' },
        { name: 'c', type: 'boolean' },
        { name: 'd', type: 'categorical' },
        { name: 'e', type: 'FP64' },
        { name: 'f', type: '' },
      ],
    });
    expect(fields.map(field => [field.kind, field.datatype])).toEqual([
      ['float', undefined],
      ['integer', undefined],
      ['boolean', undefined],
      ['text', undefined],
      ['float', undefined],
      ['text', undefined],
    ]);
  });

  it('makes a categorical column of a numeric tensor a number field', () => {
    const [field] = featureFields({
      ...wineQualityServingInfo,
      features: [{ name: 'color', type: 'categorical' }],
    });
    expect(field.kind).toBe('float');
  });
});

describe('parseFeatureValue', () => {
  const [alcohol, , vintage] = featureFields(wineQualityServingInfo);
  const [zoning, area, paved] = featureFields(mixed);

  it('reads numbers, whole numbers, booleans and text', () => {
    expect(parseFeatureValue(alcohol, ' 12.5 ')).toEqual({ value: 12.5 });
    expect(parseFeatureValue(alcohol, '-1e-3')).toEqual({ value: -0.001 });
    expect(parseFeatureValue(vintage, '2019')).toEqual({ value: 2019 });
    expect(parseFeatureValue(area, '8450')).toEqual({ value: 8450 });
    expect(parseFeatureValue(paved, 'false')).toEqual({ value: false });
    expect(parseFeatureValue(zoning, 'RL ')).toEqual({ value: 'RL ' });
  });

  it('says why a value cannot be read', () => {
    expect(parseFeatureValue(alcohol, '')).toEqual({ error: 'Required' });
    expect(parseFeatureValue(alcohol, 'abc')).toEqual({
      error: 'Enter a number',
    });
    expect(parseFeatureValue(alcohol, 'Infinity')).toEqual({
      error: 'Enter a number',
    });
    expect(parseFeatureValue(vintage, '2019.5')).toEqual({
      error: 'Enter a whole number',
    });
    expect(parseFeatureValue(vintage, '1e30')).toEqual({
      error: 'Enter a whole number',
    });
    expect(parseFeatureValue({ ...vintage, datatype: 'UINT8' }, '-1')).toEqual({
      error: 'Enter a number ≥ 0',
    });
    expect(parseFeatureValue(paved, 'yes')).toEqual({
      error: 'Choose true or false',
    });
  });

  it('reads a whole form', () => {
    expect(
      parseFeatureValues(featureFields(wineQualityServingInfo), {
        alcohol: '12.5',
        vintage: 'x',
      }),
    ).toEqual({
      values: { alcohol: 12.5 },
      errors: { sulphates: 'Required', vintage: 'Enter a whole number' },
    });
  });
});

describe('buildInferRequest', () => {
  it('puts the features in one row of the only input, in order', () => {
    expect(
      buildInferRequest(wineQualityServingInfo, {
        vintage: 2019,
        alcohol: 12.5,
        sulphates: 0.6,
      }),
    ).toEqual({
      inputs: [
        {
          name: 'features',
          datatype: 'FP32',
          shape: [1, 3],
          data: [12.5, 0.6, 2019],
        },
      ],
    });
  });

  it('shows the values not entered yet as <name>', () => {
    expect(
      buildInferRequest(wineQualityServingInfo, { alcohol: 12.5 })?.inputs[0]
        .data,
    ).toEqual([12.5, '<sulphates>', '<vintage>']);
  });

  it('sends one tensor per feature when the model takes them so', () => {
    expect(
      buildInferRequest(mixed, { MSZoning: 'RL', LotArea: 8450, Paved: true }),
    ).toEqual({
      inputs: [
        { name: 'MSZoning', datatype: 'BYTES', shape: [1, 1], data: ['RL'] },
        { name: 'LotArea', datatype: 'INT32', shape: [1, 1], data: [8450] },
        { name: 'Paved', datatype: 'BOOL', shape: [1], data: [true] },
      ],
    });
  });

  it('gives a rank-1 input a flat row', () => {
    expect(
      buildInferRequest(
        {
          ...wineQualityServingInfo,
          signature: {
            inputs: [{ name: 'x', datatype: 'FP64', shape: [3] }],
            outputs: [],
          },
        },
        { alcohol: 1, sulphates: 2, vintage: 3 },
      )?.inputs[0],
    ).toEqual({ name: 'x', datatype: 'FP64', shape: [3], data: [1, 2, 3] });
  });

  it('has nothing to offer without a signature or a feature mapping', () => {
    expect(
      buildInferRequest(
        { ...wineQualityServingInfo, signature: undefined },
        {},
      ),
    ).toBeUndefined();
    expect(
      buildInferRequest({ ...wineQualityServingInfo, features: [] }, {}),
    ).toBeUndefined();
    expect(
      buildInferRequest({ ...mixed, features: mixed.features.slice(0, 2) }, {}),
    ).toBeUndefined();
  });
});

describe('curl', () => {
  it('addresses the model or one version of it, name encoded', () => {
    expect(inferUrl('http://x/api/mlops', 'wine-quality')).toBe(
      'http://x/api/mlops/v2/models/wine-quality/infer',
    );
    expect(inferUrl('http://x/api/mlops', 'team/wine q', 3)).toBe(
      'http://x/api/mlops/v2/models/team%2Fwine%20q/versions/3/infer',
    );
  });

  it('quotes for the shell, single quotes included', () => {
    expect(shellQuote(`it's $HOME`)).toBe(`'it'\\''s $HOME'`);
  });

  it('posts the JSON body with a bearer token from the environment', () => {
    expect(
      curlCommand('http://x/api/mlops/v2/models/m/infer', {
        inputs: [
          { name: 'text', datatype: 'BYTES', shape: [1], data: ["it's"] },
        ],
      }),
    ).toBe(
      [
        "curl -sS -X POST 'http://x/api/mlops/v2/models/m/infer' \\",
        '  -H "Authorization: Bearer $BACKSTAGE_TOKEN" \\',
        "  -H 'Content-Type: application/json' \\",
        `  -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["it'\\''s"]}]}'`,
      ].join('\n'),
    );
  });
});
