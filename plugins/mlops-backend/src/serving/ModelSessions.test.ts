import { mockServices } from '@backstage/backend-test-utils';
import { NotFoundError } from '@backstage/errors';
import {
  writeLinearRegressor,
  writeLogisticRegressor,
} from '../registry/onnx/OnnxWriter';
import { encodeTensor, parseInferRequest, toFeeds } from './codec';
import { ModelSessions } from './ModelSessions';
import { addOnnx, reshapeOnnx } from './__testUtils__/servingModels';

const linear = writeLinearRegressor({
  weights: [0.5, -1, 2],
  bias: 0.25,
  featureNames: ['a', 'b', 'c'],
});

/** A registry with `files` as artifacts (name/version → bytes), counting reads. */
function fakeRegistry(files: Record<string, Buffer | Error>) {
  const readArtifact = jest.fn(async (name: string, version: number) => {
    const file = files[`${name}/${version}`];
    if (file === undefined) {
      throw new NotFoundError(
        `Registered model '${name}' has no version ${version}`,
      );
    }
    if (file instanceof Error) throw file;
    return file;
  });
  return { readArtifact };
}

function create(
  files: Record<string, Buffer | Error>,
  options: {
    maxLoaded?: number;
    failureBackoffMs?: number;
    clock?: () => number;
  } = {},
) {
  const registry = fakeRegistry(files);
  const sessions = new ModelSessions({
    registry,
    logger: mockServices.logger.mock(),
    ...options,
  });
  return { registry, sessions };
}

const x3 = (rows: number[][]) => ({
  input: encodeTensor({
    name: 'input',
    datatype: 'FP32',
    shape: [rows.length, 3],
    data: rows,
  }),
});

