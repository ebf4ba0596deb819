import fs from 'node:fs';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';
import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';
import type { DataPlaneServer } from './DataPlaneServer';
import {
  HttpControlPlaneChannel,
  standaloneSettingsFromEnv,
} from './standalone';
import { consoleLogger, runDataPlaneWorker } from './worker';

jest.setTimeout(180_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const PORT = 7708; // the helper's ports: 7700-7709
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * A standalone data plane (what `loopline-serving` runs) against a real
 * backend over HTTP: it serves by the table it polls, keeps serving through
 * a backend restart, and resyncs when the backend is back.
 */
describe('the standalone data plane', () => {
  let artifactDir: string;
  let server: DataPlaneServer | undefined;
  let channel: HttpControlPlaneChannel | undefined;
  const backends: Array<{ stop(): Promise<void> }> = [];
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-sdp-'));
  });
  afterEach(async () => {
    channel?.stop();
    await server?.close();
    for (const backend of backends) await backend.stop().catch(() => {});
    fs.rmSync(artifactDir, { recursive: true, force: true });
  });

  it('serves, keeps serving its last table while the backend cannot be reached, and resyncs', async () => {
    const knex = await databases.init('POSTGRES_15');
    const startBackend = async () => {
      const backend = await startTestBackend({
        features: [
          mlopsPlugin,
          mockModelCatalog('wine'),
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: {
              mlops: {
                artifacts: { directory: artifactDir },
                serving: { log: { flushIntervalMs: 20 } },
              },
            },
          }),
        ],
      });
      backends.push(backend);
      const { port } = backend.server.address() as AddressInfo;
      return { backend, url: `http://127.0.0.1:${port}/api/mlops` };
    };
    const current = await startBackend();
    let reachable = true;
    const portal = () => request(current.backend.server);
    await portal()
      .post('/api/mlops/mlflow/api/2.0/mlflow/registered-models/create')
      .send({ name: 'wine' })
      .expect(200);
    await portal()
      .post('/api/mlops/registry/models/wine/versions')
      .send({ source: 'test' })
      .expect(201);
    await portal()
      .put('/api/mlops/registry/models/wine/versions/1/artifact')
      .set('Content-Type', 'application/octet-stream')
      .send(
        writeLinearRegressor({
          weights: [1, 2],
          bias: 0.5,
          featureNames: ['a', 'b'],
        }),
      )
      .expect(200);
    await portal()
      .post('/api/mlops/registry/models/wine/versions/1/stage')
      .send({ stage: 'Production' })
      .expect(200);

    // The control-plane routes are for data planes only: a user is refused.
    await portal()
      .get('/api/mlops/serving/data-plane/table')
      .set('Authorization', mockCredentials.user.header())
      .expect(403);
    await portal()
      .get('/api/mlops/serving/data-plane/table')
      .set('Authorization', mockCredentials.none.header())
      .expect(401);
    // Raw tensor bytes do not travel as JSON: such an event is refused.
    const refused = await portal()
      .post('/api/mlops/serving/data-plane/events')
      .set('Authorization', mockCredentials.service.header())
      .send({
        dropped: 0,
        events: [{ modelName: 'wine', rawInputs: [{ contents: {} }] }],
      })
      .expect(400);
    expect(refused.body.error.message).toMatch(/inputs, not rawInputs/);

    channel = new HttpControlPlaneChannel({
      controlPlaneUrl: 'http://control-plane/api/mlops',
      token: mockCredentials.service.token(),
      pollIntervalMs: 100,
      logger: consoleLogger({ test: 'standalone' }),
      // The network between the data plane and the backend, which the test cuts.
      fetchImpl: (url, init) =>
        reachable
          ? fetch(
              String(url).replace(
                'http://control-plane/api/mlops',
                current.url,
              ),
              init,
            )
          : Promise.reject(new TypeError('fetch failed')),
    });
    channel.start();
    server = await runDataPlaneWorker(
      {
        port: PORT,
        host: '127.0.0.1',
        jsonBodyLimitBytes: 65536,
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        maxLoadedModels: 4,
        permissionCacheTtlMs: 600_000,
        credentialsCacheTtlMs: 600_000,
        logBufferSize: 1000,
        logBatchSize: 100,
        servingEnvironment: 'production',
        environments: ['production'],
        abKeyHeader: 'x-ab',
        workerId: 0,
      },
      channel,
    );
    const dp = request(`http://127.0.0.1:${PORT}`);
    const user = mockCredentials.user.header();
    const body = {
      id: 'sa-1',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 1] },
      ],
    };
    const infer = () =>
      dp.post('/v2/models/wine/infer').set('Authorization', user).send(body);

    const first = await eventually(async () => {
      const res = await infer();
      return res.status === 200 ? res : undefined;
    }, 'the standalone data plane to serve');
    expect(first.body.outputs[0].data[0]).toBeCloseTo(3.5, 5);
    const [record] = await eventually(async () => {
      const res = await portal()
        .get('/api/mlops/serving/models/wine/requests')
        .query({ limit: 10 });
      return res.body.items?.length ? res.body.items : undefined;
    }, 'its log record in the backend');
    // Its inputs travelled as the body's text, logged as sent.
    expect(record).toMatchObject({ requestId: 'sa-1', inputs: body.inputs });

    // The backend cannot be reached: the data plane answers from its last
    // table and the token and decision it already has, while Production
    // moves on in the backend.
    reachable = false;
    await portal()
      .post('/api/mlops/registry/models/wine/versions')
      .send({ source: 'test' })
      .expect(201);
    await portal()
      .put('/api/mlops/registry/models/wine/versions/2/artifact')
      .set('Content-Type', 'application/octet-stream')
      .send(
        writeLinearRegressor({
          weights: [0, 0],
          bias: 7,
          featureNames: ['a', 'b'],
        }),
      )
      .expect(200);
    await portal()
      .post('/api/mlops/registry/models/wine/versions/2/stage')
      .send({ stage: 'Production', archiveExistingVersions: true })
      .expect(200);
    await sleep(500);
    for (let i = 0; i < 5; i++) {
      const res = await infer();
      expect(res.status).toBe(200);
      expect(res.body.model_version).toBe('1');
    }

    // It is back: the data plane resyncs its table.
    reachable = true;
    const resynced = await eventually(async () => {
      const res = await infer();
      return res.body.model_version === '2' ? res : undefined;
    }, 'the new Production version after the restart');
    expect(resynced.body.outputs[0].data[0]).toBeCloseTo(7, 5);
  });
});

