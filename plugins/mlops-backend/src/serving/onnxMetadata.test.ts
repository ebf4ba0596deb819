import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';
import { parseFeatureNames, readModelMetadata } from './onnxMetadata';
import { encodeModel, identityOnnx } from './__testUtils__/servingModels';

describe('readModelMetadata', () => {
  it("reads OnnxWriter's metadata without decoding the graph", () => {
    const bytes = writeLinearRegressor({
      weights: Array.from({ length: 500 }, (_, i) => i / 500),
      bias: 1,
      featureNames: Array.from({ length: 500 }, (_, i) => `f${i}`),
      modelName: 'wide',
      metadata: { 'loopline.dataset': 'dataset:default/wide' },
    });
    const metadata = readModelMetadata(bytes);
    expect(metadata['loopline.model']).toBe('wide');
    expect(metadata['loopline.dataset']).toBe('dataset:default/wide');
    expect(parseFeatureNames(metadata)).toHaveLength(500);
  });

  it('gives nothing for a model without metadata or for bytes that are not a model', () => {
    expect(readModelMetadata(identityOnnx('FP32'))).toEqual({});
    expect(readModelMetadata(Buffer.from([0xff, 0xff, 0xff]))).toEqual({});
    expect(
      readModelMetadata(
        encodeModel({ node: [], input: [], output: [] }, { a: 'b' }),
      ),
    ).toEqual({ a: 'b' });
  });
});

describe('parseFeatureNames', () => {
  it.each([
    ['["a","b"]', ['a', 'b']],
    ['a, b ,c', ['a', 'b', 'c']],
    ['single', ['single']],
    ['', undefined],
    ['["a","a"]', undefined],
    ['a,,b', undefined],
    ['[1,2]', undefined],
    ['[broken', undefined],
  ])('%j → %j', (value, names) => {
    expect(parseFeatureNames({ 'loopline.feature_names': value })).toEqual(
      names,
    );
  });
});
