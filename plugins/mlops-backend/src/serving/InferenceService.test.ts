import { describeWithSpecs, readSpecJson } from '../__testUtils__/specs';
import { mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { ServingFeature, TensorDatatype } from '@loopline/mlops-common';
import {
  writeLinearRegressor,
  writeLogisticRegressor,
} from '../registry/onnx/OnnxWriter';
import { halfBitsToFloat, OIP_DATATYPES } from './codec';
import { InferenceService } from './InferenceService';
import type { InferenceEvent } from './log/types';
import { ModelSessions } from './ModelSessions';
import { ProductionTrafficRouter } from './TrafficRouter';
import { FakeRegistry } from './__testUtils__/fakeRegistry';
import {
  allTypesIdentityOnnx,
  identityOnnx,
  perFeatureInputsOnnx,
} from './__testUtils__/servingModels';

/** KServe's own iris sample, read when its test runs. */
const iris = () => readSpecJson('oip-v2/examples/iris-input.json');
const IRIS_WEIGHTS = [0.5, -0.25, 1, 2];
const IRIS_BIAS = 0.1;

const wine = writeLinearRegressor({
  weights: [0.5, -1, 2],
  bias: 0.25,
  featureNames: ['alcohol', 'volatile_acidity', 'sulphates'],
  modelName: 'wine',
});
const churn = writeLogisticRegressor({
  weights: [1.5, -2],
  bias: 0.5,
  featureNames: ['tenure', 'complaints'],
  modelName: 'churn',
});
/** The same graph without feature names: the Dataset names its columns. */
const anonymous = writeLinearRegressor({ weights: [1, 2], bias: 0 });

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Input values of each datatype for a [2, 2] tensor, and what comes back. */
const ROUND_TRIP: Record<
  TensorDatatype,
  { given: unknown[]; back: unknown[] }
> = {
  BOOL: { given: [true, false, 0, 1], back: [true, false, false, true] },
  UINT8: { given: [0, 255, 1, 2], back: [0, 255, 1, 2] },
  UINT16: { given: [0, 65535, 3, 4], back: [0, 65535, 3, 4] },
  UINT32: { given: [0, 4294967295, 5, 6], back: [0, 4294967295, 5, 6] },
  UINT64: {
    given: ['18446744073709551615', 0, '9007199254740993', 7],
    back: ['18446744073709551615', 0, '9007199254740993', 7],
  },
  INT8: { given: [-128, 127, 0, -1], back: [-128, 127, 0, -1] },
  INT16: { given: [-32768, 32767, 0, 1], back: [-32768, 32767, 0, 1] },
  INT32: {
    given: [-2147483648, 2147483647, 0, 1],
    back: [-2147483648, 2147483647, 0, 1],
  },
  INT64: {
    given: [
      '-9223372036854775808',
      '9223372036854775807',
      -9007199254740991,
      5,
    ],
    back: ['-9223372036854775808', '9223372036854775807', -9007199254740991, 5],
  },
  FP16: {
    given: [1 / 3, 65504, 'NaN', '-Infinity'],
    back: [halfBitsToFloat(0x3555), 65504, 'NaN', '-Infinity'],
  },
  FP32: {
    given: [
      [0.1, -3.4e38],
      ['Infinity', 'NaN'],
    ],
    back: [Math.fround(0.1), Math.fround(-3.4e38), 'Infinity', 'NaN'],
  },
  FP64: {
    given: [0.1, 5e-324, -0, '-Infinity'],
    back: [0.1, 5e-324, -0, '-Infinity'],
  },
  BYTES: { given: ['a', 'é 🍷', '', 'x y'], back: ['a', 'é 🍷', '', 'x y'] },
};

async function setup(
  options: {
    features?: Record<string, ServingFeature[]>;
    observers?: boolean;
  } = {},
) {
  const fake = new FakeRegistry();
  await fake.add('wine', 1, 'Archived', wine);
  await fake.add('wine', 2, 'Production', wine);
  await fake.add('churn', 1, 'Production', churn);
  await fake.add('anon', 1, 'Production', anonymous, 'model:team/anon');
  await fake.add(
    'per-feature',
    1,
    'Production',
    perFeatureInputsOnnx({ alcohol: 2, is_red: -1 }),
  );
  await fake.add(
    'iris',
    1,
    'Production',
    writeLinearRegressor({
      weights: IRIS_WEIGHTS,
      bias: IRIS_BIAS,
      inputName: 'input-0',
      outputName: 'predict',
    }),
  );
  await fake.add('staged', 1, 'Staging', wine);
  await fake.add('broken', 1, 'Production', Buffer.from('not a model'));
  await fake.add(
    'all-types',
    1,
    'Production',
    allTypesIdentityOnnx(OIP_DATATYPES),
  );
  const registry = fake.asRegistry();
  const logger = mockServices.logger.mock();
  const sessions = new ModelSessions({ registry, logger });
  const events: InferenceEvent[] = [];
  let ids = 0;
  const featuresFor = jest.fn(
    async ({ entityRef }: { entityRef: string }) =>
      options.features?.[entityRef],
  );
  const service = new InferenceService({
    registry,
    sessions,
    trafficRouter: new ProductionTrafficRouter({ registry }),
    observers:
      options.observers === false ? [] : [{ observe: e => events.push(e) }],
    featureSource: options.features ? { featuresFor } : undefined,
    logger,
    newRequestId: () => `req-${++ids}`,
  });
  return { fake, registry, sessions, service, events, featuresFor };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => ({ name: error.name, message: error.message }),
  );

describe('InferenceService', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.sessions.close();
  });
  beforeEach(() => {
    ctx.events.length = 0;
  });

  describe('infer (OIP v2)', () => {
    describeWithSpecs("KServe's iris sample", () => {
      it("answers KServe's iris sample with real inference on the Production version", async () => {
        const IRIS = iris();
        const result = await ctx.service.infer({
          modelName: 'iris',
          request: IRIS,
        });
        const rows: number[][] = IRIS.inputs[0].data;
        expect(result.response).toEqual({
          model_name: 'iris',
          model_version: '1',
          outputs: [
            {
              name: 'predict',
              datatype: 'FP32',
              shape: [2, 1],
              data: expect.any(Array),
            },
          ],
        });
        rows.forEach((row, i) => {
          const expected = row.reduce(
            (s, v, j) => s + v * IRIS_WEIGHTS[j],
            IRIS_BIAS,
          );
          expect(result.response.outputs[0].data[i]).toBeCloseTo(expected, 4);
        });
        expect(result.version).toBe(1);
        expect(result.requestId).toBe(ctx.events[0].requestId);
        expect(ctx.events).toEqual([
          {
            requestId: expect.stringMatching(/^req-\d+$/),
            modelName: 'iris',
            version: 1,
            route: 'oip',
            source: 'embedded',
            status: 'ok',
            httpStatus: 200,
            latencyMs: expect.any(Number),
            inputs: IRIS.inputs,
            outputs: result.response.outputs,
            timestamp: expect.any(Number),
          },
        ]);
      });
    });

    it('echoes the id only when the request gives one, and reports it as the request id', async () => {
      const request = {
        id: 'abc-42',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
        ],
      };
      const { response } = await ctx.service.infer({
        modelName: 'wine',
        request,
      });
      expect(response.id).toBe('abc-42');
      expect(response.model_version).toBe('2');
      expect(response.outputs[0].data[0]).toBeCloseTo(0.5 - 2 + 6 + 0.25, 5);
      expect(ctx.events[0].requestId).toBe('abc-42');
    });

    it('serves a version named in the path, and refuses unknown or malformed ones', async () => {
      const request = {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 3], data: [0, 0, 0] },
        ],
      };
      const { response } = await ctx.service.infer({
        modelName: 'wine',
        version: '1',
        request,
      });
      expect(response.model_version).toBe('1');
      expect(
        await failure(
          ctx.service.infer({ modelName: 'wine', version: '9', request }),
        ),
      ).toEqual({
        name: 'NotFoundError',
        message: 'Model wine has no version 9',
      });
      expect(
        await failure(
          ctx.service.infer({ modelName: 'wine', version: 'latest', request }),
        ),
      ).toEqual({
        name: 'InputError',
        message:
          'Invalid model version "latest": it must be a positive integer',
      });
      expect(
        await failure(ctx.service.infer({ modelName: 'staged', request })),
      ).toEqual({
        name: 'NotFoundError',
        message: 'Model staged has no version in Production',
      });
    });

    it('answers an unknown model like KServe and reports nothing for it', async () => {
      expect(
        await failure(ctx.service.infer({ modelName: 'nope', request: {} })),
      ).toEqual({
        name: 'NotFoundError',
        message: 'Model with name nope does not exist.',
      });
      expect(ctx.events).toEqual([]);
    });

    it('reports failures with their status and message', async () => {
      const bad = {
        inputs: [
          { name: 'input', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] },
        ],
      };
      expect(
        await failure(ctx.service.infer({ modelName: 'wine', request: bad })),
      ).toEqual({
        name: 'InputError',
        message:
          'Invalid input "input": datatype FP64 does not match the model\'s FP32',
      });
      expect(ctx.events).toEqual([
        expect.objectContaining({
          modelName: 'wine',
          version: 2,
          status: 'error',
          httpStatus: 400,
          error:
            'Invalid input "input": datatype FP64 does not match the model\'s FP32',
          inputs: bad.inputs,
        }),
      ]);
      expect(ctx.events[0].outputs).toBeUndefined();
    });

    it('asks authorize with the entity before reading the body, and reports a refusal', async () => {
      const authorize = jest.fn(async (entityRef: string) => {
        throw new NotAllowedError(`no invoke on ${entityRef}`);
      });
      expect(
        await failure(
          ctx.service.infer({
            modelName: 'anon',
            request: 'garbage',
            authorize,
          }),
        ),
      ).toEqual({
        name: 'NotAllowedError',
        message: 'no invoke on model:team/anon',
      });
      expect(authorize).toHaveBeenCalledWith('model:team/anon');
      expect(ctx.events[0]).toMatchObject({
        modelName: 'anon',
        status: 'error',
        httpStatus: 403,
      });
    });

    it('returns the requested outputs only, refusing unknown ones', async () => {
      const inputs = [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [2, 2],
          data: [
            [1, 0],
            [0, 1],
          ],
        },
      ];
      const { response } = await ctx.service.infer({
        modelName: 'churn',
        request: { inputs, outputs: [{ name: 'label' }] },
      });
      expect(response.outputs).toEqual([
        { name: 'label', datatype: 'INT64', shape: [2], data: [1, 0] },
      ]);
      expect(
        await failure(
          ctx.service.infer({
            modelName: 'churn',
            request: { inputs, outputs: [{ name: 'proba' }] },
          }),
        ),
      ).toMatchObject({
        name: 'InputError',
        message: expect.stringContaining('Unknown output "proba"'),
      });
    });

    it('answers 503 for a Production version the runtime cannot load', async () => {
      const error = await failure(
        ctx.service.infer({
          modelName: 'broken',
          request: {
            inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
          },
        }),
      );
      expect(error).toMatchObject({
        name: 'ServiceUnavailableError',
        message: expect.stringMatching(
          /^Model broken version 1 could not be loaded/,
        ),
      });
      expect(ctx.events[0]).toMatchObject({ httpStatus: 503, version: 1 });
    });

    it('carries every OIP datatype both ways through one model', async () => {
      const request = {
        inputs: OIP_DATATYPES.map(t => ({
          name: `in_${t}`,
          datatype: t,
          shape: [2, 2],
          data: ROUND_TRIP[t].given,
        })),
      };
      const { response } = await ctx.service.infer({
        modelName: 'all-types',
        request,
      });
      expect(response.outputs).toEqual(
        OIP_DATATYPES.map(t => ({
          name: `out_${t}`,
          datatype: t,
          shape: [2, 2],
          data: ROUND_TRIP[t].back,
        })),
      );
      // And the response survives JSON as the wire carries it.
      const wire = JSON.parse(JSON.stringify(response));
      expect(wire.outputs.find((o: any) => o.name === 'out_FP64').data).toEqual(
        [0.1, 5e-324, 0, '-Infinity'],
      );
    });

    it.each(OIP_DATATYPES)(
      'round-trips %s through an Identity model of that element type',
      async datatype => {
        await ctx.fake.add(
          `identity-${datatype}`,
          1,
          'Production',
          identityOnnx(datatype, ['batch', 2]),
        );
        const { response } = await ctx.service.infer({
          modelName: `identity-${datatype}`,
          request: {
            inputs: [
              {
                name: 'x',
                datatype,
                shape: [2, 2],
                data: ROUND_TRIP[datatype].given,
              },
            ],
          },
        });
        expect(response.outputs).toEqual([
          {
            name: 'y',
            datatype,
            shape: [2, 2],
            data: ROUND_TRIP[datatype].back,
          },
        ]);
      },
    );

    it('reads the registry once per cache period however many requests come', async () => {
      const before = { ...ctx.fake.calls };
      const request = {
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 1, 1] },
        ],
      };
      await Promise.all(
        Array.from({ length: 30 }, () =>
          ctx.service.infer({ modelName: 'wine', request }),
        ),
      );
      const delta = (m: string) => (ctx.fake.calls[m] ?? 0) - (before[m] ?? 0);
      expect(delta('getRegisteredModel')).toBeLessThanOrEqual(1);
      expect(delta('getLatestVersions')).toBeLessThanOrEqual(1);
      expect(delta('readArtifact')).toBe(0);
      expect(ctx.events).toHaveLength(30);
    });
  });

  describe('predict', () => {
    it('maps features by name onto the input columns (ONNX feature names)', async () => {
      const result = await ctx.service.predict({
        modelName: 'wine',
        body: { features: { sulphates: 3, alcohol: 1, volatile_acidity: 2 } },
      });
      expect(result).toEqual({
        model: 'wine',
        version: 2,
        requestId: expect.stringMatching(/^req-/),
        outputs: { variable: expect.any(Number) },
        prediction: expect.any(Number),
        latencyMs: expect.any(Number),
      });
      expect(result.prediction).toBeCloseTo(0.5 - 2 + 6 + 0.25, 5);
      expect(ctx.events[0]).toMatchObject({
        route: 'predict',
        status: 'ok',
        requestId: result.requestId,
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
        ],
      });
    });

    it("takes a classifier's label as the prediction, with the probabilities", async () => {
      const result = await ctx.service.predict({
        modelName: 'churn',
        body: { features: { tenure: 2, complaints: 0 } },
      });
      const p = sigmoid(1.5 * 2 + 0.5);
      expect(result.prediction).toBe(1);
      expect(result.outputs.label).toBe(1);
      const [p0, p1] = result.outputs.probabilities as number[];
      expect(p1).toBeCloseTo(p, 5);
      expect(p0).toBeCloseTo(1 - p, 5);
    });

    it('predicts a batch in order, with an explicit version', async () => {
      const result = await ctx.service.predictBatch({
        modelName: 'wine',
        body: {
          version: 1,
          records: [
            { alcohol: 0, volatile_acidity: 0, sulphates: 0 },
            { alcohol: 2, volatile_acidity: 0, sulphates: 0 },
            { alcohol: 0, volatile_acidity: 0, sulphates: 1 },
          ],
        },
      });
      expect(result.version).toBe(1);
      expect(result.predictions.map(p => p.prediction)).toEqual([
        expect.closeTo(0.25, 5),
        expect.closeTo(1.25, 5),
        expect.closeTo(2.25, 5),
      ]);
      expect(ctx.events[0]).toMatchObject({
        route: 'predict-batch',
        version: 1,
      });
    });

    it.each([
      [
        { features: { alcohol: 1, volatile_acidity: 2 } },
        'Missing feature "sulphates"; the model takes alcohol, volatile_acidity, sulphates',
      ],
      [
        {
          features: {
            alcohol: 1,
            volatile_acidity: 2,
            sulphates: 3,
            colour: 1,
          },
        },
        'Unknown feature "colour"',
      ],
      [
        { features: { alcohol: '1', volatile_acidity: 2, sulphates: 3 } },
        'Feature "alcohol" must be a number (the model\'s input "input" is FP32), got "1"',
      ],
      [
        { features: { alcohol: 1 }, extra: true },
        "Invalid predict request: Unrecognized key(s) in object: 'extra'",
      ],
      [
        { features: [] },
        'Invalid predict request: features: must be an object of feature name → value',
      ],
      [
        { features: { alcohol: null } },
        'Invalid predict request: features.alcohol',
      ],
      [{ features: {}, version: 0 }, 'version: must be a positive integer'],
      ['text', 'Invalid predict request: The body must be a JSON object'],
    ])('refuses %j', async (body, message) => {
      const error = await failure(
        ctx.service.predict({ modelName: 'wine', body }),
      );
      expect(error.name).toBe('InputError');
      expect(error.message).toContain(message);
      expect(ctx.events[0]).toMatchObject({
        status: 'error',
        httpStatus: 400,
        route: 'predict',
      });
    });

    it('names the record of a batch that is wrong', async () => {
      const error = await failure(
        ctx.service.predictBatch({
          modelName: 'wine',
          body: {
            records: [
              { alcohol: 1, volatile_acidity: 2, sulphates: 3 },
              { alcohol: 1 },
            ],
          },
        }),
      );
      expect(error.message).toBe(
        'records.1: Missing feature "volatile_acidity"; the model takes alcohol, volatile_acidity, sulphates',
      );
      expect(
        (
          await failure(
            ctx.service.predictBatch({
              modelName: 'wine',
              body: { records: [] },
            }),
          )
        ).message,
      ).toContain('records: must hold at least one record');
    });

    it('maps one input per feature by input name', async () => {
      const result = await ctx.service.predictBatch({
        modelName: 'per-feature',
        body: {
          records: [
            { alcohol: 3, is_red: 1 },
            { alcohol: 1, is_red: 0 },
          ],
        },
      });
      expect(result.predictions.map(p => p.prediction)).toEqual([5, 2]);
      expect(await ctx.service.modelSchema('per-feature')).toMatchObject({
        layout: 'inputs',
        features: [
          { name: 'alcohol', type: 'float' },
          { name: 'is_red', type: 'float' },
        ],
      });
    });

    it('cannot call a model by feature name when nothing names its columns', async () => {
      const error = await failure(
        ctx.service.predict({
          modelName: 'anon',
          body: { features: { a: 1, b: 2 } },
        }),
      );
      expect(error).toEqual({
        name: 'NotImplementedError',
        message:
          'Model anon version 1 cannot be called by feature name: its input "input" FP32 [-1, 2] has no feature names (ONNX metadata loopline.feature_names) and no Dataset schema names them; use POST /v2/models/anon/infer',
      });
    });
  });

  describe('metadata, health and info', () => {
    it('describes a model as the protocol does, from the registry', async () => {
      expect(await ctx.service.modelMetadata('wine')).toEqual({
        name: 'wine',
        versions: ['1', '2'],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }],
      });
      expect((await ctx.service.modelMetadata('churn', '1')).outputs).toEqual([
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ]);
      await expect(ctx.service.modelMetadata('wine', 3)).rejects.toThrow(
        'Model wine has no version 3',
      );
    });

    it('is ready when the version loads, and says why not otherwise', async () => {
      expect(await ctx.service.modelReady('wine')).toEqual({
        name: 'wine',
        version: 2,
        ready: true,
      });
      await expect(ctx.service.modelReady('broken')).rejects.toThrow(
        /could not be loaded/,
      );
      expect(ctx.service.serverLive()).toEqual({ live: true });
      expect(ctx.service.serverReady()).toEqual({ ready: true });
      expect(ctx.service.serverMetadata()).toEqual({
        name: 'loopline',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        extensions: [],
      });
    });

    it('lists the models in Production and preloads them', async () => {
      const names = (await ctx.service.listModels()).map(m => m.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'all-types',
          'anon',
          'broken',
          'churn',
          'iris',
          'per-feature',
          'wine',
        ]),
      );
      expect(names).not.toContain('staged');
      const { loaded, failed } = await ctx.service.preload();
      expect(loaded).toEqual(expect.arrayContaining(['wine/2', 'churn/1']));
      expect(failed).toEqual(['broken']);
    });

    it('gives the info the Serving card shows', async () => {
      await ctx.service.modelReady('wine', 1);
      expect(await ctx.service.modelInfo('wine')).toEqual({
        model: 'wine',
        entityRef: 'model:default/wine',
        servedVersion: 2,
        loadedVersions: [1, 2],
        signature: {
          inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
          outputs: [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }],
        },
        features: [
          { name: 'alcohol', type: 'float' },
          { name: 'volatile_acidity', type: 'float' },
          { name: 'sulphates', type: 'float' },
        ],
      });
      expect(await ctx.service.modelInfo('staged')).toEqual({
        model: 'staged',
        entityRef: 'model:default/staged',
        loadedVersions: [],
        features: [],
      });
    });

    it('reports a body refused before the service only for a model that exists', async () => {
      await ctx.service.reportRejected({
        modelName: 'nope',
        route: 'oip',
        error: new Error('x'),
      });
      expect(ctx.events).toEqual([]);
      const tooLarge = Object.assign(new Error('request entity too large'), {
        type: 'entity.too.large',
      });
      await ctx.service.reportRejected({
        modelName: 'wine',
        version: '1',
        route: 'oip',
        error: tooLarge,
      });
      expect(ctx.events).toEqual([
        expect.objectContaining({
          modelName: 'wine',
          version: 1,
          httpStatus: 413,
          status: 'error',
        }),
      ]);
    });
  });
});