describe('HttpControlPlaneChannel', () => {
  it('posts raw input bytes decoded, as the JSON events route takes them', async () => {
    const posted: unknown[] = [];
    const channel = new HttpControlPlaneChannel({
      controlPlaneUrl: 'http://portal/api/mlops',
      token: 't',
      pollIntervalMs: 1000,
      logger: consoleLogger({}),
      fetchImpl: (async (_url: string, init: RequestInit) => {
        posted.push(JSON.parse(String(init.body)));
        return new Response(null, { status: 202 });
      }) as typeof fetch,
    });
    const event = {
      requestId: 'g-1',
      modelName: 'wine',
      route: 'oip',
      status: 'ok',
      httpStatus: 200,
      latencyMs: 1,
      timestamp: 0,
    };
    await new Promise(resolve =>
      channel.send(
        {
          type: 'dataplane:events',
          dropped: 0,
          events: [
            {
              ...event,
              rawInputs: [
                {
                  name: 'input',
                  datatype: 'FP32',
                  shape: [1, 2],
                  contents: Buffer.from(new Float32Array([10, 0.5]).buffer),
                },
              ],
            },
            { ...event, requestId: 'dp-1', requestJson: '{"inputs":[]}' },
          ],
        },
        resolve,
      ),
    );
    expect(posted).toEqual([
      {
        dropped: 0,
        events: [
          {
            ...event,
            inputs: [
              {
                name: 'input',
                datatype: 'FP32',
                shape: [1, 2],
                data: [10, 0.5],
              },
            ],
          },
          { ...event, requestId: 'dp-1', requestJson: '{"inputs":[]}' },
        ],
      },
    ]);
  });
});

