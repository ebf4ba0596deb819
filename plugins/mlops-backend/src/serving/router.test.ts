import { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  mockCredentials,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import request from 'supertest';
import { AuditStore, AuditTrail } from '../audit';
import { applyMigrations } from '../database/migrations';
import { createRng, Rng } from '../demo/random';
import { FileSystemArtifactStore } from '../registry/artifacts/FileSystemArtifactStore';
import {
  writeLinearRegressor,
  writeLogisticRegressor,
} from '../registry/onnx/OnnxWriter';
import { RegistryService } from '../registry/RegistryService';
import { RegistryStore } from '../registry/RegistryStore';
import { halfBitsToFloat, OIP_DATATYPES } from './codec';
import { createEmbeddedServing } from './embedded';
import type { InferenceEvent } from './log/types';
import { createServingRouter } from './router';
import { allTypesIdentityOnnx } from './__testUtils__/servingModels';

// Both engines named explicitly: a missing PostgreSQL fails instead of skipping.
const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const WEIGHTS = [0.5, -1, 2];
const BIAS = 0.25;
const wine = writeLinearRegressor({
  weights: WEIGHTS,
  bias: BIAS,
  featureNames: ['alcohol', 'volatile_acidity', 'sulphates'],
  modelName: 'wine',
});
const wineV2 = writeLinearRegressor({
  weights: [1, 1, 1],
  bias: 0,
  featureNames: ['alcohol', 'volatile_acidity', 'sulphates'],
  modelName: 'wine',
});
const churn = writeLogisticRegressor({
  weights: [1.5, -2],
  bias: 0.5,
  featureNames: ['tenure', 'complaints'],
});

const ALICE = 'user:default/alice';
const MALLORY = 'user:default/mallory';
const API = '/api/mlops';
const BODY_LIMIT = 64 * 1024;

const expected = (row: number[]) =>
  row.reduce((sum, v, i) => sum + v * WEIGHTS[i], BIAS);
const validRequest = (rows: number[][] = [[1, 2, 3]]) => ({
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [rows.length, 3], data: rows },
  ],
});