describe('InferenceService with Dataset features from the catalog', () => {
  it('names the columns from the Dataset schema when the ONNX file does not', async () => {
    const ctx = await setup({
      features: {
        'model:team/anon': [
          { name: 'alcohol', type: 'float', description: '% vol' },
          { name: 'is_red', type: 'integer' },
        ],
        'model:default/wine': [
          { name: 'alcohol', type: 'float', description: '% vol' },
        ],
      },
    });
    try {
      const result = await ctx.service.predict({
        modelName: 'anon',
        body: { features: { is_red: 1, alcohol: 3 } },
      });
      expect(result.prediction).toBeCloseTo(3 + 2, 5);
      const info = await ctx.service.modelInfo('anon');
      expect(info.features).toEqual([
        { name: 'alcohol', type: 'float', description: '% vol' },
        { name: 'is_red', type: 'integer' },
      ]);
      // ONNX names win; the Dataset only adds types and descriptions.
      expect((await ctx.service.modelInfo('wine')).features[0]).toEqual({
        name: 'alcohol',
        type: 'float',
        description: '% vol',
      });
      expect(ctx.featuresFor).toHaveBeenCalledWith({
        entityRef: 'model:team/anon',
        datasetRef: undefined,
      });
    } finally {
      await ctx.sessions.close();
    }
  });

  it('keeps serving when an observer fails', async () => {
    const ctx = await setup({ observers: false });
    ctx.service.addObserver({
      observe: () => {
        throw new Error('log is broken');
      },
    });
    try {
      const { response } = await ctx.service.infer({
        modelName: 'wine',
        request: {
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 3], data: [0, 0, 0] },
          ],
        },
      });
      expect(response.outputs[0].data[0]).toBeCloseTo(0.25, 6);
    } finally {
      await ctx.sessions.close();
    }
  });
});