describe('ModelSessions', () => {
  it('loads a version once, with its signature, symbolic dimensions and feature names', async () => {
    const { registry, sessions } = create({ 'wine/1': linear });
    const [first, second] = await Promise.all([
      sessions.get('wine', 1),
      sessions.get('wine', 1),
    ]);
    expect(first).toBe(second);
    expect(await sessions.get('wine', 1)).toBe(first);
    expect(registry.readArtifact).toHaveBeenCalledTimes(1);
    expect(first.signature).toEqual({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
      outputs: [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }],
    });
    expect(first.inputs[0].dimNames).toEqual(['batch', undefined]);
    expect(first.featureNames).toEqual(['a', 'b', 'c']);
    expect(first.metadata['loopline.task']).toBe('regression');
    expect(sessions.loadedVersions('wine')).toEqual([1]);
    await sessions.close();
  });

  it('runs real inference', async () => {
    const { sessions } = create({ 'wine/1': linear });
    const model = await sessions.get('wine', 1);
    const out = await sessions.run(
      model,
      x3([
        [1, 2, 3],
        [0, 0, 0],
      ]),
      ['variable'],
    );
    expect(out.variable.dims).toEqual([2, 1]);
    const values = Array.from(out.variable.data as Float32Array);
    expect(values[0]).toBeCloseTo(0.5 - 2 + 6 + 0.25, 5);
    expect(values[1]).toBeCloseTo(0.25, 6);
    await sessions.close();
  });

  it('keeps a version that does not exist a NotFoundError', async () => {
    const { sessions } = create({});
    await expect(sessions.get('wine', 9)).rejects.toThrow(NotFoundError);
  });

  it('answers a load failure from memory for a while, then tries again', async () => {
    let now = 1_000_000;
    const files: Record<string, Buffer | Error> = {
      'wine/1': Buffer.from('not an onnx model'),
    };
    const { registry, sessions } = create(files, {
      failureBackoffMs: 5000,
      clock: () => now,
    });
    const failure = await sessions.get('wine', 1).catch(e => e);
    expect(failure.name).toBe('ServiceUnavailableError');
    expect(failure.message).toMatch(
      /^Model wine version 1 could not be loaded: /,
    );
    await expect(sessions.get('wine', 1)).rejects.toBe(failure);
    expect(registry.readArtifact).toHaveBeenCalledTimes(1);

    files['wine/1'] = linear;
    now += 5001;
    const model = await sessions.get('wine', 1);
    expect(model.version).toBe(1);
    expect(registry.readArtifact).toHaveBeenCalledTimes(2);
    await sessions.close();
  });

  it('unloads, retains only the routed versions, and reloads on demand', async () => {
    const { registry, sessions } = create({
      'wine/1': linear,
      'wine/2': linear,
      'wine/3': linear,
      'other/1': linear,
    });
    const v1 = await sessions.get('wine', 1);
    await sessions.get('wine', 2);
    await sessions.get('wine', 3);
    await sessions.get('other', 1);
    expect(await sessions.retainOnly('wine', [3])).toEqual([1, 2]);
    expect(sessions.loadedVersions('wine')).toEqual([3]);
    expect(sessions.loadedVersions('other')).toEqual([1]);
    expect(v1.released).toBe(true);
    expect(sessions.peek('wine', 1)).toBeUndefined();

    // A run on a released model loads the version again.
    const out = await sessions.run(v1, x3([[1, 1, 1]]));
    expect((out.variable.data as Float32Array)[0]).toBeCloseTo(1.75, 5);
    expect(registry.readArtifact).toHaveBeenCalledTimes(5);
    expect(await sessions.unload('wine', 1)).toBe(true);
    expect(await sessions.unload('wine', 1)).toBe(false);
    await sessions.close();
  });

  it('releases an unloaded session only after the inferences running on it', async () => {
    const { sessions } = create({ 'wine/1': linear });
    const model = await sessions.get('wine', 1);
    const running = sessions.run(model, x3([[1, 2, 3]]));
    expect(model.inFlight).toBe(1);
    const unloading = sessions.unload('wine', 1);
    expect(model.retired).toBe(true);
    expect(model.released).toBe(false);
    await unloading;
    const out = await running;
    expect((out.variable.data as Float32Array)[0]).toBeCloseTo(4.75, 5);
    expect(model.inFlight).toBe(0);
    expect(model.released).toBe(true);
  });

  it('unloads the least recently used version beyond maxLoaded', async () => {
    const { sessions } = create(
      { 'a/1': linear, 'b/1': linear, 'c/1': linear },
      { maxLoaded: 2 },
    );
    const a = await sessions.get('a', 1);
    await sessions.get('b', 1);
    await sessions.get('a', 1); // a is now the most recently used
    await sessions.get('c', 1);
    expect(
      sessions
        .list()
        .map(m => m.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(a.released).toBe(false);
    await sessions.close();
    expect(a.released).toBe(true);
    await expect(sessions.get('a', 1)).rejects.toThrow('shutting down');
  });

  it("turns the runtime's own feed errors into InputErrors and other failures into InferenceErrors", async () => {
    const { sessions } = create({
      'add/1': addOnnx(),
      'reshape/1': reshapeOnnx(),
    });
    const add = await sessions.get('add', 1);
    const mismatch = await sessions
      .run(add, {
        a: encodeTensor({
          name: 'a',
          datatype: 'FP32',
          shape: [1, 2],
          data: [1, 2],
        }),
        b: encodeTensor({
          name: 'b',
          datatype: 'FP32',
          shape: [1, 3],
          data: [1, 2, 3],
        }),
      })
      .catch(e => e);
    expect(mismatch.name).toBe('InputError');
    expect(mismatch.message).toContain('Got invalid dimensions for input: b');

    const reshape = await sessions.get('reshape', 1);
    const feeds = toFeeds(
      parseInferRequest({
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] },
          { name: 'shape', datatype: 'INT64', shape: [2], data: [3, 3] },
        ],
      }),
      reshape.inputs,
    );
    const failure = await sessions.run(reshape, feeds).catch(e => e);
    expect(failure.name).toBe('InferenceError');
    expect(failure.message).toMatch(/^Inference failed: .*Reshape/);
    await sessions.close();
  });

  it('loads a logistic regressor with two outputs', async () => {
    const { sessions } = create({
      'churn/1': writeLogisticRegressor({ weights: [1, -1], bias: 0 }),
    });
    const model = await sessions.get('churn', 1);
    expect(model.signature.outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      { name: 'label', datatype: 'INT64', shape: [-1] },
    ]);
    expect(model.featureNames).toBeUndefined();
    await sessions.close();
  });
});
