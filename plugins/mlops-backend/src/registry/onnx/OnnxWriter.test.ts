import { InputError } from '@backstage/errors';
import { runOnnx } from '../../demo/__testUtils__/runOnnx';
import {
  ONNX_IR_VERSION,
  ONNX_OPSET_VERSION,
  readOnnxMetadata,
  readOnnxModel,
  writeLinearRegressor,
  writeLogisticRegressor,
} from './OnnxWriter';
import { TensorDataType } from './onnxProto';

const TOLERANCE = 1e-5;

const ROWS = [
  [1, 2, 3],
  [0, 0, 0],
  [-1.5, 0.25, 4],
  [10, -3, 0.125],
];

function flat(rows: number[][]) {
  return { data: rows.flat(), dims: [rows.length, rows[0].length] };
}

function dot(w: number[], x: number[]) {
  return w.reduce((sum, wi, i) => sum + wi * x[i], 0);
}

async function createSession(bytes: Buffer) {
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  return ort.InferenceSession.create(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    { logSeverityLevel: 4 },
  );
}

describe('writeLinearRegressor', () => {
  const weights = [0.5, -1.25, 2];
  const bias = 0.75;

  it('writes a ModelProto with IR 8, opset 17, producer loopline and metadata', () => {
    const bytes = writeLinearRegressor({
      weights,
      bias,
      featureNames: ['a', 'b', 'c'],
      modelName: 'wine-quality',
      metadata: { 'loopline.run_id': 'abc' },
      modelVersion: 3,
      docString: 'a test model',
    });
    const model = readOnnxModel(bytes);
    expect(model.ir_version).toBe(ONNX_IR_VERSION);
    expect(ONNX_IR_VERSION).toBe(8);
    expect(model.opset_import).toEqual([{ version: 17 }]);
    expect(ONNX_OPSET_VERSION).toBe(17);
    expect(model.producer_name).toBe('loopline');
    expect(model.model_version).toBe(3);
    expect(model.doc_string).toBe('a test model');
    expect(model.graph.input).toEqual([
      {
        name: 'input',
        doc_string: 'Columns: a, b, c',
        type: {
          tensor_type: {
            elem_type: TensorDataType.FLOAT,
            shape: { dim: [{ dim_param: 'batch' }, { dim_value: 3 }] },
          },
        },
      },
    ]);
    expect(model.graph.output).toEqual([
      {
        name: 'variable',
        type: {
          tensor_type: {
            elem_type: TensorDataType.FLOAT,
            shape: { dim: [{ dim_param: 'batch' }, { dim_value: 1 }] },
          },
        },
      },
    ]);
    expect(model.graph.node.map(n => n.op_type)).toEqual(['MatMul', 'Add']);
    const coefficients = model.graph.initializer!.find(
      t => t.name === 'coefficients',
    )!;
    expect(coefficients.dims).toEqual([3, 1]);
    expect(
      Array.from(
        new Float32Array(new Uint8Array(coefficients.raw_data!).buffer),
      ),
    ).toEqual(weights);
    expect(readOnnxMetadata(bytes)).toEqual({
      'loopline.model': 'wine-quality',
      'loopline.task': 'regression',
      'loopline.feature_names': '["a","b","c"]',
      'loopline.standardized': 'no',
      'loopline.run_id': 'abc',
    });
  });

  it('loads in onnxruntime-node with a symbolic batch dimension', async () => {
    const session = await createSession(
      writeLinearRegressor({ weights, bias }),
    );
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['variable']);
      expect(session.inputMetadata).toEqual([
        expect.objectContaining({
          name: 'input',
          isTensor: true,
          type: 'float32',
          shape: ['batch', 3],
        }),
      ]);
    } finally {
      await session.release();
    }
  });

  it('computes x · w + b like the same math in JS', () => {
    const out = runOnnx(writeLinearRegressor({ weights, bias }), {
      input: flat(ROWS),
    });
    expect(out.variable.dims).toEqual([ROWS.length, 1]);
    expect(out.variable.type).toBe('float32');
    ROWS.forEach((row, i) => {
      expect(
        Math.abs(out.variable.data[i] - (dot(weights, row) + bias)),
      ).toBeLessThan(TOLERANCE);
    });
  });

  it('standardises inside the graph when given a scaler', () => {
    const scaler = { mean: [1, -0.5, 2], scale: [2, 0.5, 4] };
    const bytes = writeLinearRegressor({
      weights,
      bias,
      scaler,
      outputName: 'quality',
      inputName: 'features',
    });
    expect(readOnnxModel(bytes).graph.node.map(n => n.op_type)).toEqual([
      'Sub',
      'Div',
      'MatMul',
      'Add',
    ]);
    expect(readOnnxMetadata(bytes)['loopline.standardized']).toBe('in-graph');
    const out = runOnnx(bytes, { features: flat(ROWS) });
    ROWS.forEach((row, i) => {
      const z = row.map((v, j) => (v - scaler.mean[j]) / scaler.scale[j]);
      expect(
        Math.abs(out.quality.data[i] - (dot(weights, z) + bias)),
      ).toBeLessThan(TOLERANCE);
    });
  });

  it('keeps caller-chosen names that look like internal ones', () => {
    const out = runOnnx(
      writeLinearRegressor({
        weights: [2],
        bias: 1,
        inputName: 'coefficients',
        outputName: 'intercept',
      }),
      { coefficients: { data: [3, -1], dims: [2, 1] } },
    );
    expect(out.intercept.data).toEqual([7, -1]);
  });

  it('rejects bad arguments with InputError naming the problem', () => {
    const cases: Array<[Parameters<typeof writeLinearRegressor>[0], RegExp]> = [
      [{ weights: [], bias: 0 }, /at least one weight/],
      [{ weights: [1, NaN], bias: 0 }, /weights\[1\] must be a finite number/],
      [{ weights: [1], bias: Infinity }, /bias\[0\] must be a finite number/],
      [
        { weights: [1, 2], bias: 0, featureNames: ['a'] },
        /1 names but there are 2 weights/,
      ],
      [{ weights: [1, 2], bias: 0, featureNames: ['a', 'a'] }, /distinct/],
      [
        { weights: [1], bias: 0, scaler: { mean: [0], scale: [0] } },
        /must not be 0/,
      ],
      [
        { weights: [1], bias: 0, scaler: { mean: [0, 1], scale: [1] } },
        /needs 1 means and 1 scales/,
      ],
      [
        { weights: [1], bias: 0, inputName: 'x', outputName: 'x' },
        /output name "x" is already used/,
      ],
      [{ weights: [1], bias: 0, outputName: '' }, /non-empty/],
      [
        { weights: [1], bias: 0, metadata: { 'loopline.model': 'x' } },
        /set by the writer itself/,
      ],
      [{ weights: [1], bias: 0, modelVersion: 1.5 }, /positive integer/],
    ];
    for (const [options, message] of cases) {
      expect(() => writeLinearRegressor(options)).toThrow(InputError);
      expect(() => writeLinearRegressor(options)).toThrow(message);
    }
  });
});