describe.each(databaseIds)('serving routes on %s', databaseId => {
  let artifactDir: string;
  let server: Server;
  let registry: RegistryService;
  let serving: ReturnType<typeof createEmbeddedServing>;
  const events: InferenceEvent[] = [];
  const authorize = jest.fn(async (requests: any[], options: any) =>
    requests.map(r => ({
      result:
        options.credentials.principal?.userEntityRef === MALLORY &&
        r.resourceRef !== 'model:default/wine'
          ? AuthorizeResult.DENY
          : AuthorizeResult.ALLOW,
    })),
  );
  const permissions = {
    authorize,
    authorizeConditional: jest.fn(),
  } as unknown as PermissionsService;
  const credentials = mockCredentials.service('external:tests');

  beforeAll(async () => {
    artifactDir = mkdtempSync(join(tmpdir(), 'loopline-serving-'));
    const knex = await databases.init(databaseId);
    await applyMigrations(knex);
    registry = new RegistryService({
      store: new RegistryStore(knex),
      artifacts: new FileSystemArtifactStore(artifactDir, {
        maxBytes: 1024 * 1024,
      }),
      auditTrail: new AuditTrail(
        new AuditStore(knex),
        mockServices.auditor.mock(),
      ),
    });
    const register = async (name: string, bytes: Buffer, stage?: string) => {
      try {
        await registry.createRegisteredModel({ name });
      } catch {
        // A second version of the same model.
      }
      const version = await registry.createVersion({
        name,
        source: `test/${name}`,
        artifact: bytes,
        credentials,
      });
      if (stage) {
        await registry.transitionStage({
          name,
          version: version.version,
          stage,
          archiveExistingVersions: true,
          credentials,
        });
      }
    };
    await register('wine', wine, 'Production');
    await register('wine', wineV2);
    await register('churn', churn, 'Production');
    await register('types', allTypesIdentityOnnx(OIP_DATATYPES), 'Production');
    await register('staging-only', wine, 'Staging');

    const logger = mockServices.logger.mock();
    serving = createEmbeddedServing({
      registry,
      logger,
      config: {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        maxLoadedModels: 8,
        routingCacheTtlMs: 2000,
      },
      observers: [{ observe: e => events.push(e) }],
    });
    const app = express();
    app.use(
      API,
      createServingRouter({
        httpAuth: mockServices.httpAuth({
          defaultCredentials: mockCredentials.user(ALICE),
        }),
        permissions,
        service: serving.service,
        logger,
        jsonBodyLimit: BODY_LIMIT,
      }),
    );
    await new Promise<void>(resolve => {
      server = app.listen(0, () => resolve());
    });
  }, 60_000);

  afterAll(async () => {
    await new Promise(resolve => server?.close(resolve));
    await serving?.sessions.close();
    rmSync(artifactDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    events.length = 0;
  });

  const http = () => request(server);

  describe('health and metadata', () => {
    it('answers live, ready and the server metadata', async () => {
      expect((await http().get(`${API}/v2/health/live`)).body).toEqual({
        live: true,
      });
      expect((await http().get(`${API}/v2/health/ready`)).body).toEqual({
        ready: true,
      });
      const meta = await http().get(`${API}/v2`).expect(200);
      expect(meta.body).toEqual({
        name: 'loopline',
        version: expect.any(String),
        extensions: [],
      });
    });

    it('lists the models in Production the caller may invoke', async () => {
      expect((await http().get(`${API}/v2/models`)).body).toEqual({
        models: ['churn', 'types', 'wine'],
      });
      const mallory = await http()
        .get(`${API}/v2/models`)
        .set('Authorization', mockCredentials.user.header(MALLORY));
      expect(mallory.body).toEqual({ models: ['wine'] });
    });

    it('describes a model and its versions, and says when it is ready', async () => {
      const meta = await http().get(`${API}/v2/models/wine`).expect(200);
      expect(meta.body).toEqual({
        name: 'wine',
        versions: ['1', '2'],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'variable', datatype: 'FP32', shape: [-1, 1] }],
      });
      await http().get(`${API}/v2/models/wine/versions/2`).expect(200);
      expect((await http().get(`${API}/v2/models/wine/ready`)).body).toEqual({
        name: 'wine',
        ready: true,
      });
      expect(
        (await http().get(`${API}/v2/models/wine/versions/2/ready`)).body,
      ).toEqual({ name: 'wine', ready: true });
    });

    it('answers unknown models, versions and paths in the protocol shape', async () => {
      const unknown = await http().get(`${API}/v2/models/nope`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({
        error: 'Model with name nope does not exist.',
      });
      const version = await http().get(`${API}/v2/models/wine/versions/7`);
      expect(version.status).toBe(404);
      expect(version.body).toEqual({ error: 'Model wine has no version 7' });
      const path = await http().get(`${API}/v2/whatever`);
      expect(path.status).toBe(404);
      expect(path.body.error).toContain(
        'No such route: GET /api/mlops/v2/whatever',
      );
      const noProduction = await http().get(
        `${API}/v2/models/staging-only/ready`,
      );
      expect(noProduction.status).toBe(404);
      expect(noProduction.body).toEqual({
        error: 'Model staging-only has no version in Production',
      });
    });
  });

  describe('infer', () => {
    it('runs the Production version and echoes the id', async () => {
      const rows = [
        [1, 2, 3],
        [0.5, 0, -1],
      ];
      const res = await http()
        .post(`${API}/v2/models/wine/infer`)
        .send({ id: 'r-1', ...validRequest(rows) })
        .expect(200);
      expect(res.body).toEqual({
        model_name: 'wine',
        model_version: '1',
        id: 'r-1',
        outputs: [
          {
            name: 'variable',
            datatype: 'FP32',
            shape: [2, 1],
            data: expect.any(Array),
          },
        ],
      });
      expect(res.headers['x-request-id']).toBe('r-1');
      res.body.outputs[0].data.forEach((v: number, i: number) =>
        expect(v).toBeCloseTo(expected(rows[i]), 5),
      );
      expect(events).toEqual([
        expect.objectContaining({
          requestId: 'r-1',
          modelName: 'wine',
          version: 1,
          status: 'ok',
          httpStatus: 200,
        }),
      ]);
    });

    it('runs a version named in the path', async () => {
      const res = await http()
        .post(`${API}/v2/models/wine/versions/2/infer`)
        .send(validRequest([[1, 2, 3]]))
        .expect(200);
      expect(res.body.model_version).toBe('2');
      expect(res.body.outputs[0].data[0]).toBeCloseTo(6, 5);
      expect(res.body.id).toBeUndefined();
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(events[0].requestId).toBe(res.headers['x-request-id']);
    });

    it('reads JSON whatever the content type says, and gzip', async () => {
      const body = JSON.stringify(validRequest());
      const plain = await http()
        .post(`${API}/v2/models/wine/infer`)
        .set('Content-Type', 'text/plain')
        .send(body);
      expect(plain.status).toBe(200);
      expect(plain.body.outputs[0].data[0]).toBeCloseTo(expected([1, 2, 3]), 5);
      // (octet-stream: supertest would serialize a Buffer sent as JSON)
      await http()
        .post(`${API}/v2/models/wine/infer`)
        .set('Content-Type', 'application/octet-stream')
        .set('Content-Encoding', 'gzip')
        .send(gzipSync(body))
        .expect(200);
    });

    it('carries every datatype over the wire both ways', async () => {
      const given: Record<string, unknown[]> = {
        BOOL: [true, false, 1, 0],
        UINT8: [0, 255, 1, 2],
        UINT16: [0, 65535, 1, 2],
        UINT32: [0, 4294967295, 1, 2],
        UINT64: ['18446744073709551615', 1, 2, 3],
        INT8: [-128, 127, 0, 1],
        INT16: [-32768, 32767, 0, 1],
        INT32: [-2147483648, 2147483647, 0, 1],
        INT64: ['-9223372036854775808', '9007199254740993', -5, 5],
        FP16: [0.1, -65504, 'Infinity', 'NaN'],
        FP32: [
          [0.5, 'NaN'],
          ['-Infinity', 1e-10],
        ],
        FP64: [Math.PI, -1e300, 'Infinity', 0],
        BYTES: ['wine', 'vinho verde', '', '🍇'],
      };
      const back: Record<string, unknown[]> = {
        ...given,
        BOOL: [true, false, true, false],
        FP16: [halfBitsToFloat(0x2e66), -65504, 'Infinity', 'NaN'],
        FP32: [0.5, 'NaN', '-Infinity', Math.fround(1e-10)],
      };
      const res = await http()
        .post(`${API}/v2/models/types/infer`)
        .send({
          inputs: OIP_DATATYPES.map(t => ({
            name: `in_${t}`,
            datatype: t,
            shape: [2, 2],
            data: given[t],
          })),
        })
        .expect(200);
      expect(res.body.outputs).toEqual(
        OIP_DATATYPES.map(t => ({
          name: `out_${t}`,
          datatype: t,
          shape: [2, 2],
          data: back[t],
        })),
      );
    });

    it.each([
      ['{"inputs": [', 400, /^Malformed JSON body/],
      [
        '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,NaN]}]}',
        400,
        /^Malformed JSON body/,
      ],
      ['"just a string"', 400, /^Malformed JSON body/],
      ['{}', 400, /^Invalid inference request: inputs: is required$/],
      [
        JSON.stringify({
          inputs: [
            {
              name: 'input',
              datatype: 'INT64',
              shape: [1, 3],
              data: [1, 2, 3],
            },
          ],
        }),
        400,
        /^Invalid input "input": datatype INT64 does not match the model's FP32$/,
      ],
      [
        JSON.stringify({
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [1, 4],
              data: [1, 2, 3, 4],
            },
          ],
        }),
        400,
        /^Invalid input "input": shape \[1, 4\] does not match the model's \[-1, 3\]/,
      ],
      [
        JSON.stringify({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3] },
          ],
        }),
        400,
        /needs 6 elements but data has 3/,
      ],
      [
        JSON.stringify({
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
          ],
        }),
        400,
        /^Unknown input "x"/,
      ],
      [
        JSON.stringify({ ...validRequest(), outputs: [{ name: 'nope' }] }),
        400,
        /^Unknown output "nope"/,
      ],
    ])('refuses %s with %i', async (body, status, message) => {
      const res = await http()
        .post(`${API}/v2/models/wine/infer`)
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(status);
      expect(Object.keys(res.body)).toEqual(['error']);
      expect(res.body.error).toMatch(message);
      expect(events).toEqual([
        expect.objectContaining({
          modelName: 'wine',
          status: 'error',
          httpStatus: status,
        }),
      ]);
    });

    it('answers a body over the limit with 413', async () => {
      const rows = Array.from({ length: 4000 }, () => [
        1.2345678, 2.3456789, 3.4567891,
      ]);
      const res = await http()
        .post(`${API}/v2/models/wine/infer`)
        .send(validRequest(rows));
      expect(res.status).toBe(413);
      expect(res.body.error).toMatch(/^Request body too large/);
      expect(events).toEqual([
        expect.objectContaining({ httpStatus: 413, modelName: 'wine' }),
      ]);
    });

    it('answers 401 without credentials and 403 without the invoke permission', async () => {
      const anonymous = await http()
        .post(`${API}/v2/models/wine/infer`)
        .set('Authorization', mockCredentials.none.header())
        .send(validRequest());
      expect(anonymous.status).toBe(401);
      expect(Object.keys(anonymous.body)).toEqual(['error']);
      const denied = await http()
        .post(`${API}/v2/models/churn/infer`)
        .set('Authorization', mockCredentials.user.header(MALLORY))
        .send(validRequest());
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({
        error:
          'You are not allowed to loopline.model.invoke on model:default/churn',
      });
      expect(
        (
          await http()
            .get(`${API}/v2/models/churn`)
            .set('Authorization', mockCredentials.user.header(MALLORY))
        ).status,
      ).toBe(403);
    });

    it('asks the permission policy once for many requests of one caller', async () => {
      const caller = mockCredentials.user.header('user:default/busy');
      const calls = () =>
        authorize.mock.calls.filter(
          ([, options]) =>
            options.credentials.principal?.userEntityRef ===
            'user:default/busy',
        ).length;
      for (let i = 0; i < 25; i++) {
        await http()
          .post(`${API}/v2/models/wine/infer`)
          .set('Authorization', caller)
          .send(validRequest())
          .expect(200);
      }
      expect(calls()).toBe(1);
    });

    it('follows a promotion to Production and unloads the replaced version', async () => {
      await http()
        .post(`${API}/v2/models/wine/infer`)
        .send(validRequest())
        .expect(200);
      expect(serving.sessions.loadedVersions('wine')).toContain(1);
      await registry.transitionStage({
        name: 'wine',
        version: 2,
        stage: 'Production',
        archiveExistingVersions: true,
        credentials,
      });
      serving.trafficRouter.invalidate('wine');
      const res = await http()
        .post(`${API}/v2/models/wine/infer`)
        .send(validRequest())
        .expect(200);
      expect(res.body.model_version).toBe('2');
      expect(serving.sessions.loadedVersions('wine')).toEqual([2]);
      // Back to version 1 for the other tests.
      await registry.transitionStage({
        name: 'wine',
        version: 1,
        stage: 'Production',
        archiveExistingVersions: true,
        credentials,
      });
      serving.trafficRouter.invalidate('wine');
      await http()
        .post(`${API}/v2/models/wine/infer`)
        .send(validRequest())
        .expect(200);
    });
  });

  describe('convenience routes', () => {
    it('predicts one record and a batch by feature name', async () => {
      const one = await http()
        .post(`${API}/serving/models/wine/predict`)
        .send({ features: { alcohol: 1, volatile_acidity: 2, sulphates: 3 } })
        .expect(200);
      expect(one.body).toEqual({
        model: 'wine',
        version: 1,
        requestId: expect.any(String),
        outputs: { variable: expect.any(Number) },
        prediction: expect.any(Number),
        latencyMs: expect.any(Number),
      });
      expect(one.body.prediction).toBeCloseTo(expected([1, 2, 3]), 5);
      expect(events[0]).toMatchObject({
        requestId: one.body.requestId,
        route: 'predict',
      });

      const batch = await http()
        .post(`${API}/serving/models/churn/predict-batch`)
        .send({
          records: [
            { tenure: 3, complaints: 0 },
            { tenure: 0, complaints: 3 },
          ],
        })
        .expect(200);
      expect(batch.body.predictions.map((p: any) => p.prediction)).toEqual([
        1, 0,
      ]);

      const bad = await http()
        .post(`${API}/serving/models/wine/predict`)
        .send({ features: { alcohol: 1 } });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        error:
          'Missing feature "volatile_acidity"; the model takes alcohol, volatile_acidity, sulphates',
      });
    });

    it('gives info and schema to readers', async () => {
      const info = await http()
        .get(`${API}/serving/models/wine/info`)
        .expect(200);
      expect(info.body).toMatchObject({
        model: 'wine',
        entityRef: 'model:default/wine',
        servedVersion: 1,
        loadedVersions: expect.arrayContaining([1]),
        features: [
          { name: 'alcohol', type: 'float' },
          { name: 'volatile_acidity', type: 'float' },
          { name: 'sulphates', type: 'float' },
        ],
      });
      const schema = await http()
        .get(`${API}/serving/models/wine/schema?version=2`)
        .expect(200);
      expect(schema.body).toMatchObject({
        model: 'wine',
        version: 2,
        layout: 'columns',
      });
      expect(authorize).toHaveBeenCalledWith(
        [
          expect.objectContaining({
            permission: expect.objectContaining({
              name: 'loopline.entity.read',
            }),
          }),
        ],
        expect.anything(),
      );
    });
  });

  describe('fuzz', () => {
    it('answers 1200 random malformed bodies with 4xx {"error"} and keeps serving', async () => {
      const rng = createRng(20261123);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 1200; i++) {
        const attempt = fuzzRequest(rng);
        let req = http().post(`${API}${attempt.path}`);
        for (const [header, value] of Object.entries(attempt.headers)) {
          req = req.set(header, value);
        }
        const res = await req.send(attempt.body as any);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (
          res.status >= 500 ||
          (res.status >= 400 && typeof res.body?.error !== 'string')
        ) {
          throw new Error(
            `Fuzz case ${i} got ${res.status} ${JSON.stringify(res.body)} for ${
              attempt.path
            } ${JSON.stringify(attempt.headers)} ${String(attempt.body).slice(
              0,
              300,
            )}`,
          );
        }
      }
      // The corpus reaches the interesting answers, not just one of them.
      expect(statuses.get(400)).toBeGreaterThan(500);
      expect(statuses.get(404)).toBeGreaterThan(10);
      expect(statuses.get(413)).toBeGreaterThan(5);
      expect(statuses.get(200)).toBeGreaterThan(5);

      const rows = [
        [3, 1, 4],
        [1, 5, 9],
      ];
      const after = await http()
        .post(`${API}/v2/models/wine/infer`)
        .send(validRequest(rows))
        .expect(200);
      after.body.outputs[0].data.forEach((v: number, i: number) =>
        expect(v).toBeCloseTo(expected(rows[i]), 5),
      );
    }, 240_000);
  });
});