describe("loopline-serving's environment", () => {
  const base = {
    LOOPLINE_CONTROL_PLANE_URL: 'http://portal:7007/api/mlops/',
    LOOPLINE_DATA_PLANE_TOKEN: 'dp-token',
  };

  it('has defaults for everything but the control plane and its token', () => {
    const { channel, worker } = standaloneSettingsFromEnv(base);
    expect(channel).toEqual({
      controlPlaneUrl: 'http://portal:7007/api/mlops',
      token: 'dp-token',
      pollIntervalMs: 2000,
    });
    expect(worker).toMatchObject({
      port: 7008,
      host: '0.0.0.0',
      jsonBodyLimitBytes: 1024 * 1024,
      intraOpNumThreads: 1,
      maxLoadedModels: 16,
      servingEnvironment: 'production',
      environments: ['production', 'staging'],
      abKeyHeader: 'x-loopline-ab-key',
      rateLimited: true,
    });
    expect(worker.grpcPort).toBeUndefined();
  });

  it('reads every variable', () => {
    const { channel, worker } = standaloneSettingsFromEnv({
      ...base,
      PORT: '9000',
      HOST: '127.0.0.1',
      GRPC_PORT: '9001',
      LOOPLINE_ROUTING_REFRESH_MS: '500',
      LOOPLINE_JSON_BODY_LIMIT: '2mb',
      LOOPLINE_INTRA_OP_THREADS: '2',
      LOOPLINE_MAX_LOADED_MODELS: '4',
      LOOPLINE_PERMISSION_CACHE_TTL_MS: '0',
      LOOPLINE_LOG_BUFFER_SIZE: '50',
      LOOPLINE_SERVING_ENVIRONMENT: 'staging',
      LOOPLINE_ENVIRONMENTS: 'staging, canary',
      LOOPLINE_AB_KEY_HEADER: 'x-user',
    });
    expect(channel.pollIntervalMs).toBe(500);
    expect(worker).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      grpcPort: 9001,
      jsonBodyLimitBytes: 2 * 1024 * 1024,
      intraOpNumThreads: 2,
      maxLoadedModels: 4,
      permissionCacheTtlMs: 0,
      logBufferSize: 50,
      servingEnvironment: 'staging',
      environments: ['staging', 'canary'],
      abKeyHeader: 'x-user',
    });
  });

  it('fails at startup naming the variable that is missing or wrong', () => {
    expect(() => standaloneSettingsFromEnv({})).toThrow(
      'LOOPLINE_CONTROL_PLANE_URL must be set',
    );
    expect(() =>
      standaloneSettingsFromEnv({
        LOOPLINE_CONTROL_PLANE_URL: base.LOOPLINE_CONTROL_PLANE_URL,
      }),
    ).toThrow('LOOPLINE_DATA_PLANE_TOKEN must be set');
    expect(() =>
      standaloneSettingsFromEnv({
        ...base,
        LOOPLINE_CONTROL_PLANE_URL: 'portal:7007',
      }),
    ).toThrow(/must be an http\(s\) URL/);
    expect(() => standaloneSettingsFromEnv({ ...base, PORT: '80a' })).toThrow(
      "PORT must be a whole number from 0 to 65535, not '80a'",
    );
    expect(() =>
      standaloneSettingsFromEnv({ ...base, GRPC_PORT: '70000' }),
    ).toThrow(/GRPC_PORT/);
    expect(() =>
      standaloneSettingsFromEnv({ ...base, LOOPLINE_INTRA_OP_THREADS: '0' }),
    ).toThrow(/LOOPLINE_INTRA_OP_THREADS must be a whole number from 1/);
    expect(() =>
      standaloneSettingsFromEnv({ ...base, LOOPLINE_JSON_BODY_LIMIT: 'big' }),
    ).toThrow(/LOOPLINE_JSON_BODY_LIMIT must be a size/);
  });
});
