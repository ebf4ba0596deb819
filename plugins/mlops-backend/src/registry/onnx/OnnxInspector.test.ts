import { InputError } from '@backstage/errors';
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  externalDataOnnx,
  invalidGraphOnnx,
  linearRegressionOnnx,
  manyTypesOnnx,
  sequenceOutputOnnx,
} from '../__testUtils__/onnxModels';
import { OnnxInspector } from './OnnxInspector';
import { writeLinearRegressor, writeLogisticRegressor } from './OnnxWriter';

describe('OnnxInspector', () => {
  const inspector = new OnnxInspector();

  it('reads the signature of a linear regression model', async () => {
    await expect(
      inspector.inspect(linearRegressionOnnx([1, 2, 3, 4])),
    ).resolves.toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    });
  });

  it('builds fixtures onnxruntime really runs (checked in a plain node process)', () => {
    // Jest's sandbox gives tensors returned by the native binding another
    // realm's typed arrays, so the fixture is run outside it.
    const dir = mkdtempSync(join(tmpdir(), 'loopline-onnx-'));
    try {
      const file = join(dir, 'model.onnx');
      writeFileSync(file, linearRegressionOnnx([1, 2, 3], 0.5));
      const script = `
        const ort = require(${JSON.stringify(
          require.resolve('onnxruntime-node'),
        )});
        (async () => {
          const session = await ort.InferenceSession.create(process.argv[1]);
          const x = new ort.Tensor('float32', Float32Array.from([1, 1, 1, 2, 0, 1]), [2, 3]);
          const { y } = await session.run({ x });
          process.stdout.write(JSON.stringify({ dims: y.dims, data: Array.from(y.data) }));
        })().catch(e => { console.error(e); process.exit(1); });`;
      const output = execFileSync(process.execPath, ['-e', script, file], {
        encoding: 'utf8',
      });
      expect(JSON.parse(output)).toEqual({ dims: [2, 1], data: [6.5, 5.5] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps element types to Open Inference Protocol datatypes, free dimensions to -1', async () => {
    const signature = await inspector.inspect(manyTypesOnnx());
    expect(signature.inputs).toEqual([
      { name: 'd', datatype: 'FP64', shape: [-1, 4] },
      { name: 'ids', datatype: 'INT64', shape: [-1] },
      { name: 'flag', datatype: 'BOOL', shape: [2, 2] },
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'pixels', datatype: 'UINT8', shape: [-1, 3] },
      { name: 'small', datatype: 'INT8', shape: [1] },
      { name: 'count', datatype: 'INT32', shape: [-1] },
      { name: 'half', datatype: 'FP16', shape: [-1, 2] },
    ]);
    expect(signature.outputs.map(o => [o.name, o.datatype])).toEqual([
      ['d_out', 'FP64'],
      ['ids_out', 'INT64'],
      ['flag_out', 'BOOL'],
      ['label_out', 'BYTES'],
      ['pixels_out', 'UINT8'],
      ['small_out', 'INT8'],
      ['count_out', 'INT32'],
      ['half_out', 'FP16'],
    ]);
  });

  it('accepts a Buffer that is a slice of a larger allocation', async () => {
    const model = linearRegressionOnnx();
    const pool = Buffer.alloc(model.length + 64, 7);
    model.copy(pool, 32);
    const slice = pool.subarray(32, 32 + model.length);
    await expect(inspector.inspect(slice)).resolves.toMatchObject({
      inputs: [{ name: 'x' }],
    });
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0), 'it is empty'],
    [
      'garbage bytes',
      Buffer.from('this is not a model, just text'),
      'protobuf',
    ],
    [
      'random binary',
      Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) % 256)),
      '',
    ],
    ['a truncated model', linearRegressionOnnx().subarray(0, 40), ''],
    ['a graph with an unknown operator', invalidGraphOnnx(), 'NoSuchOperator'],
  ])('refuses %s with an InputError', async (_what, bytes, detail) => {
    const error = await inspector.inspect(bytes).catch(e => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/^The file is not a loadable ONNX model: /);
    expect(error.message).toContain(detail);
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/\u001b/);
  });

  it('refuses a model whose weights point at a file on the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopline-onnx-'));
    try {
      const weights = join(dir, 'weights.bin');
      writeFileSync(weights, Buffer.from(Float32Array.from([1, 2, 3]).buffer));
      for (const location of [weights, 'weights.bin', '../weights.bin']) {
        await expect(
          inspector.inspect(externalDataOnnx(location)),
        ).rejects.toThrow(InputError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a model with an output that is not a tensor', async () => {
    await expect(inspector.inspect(sequenceOutputOnnx())).rejects.toThrow(
      /output "seq" is not a tensor/,
    );
  });

  it("reads the signatures of the project's own writer's models", async () => {
    await expect(
      inspector.inspect(
        writeLinearRegressor({
          weights: [0.3, -0.2, 0.1],
          bias: 5.6,
          scaler: { mean: [1, 2, 3], scale: [1, 1, 2] },
        }),
      ),
    ).resolves.toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }],
    });
    await expect(
      inspector.inspect(
        writeLogisticRegressor({ weights: [1, -1], bias: 0.1 }),
      ),
    ).resolves.toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
      outputs: expect.arrayContaining([
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ]),
    });
  });
});