// ---- the fuzz corpus ----------------------------------------------------------

interface FuzzRequest {
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng() * items.length)];
const int = (rng: Rng, min: number, max: number) =>
  min + Math.floor(rng() * (max - min + 1));

const KEYS = [
  'inputs',
  'outputs',
  'id',
  'name',
  'shape',
  'datatype',
  'data',
  'parameters',
  'features',
  'records',
  'version',
  '',
  '__proto__',
  'constructor',
];
const DATATYPES = [
  ...OIP_DATATYPES,
  'BF16',
  'fp32',
  'FLOAT',
  '',
  'FP32 ',
  'INT128',
];
const WEIRD_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  1e308,
  -1e308,
  5e-324,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  1e15,
  4294967296,
  65520,
];

function randomString(rng: Rng): string {
  const alphabet = [
    'a',
    'Z',
    '0',
    ' ',
    '"',
    '\\',
    '\u0000',
    'é',
    '🍷',
    '{',
    '[',
    ',',
    '\n',
    'input',
  ];
  return Array.from({ length: int(rng, 0, 12) }, () =>
    pick(rng, alphabet),
  ).join('');
}

function randomJson(rng: Rng, depth: number): unknown {
  const kind = depth <= 0 ? int(rng, 0, 3) : int(rng, 0, 5);
  switch (kind) {
    case 0:
      return rng() < 0.5
        ? pick(rng, WEIRD_NUMBERS)
        : (rng() - 0.5) * 10 ** int(rng, 0, 12);
    case 1:
      return randomString(rng);
    case 2:
      return rng() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: int(rng, 0, 5) }, () =>
        randomJson(rng, depth - 1),
      );
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = int(rng, 0, 5); i > 0; i--) {
        obj[rng() < 0.7 ? pick(rng, KEYS) : randomString(rng)] = randomJson(
          rng,
          depth - 1,
        );
      }
      return obj;
    }
  }
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** A valid request for `wine`, then one or more mutations (or none, now and then). */
function mutatedRequest(rng: Rng): string {
  const rows = Array.from({ length: int(rng, 1, 4) }, () => [
    rng(),
    rng(),
    rng(),
  ]);
  const body: any = validRequest(rows);
  const input = body.inputs[0];
  const mutations = int(rng, 0, 3);
  for (let m = 0; m < mutations; m++) {
    const which = int(rng, 0, 19);
    // A mutation that no longer applies (e.g. inputs already replaced) is skipped.
    try {
      mutate(which);
    } catch {
      // skipped
    }
  }
  return JSON.stringify(body);

  function mutate(which: number) {
    switch (which) {
      case 0:
        input.datatype = pick(rng, DATATYPES);
        break;
      case 1:
        input.shape = [
          pick(rng, [-1, 1e15, 2 ** 53, 1.5, '1', null, 0, 4e9]),
          3,
        ];
        break;
      case 2:
        input.shape = Array.from({ length: int(rng, 0, 40) }, () =>
          int(rng, 0, 3),
        );
        break;
      case 3:
        input.data = input.data.flat().slice(0, int(rng, 0, 5));
        break;
      case 4:
        input.data = [[randomJson(rng, 2), 1, 2]];
        input.shape = [1, 3];
        break;
      case 5:
        delete input[pick(rng, ['name', 'shape', 'datatype', 'data'])];
        break;
      case 6:
        delete body.inputs;
        break;
      case 7:
        body.inputs.push({
          ...input,
          name: rng() < 0.5 ? 'input' : randomString(rng),
        });
        break;
      case 8:
        body.id = randomJson(rng, 1);
        break;
      case 9:
        body.outputs = randomJson(rng, 2);
        break;
      case 10:
        body.parameters = randomJson(rng, 2);
        break;
      case 11:
        input.data = input.data
          .flat()
          .map((v: number) =>
            rng() < 0.3
              ? pick(rng, ['NaN', 'Infinity', 1e39, -1e39, '1', true])
              : v,
          );
        break;
      case 12:
        input.name = randomJson(rng, 1);
        break;
      case 13:
        input.data = JSON.parse(deepArray(int(rng, 3, 3000)));
        break;
      case 14:
        body.inputs = randomJson(rng, 3);
        break;
      case 15:
        input.data = input.data.flat();
        break;
      case 16:
        input.shape = [input.data.length, 3, 1];
        break;
      case 17:
        body.inputs[0] = randomJson(rng, 3);
        break;
      case 18:
        input.parameters = randomJson(rng, 1);
        break;
      default:
        input.data = [input.data];
    }
  }
}