describe('writeLogisticRegressor', () => {
  const weights = [1.5, -0.5, 0.25];
  const bias = -0.2;
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

  it('declares probabilities FP32 [batch, 2] and label INT64 [batch]', async () => {
    const bytes = writeLogisticRegressor({
      weights,
      bias,
      featureNames: ['x1', 'x2', 'x3'],
      classLabels: ['white', 'red'],
      modelName: 'wine-type-classifier',
    });
    const model = readOnnxModel(bytes);
    expect(model.graph.node.map(n => n.op_type)).toEqual([
      'MatMul',
      'Add',
      'Sigmoid',
      'Sub',
      'Concat',
      'ArgMax',
    ]);
    expect(readOnnxMetadata(bytes)).toMatchObject({
      'loopline.model': 'wine-type-classifier',
      'loopline.task': 'binary-classification',
      'loopline.class_labels': '["white","red"]',
    });
    const session = await createSession(bytes);
    try {
      expect(session.outputMetadata).toEqual([
        expect.objectContaining({
          name: 'probabilities',
          type: 'float32',
          shape: ['batch', 2],
        }),
        expect.objectContaining({
          name: 'label',
          type: 'int64',
          shape: ['batch'],
        }),
      ]);
    } finally {
      await session.release();
    }
  });

  it('computes [1 - p, p] and the label like the same math in JS', () => {
    const scaler = { mean: [0.5, 0, -1], scale: [1.5, 2, 0.5] };
    const out = runOnnx(writeLogisticRegressor({ weights, bias, scaler }), {
      input: flat(ROWS),
    });
    expect(out.probabilities.dims).toEqual([ROWS.length, 2]);
    expect(out.label.dims).toEqual([ROWS.length]);
    expect(out.label.type).toBe('int64');
    ROWS.forEach((row, i) => {
      const z = row.map((v, j) => (v - scaler.mean[j]) / scaler.scale[j]);
      const p = sigmoid(dot(weights, z) + bias);
      expect(Math.abs(out.probabilities.data[2 * i] - (1 - p))).toBeLessThan(
        TOLERANCE,
      );
      expect(Math.abs(out.probabilities.data[2 * i + 1] - p)).toBeLessThan(
        TOLERANCE,
      );
      expect(out.label.data[i]).toBe(p > 0.5 ? 1 : 0);
    });
    // Both labels occur on these rows, so the ArgMax really chooses.
    expect(new Set(out.label.data)).toEqual(new Set([0, 1]));
  });

  it('can give one probability column, P(class 1)', () => {
    const bytes = writeLogisticRegressor({
      weights,
      bias,
      probabilityColumns: 1,
      probabilitiesName: 'p',
      labelName: 'y',
    });
    const out = runOnnx(bytes, { input: flat(ROWS) });
    expect(out.p.dims).toEqual([ROWS.length, 1]);
    ROWS.forEach((row, i) => {
      const p = sigmoid(dot(weights, row) + bias);
      expect(Math.abs(out.p.data[i] - p)).toBeLessThan(TOLERANCE);
      expect(out.y.data[i]).toBe(p > 0.5 ? 1 : 0);
    });
  });

  it('rejects clashing output names and bad options', () => {
    expect(() =>
      writeLogisticRegressor({ weights, bias, labelName: 'probabilities' }),
    ).toThrow(/label output name "probabilities" is already used/);
    expect(() =>
      writeLogisticRegressor({ weights, bias, probabilityColumns: 3 as any }),
    ).toThrow(/1 or 2/);
    expect(() =>
      writeLogisticRegressor({ weights, bias, classLabels: ['a'] as any }),
    ).toThrow(/two strings/);
  });
});