function fuzzRequest(rng: Rng): FuzzRequest {
  const path = pick(rng, [
    '/v2/models/wine/infer',
    '/v2/models/wine/infer',
    '/v2/models/wine/infer',
    '/v2/models/wine/versions/1/infer',
    '/v2/models/wine/versions/abc/infer',
    '/v2/models/wine/versions/99999999999999999999/infer',
    '/v2/models/types/infer',
    '/v2/models/no-such-model/infer',
    '/serving/models/wine/predict',
    '/serving/models/wine/predict-batch',
    '/serving/models/churn/predict',
  ]);
  const contentType = pick(rng, [
    'application/json',
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16',
    'application/octet-stream',
  ]);
  const headers: Record<string, string> = { 'Content-Type': contentType };
  let body: string | Buffer;
  const kind = rng();
  if (kind < 0.45) {
    body = mutatedRequest(rng);
  } else if (kind < 0.7) {
    body = JSON.stringify(randomJson(rng, 4));
  } else if (kind < 0.8) {
    body = pick(rng, [
      '',
      '{',
      'NaN',
      'null',
      '[]',
      '{"inputs": [NaN]}',
      '{"inputs": Infinity}',
      "{'inputs': []}",
      '{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,-Infinity]}]}',
      `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":${deepArray(
        20000,
      )}}]}`,
      deepArray(30000),
      '\u0000\u0001\u0002',
      '{"features": {"alcohol": 1,}}',
    ]);
  } else if (kind < 0.85) {
    // Over the body limit, as JSON and as junk.
    body =
      rng() < 0.5
        ? JSON.stringify(
            validRequest(
              Array.from({ length: 3000 }, () => [rng(), rng(), rng()]),
            ),
          )
        : 'x'.repeat(BODY_LIMIT + int(rng, 1, 1000));
  } else if (kind < 0.9) {
    headers['Content-Encoding'] = pick(rng, [
      'gzip',
      'deflate',
      'br',
      'compress',
      'identity',
    ]);
    body =
      rng() < 0.5
        ? gzipSync(mutatedRequest(rng))
        : Buffer.from(randomString(rng));
  } else if (kind < 0.95) {
    body = Buffer.from(
      Array.from({ length: int(rng, 1, 200) }, () => int(rng, 0, 255)),
    );
  } else {
    // Predict bodies, mostly wrong.
    body = JSON.stringify(
      rng() < 0.5
        ? {
            features: {
              alcohol: randomJson(rng, 1),
              volatile_acidity: 1,
              sulphates: 2,
            },
          }
        : { records: randomJson(rng, 3), version: randomJson(rng, 0) },
    );
  }
  return { path, headers, body };
}
