import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';
import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceProto } from './grpc';

jest.setTimeout(240_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

// The helper's ports: 7700-7709.
const PORT = { POSTGRES_15: 7701, SQLITE_3: 7702 } as Record<string, number>;
const GRPC_PORT = { POSTGRES_15: 7706, SQLITE_3: 7707 } as Record<
  string,
  number
>;

const features = ['alcohol', 'volatile_acidity', 'sulphates'];
const v1 = writeLinearRegressor({
  weights: [0.5, -1, 2],
  bias: 0.25,
  featureNames: features,
});
const v2 = writeLinearRegressor({
  weights: [1, 1, 1],
  bias: 0,
  featureNames: features,
});
const v3 = writeLinearRegressor({
  weights: [2, 2, 2],
  bias: 1,
  featureNames: features,
});
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The data-plane worker processes of this test process (children started by the supervisor). */
function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (ppid !== process.pid) continue;
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.includes('LOOPLINE_DATA_PLANE_WORKER='))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The whole plugin with its data plane: worker processes, pushed routing tables, log and metrics back in the backend. */
describe.each(databaseIds)('the serving data plane on %s', databaseId => {
  let artifactDir: string;
  let stop: (() => Promise<void>) | undefined;
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-dp-'));
  });
  afterEach(async () => {
    await stop?.();
    fs.rmSync(artifactDir, { recursive: true, force: true });
  });

  it('serves OIP from worker processes by the pushed table, with auth, log, metrics and restarts', async () => {
    const knex = await databases.init(databaseId);
    const port = PORT[databaseId];
    const backend = await startTestBackend({
      features: [
        mlopsPlugin,
        mockModelCatalog('wine'),
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: {
            mlops: {
              artifacts: { directory: artifactDir },
              serving: {
                jsonBodyLimit: '64kb',
                log: { flushIntervalMs: 20 },
                dataPlane: {
                  port,
                  grpcPort: GRPC_PORT[databaseId],
                  host: '127.0.0.1',
                  workers: 2,
                  routingRefreshMs: 200,
                },
              },
            },
          },
        }),
      ],
    });
    stop = () => backend.stop();
    const portal = request(backend.server);
    const dp = request(`http://127.0.0.1:${port}`);
    const user = mockCredentials.user.header();

    // Health needs no token; a model unknown to the table is a 404.
    await dp.get('/v2/health/live').expect(200, { live: true });
    await dp.get('/v2/health/ready').expect(200, { ready: true });
    await dp.get('/v2/models/wine').set('Authorization', user).expect(404);

    // New connections reach the workers while the backend's event loop is
    // busy (here: blocked for 2 s): the workers accept them themselves.
    const liveClient = execFile(process.execPath, [
      '-e',
      `setTimeout(async () => {
        const res = await fetch('http://127.0.0.1:${port}/v2/health/live');
        console.log(res.status, Date.now());
      }, 500);`,
    ]);
    let liveOutput = '';
    liveClient.stdout!.on('data', chunk => (liveOutput += chunk));
    const exited = new Promise(resolve => liveClient.once('exit', resolve));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    const unblockedAt = Date.now();
    await exited;
    const [status, answeredAt] = liveOutput.trim().split(' ').map(Number);
    expect(status).toBe(200);
    expect(answeredAt).toBeLessThan(unblockedAt);

    await portal
      .post('/api/mlops/mlflow/api/2.0/mlflow/registered-models/create')
      .send({ name: 'wine' })
      .expect(200);
    for (const [version, bytes] of [
      [1, v1],
      [2, v2],
    ] as const) {
      await portal
        .post('/api/mlops/registry/models/wine/versions')
        .send({ source: 'test' })
        .expect(201);
      await portal
        .put(`/api/mlops/registry/models/wine/versions/${version}/artifact`)
        .set('Content-Type', 'application/octet-stream')
        .send(bytes)
        .expect(200);
    }
    await portal
      .post('/api/mlops/registry/models/wine/versions/1/stage')
      .send({ stage: 'Production' })
      .expect(200);

    const body = {
      id: 'dp-1',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [2, 3],
          data: [10, 0.5, 0.6, 12.5, 0.3, 0.8],
        },
      ],
    };
    // The table reaches the workers within a refresh.
    const infer = await eventually(async () => {
      const res = await dp
        .post('/v2/models/wine/infer')
        .set('Authorization', user)
        .send(body);
      return res.status === 200 ? res : undefined;
    }, 'the Production version on the data plane');
    expect(infer.headers['x-request-id']).toBe('dp-1');
    expect(infer.body).toMatchObject({
      model_name: 'wine',
      model_version: '1',
      id: 'dp-1',
      outputs: [{ name: 'variable', datatype: 'FP32', shape: [2, 1] }],
    });
    expect(infer.body.outputs[0].data[0]).toBeCloseTo(
      10 * 0.5 - 0.5 + 2 * 0.6 + 0.25,
      5,
    );

    // Tokens: none → 401, a bad one → 401, an API key header → accepted.
    const noToken = await dp.post('/v2/models/wine/infer').send(body);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ error: expect.any(String) });
    await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', 'Bearer mock-invalid-user-token')
      .send(body)
      .expect(401);
    await dp
      .post('/v2/models/wine/infer')
      .set('X-API-Key', mockCredentials.service.token())
      .send(body)
      .expect(200);

    // Bad input: the protocol's 400s, and metadata from the table.
    const wrong = await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', user)
      .send({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
        ],
      });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toEqual(expect.any(String));
    const notJson = await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', user)
      .set('Content-Type', 'application/json')
      .send('{"inputs": [');
    expect(notJson.status).toBe(400);
    const tooLarge = await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', user)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(70 * 1024) }));
    expect(tooLarge.status).toBe(413);
    const metadata = await dp
      .get('/v2/models/wine')
      .set('Authorization', user)
      .expect(200);
    expect(metadata.body).toMatchObject({ name: 'wine', versions: ['1', '2'] });
    const explicit = await dp
      .post('/v2/models/wine/versions/2/infer')
      .set('Authorization', user)
      .send(body)
      .expect(200);
    expect(explicit.body.model_version).toBe('2');
    expect(explicit.body.outputs[0].data[0]).toBeCloseTo(10 + 0.5 + 0.6, 5);

    // The binary tensor extension, both ways; a malformed one is a 400.
    const header = Buffer.from(
      JSON.stringify({
        id: 'bin-1',
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [1, 3],
            parameters: { binary_data_size: 12 },
          },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    const raw = Buffer.from(new Float32Array([10, 0.5, 0.6]).buffer);
    const binary = await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', user)
      .set('Content-Type', 'application/octet-stream')
      .set('Inference-Header-Content-Length', String(header.length))
      .send(Buffer.concat([header, raw]))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const jsonLength = Number(
      binary.headers['inference-header-content-length'],
    );
    const answer = JSON.parse(binary.body.toString('utf8', 0, jsonLength));
    expect(answer.outputs[0]).toMatchObject({
      name: 'variable',
      parameters: { binary_data_size: 4 },
    });
    expect(answer.outputs[0].data).toBeUndefined();
    expect(binary.body.readFloatLE(jsonLength)).toBeCloseTo(
      10 * 0.5 - 0.5 + 2 * 0.6 + 0.25,
      4,
    );
    const truncated = await dp
      .post('/v2/models/wine/infer')
      .set('Authorization', user)
      .set('Content-Type', 'application/octet-stream')
      .set('Inference-Header-Content-Length', String(header.length))
      .send(Buffer.concat([header, raw.subarray(0, 8)]));
    expect(truncated.status).toBe(400);
    expect(JSON.parse(truncated.text).error).toMatch(/binary_data_size/);

    // OIP over gRPC on the same workers: raw contents both ways, typed
    // contents, metadata, and the same token check.
    const proto = loadInferenceProto();
    const client = new proto.inference.GRPCInferenceService(
      `127.0.0.1:${GRPC_PORT[databaseId]}`,
      grpc.credentials.createInsecure(),
    );
    const rpc = (method: string, req: object, token?: string) =>
      new Promise<any>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        if (token) metadata.set('authorization', `Bearer ${token}`);
        client[method](req, metadata, (error: Error | null, res: unknown) =>
          error ? reject(error) : resolve(res),
        );
      });
    const userToken = mockCredentials.user.token();
    await expect(rpc('ServerLive', {})).resolves.toEqual({ live: true });
    const grpcMeta = await rpc('ModelMetadata', { name: 'wine' }, userToken);
    expect(grpcMeta.inputs[0]).toMatchObject({
      name: 'input',
      datatype: 'FP32',
    });
    const rawAnswer = await rpc(
      'ModelInfer',
      {
        model_name: 'wine',
        id: 'g-1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3] }],
        raw_input_contents: [raw],
      },
      userToken,
    );
    expect(rawAnswer).toMatchObject({ model_name: 'wine', id: 'g-1' });
    expect(rawAnswer.raw_output_contents[0].readFloatLE(0)).toBeCloseTo(
      10 * 0.5 - 0.5 + 2 * 0.6 + 0.25,
      4,
    );
    const typedAnswer = await rpc(
      'ModelInfer',
      {
        model_name: 'wine',
        model_version: '2',
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [1, 3],
            contents: { fp32_contents: [10, 0.5, 0.6] },
          },
        ],
      },
      userToken,
    );
    expect(typedAnswer.model_version).toBe('2');
    expect(typedAnswer.outputs[0].contents.fp32_contents[0]).toBeCloseTo(
      11.1,
      4,
    );
    await expect(
      rpc('ModelInfer', {
        model_name: 'wine',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3] }],
        raw_input_contents: [raw],
      }),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(
      rpc(
        'ModelInfer',
        {
          model_name: 'wine',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3] }],
          raw_input_contents: [raw.subarray(0, 7)],
        },
        userToken,
      ),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(
      rpc('ModelReady', { name: 'nope' }, userToken),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    client.close();

    // A stage change under load: every request answered, by v1 or v2.
    const answers: Array<Promise<request.Response>> = [];
    for (let i = 0; i < 60; i++) {
      answers.push(
        dp
          .post('/v2/models/wine/infer')
          .set('Authorization', user)
          .send(body)
          .then(r => r),
      );
      if (i === 20) {
        await portal
          .post('/api/mlops/registry/models/wine/versions/2/stage')
          .send({ stage: 'Production', archiveExistingVersions: true })
          .expect(200);
      }
      await sleep(10);
    }
    const settled = await Promise.all(answers);
    expect(settled.map(r => r.status)).toEqual(settled.map(() => 200));
    await eventually(async () => {
      const res = await dp
        .post('/v2/models/wine/infer')
        .set('Authorization', user)
        .send(body);
      return res.body.model_version === '2' ? true : undefined;
    }, 'version 2 to be routed');

    // The log and the metrics are the backend's: the workers' events reached them.
    const logged = await eventually(async () => {
      const res = await portal
        .get('/api/mlops/serving/models/wine/requests')
        .query({ limit: 100 });
      const ids = new Set(
        (res.body.items ?? []).map((r: { requestId: string }) => r.requestId),
      );
      return ids.has('dp-1') && ids.has('g-1') && ids.has('bin-1')
        ? res.body.items
        : undefined;
    }, 'the log records');
    expect(logged.length).toBeGreaterThanOrEqual(60);
    // The worker shipped the body's text: the log holds the inputs as sent.
    expect(
      logged.find((r: { requestId: string }) => r.requestId === 'dp-1'),
    ).toMatchObject({ inputs: body.inputs, outputs: [{ name: 'variable' }] });
    // Binary and gRPC raw tensors travelled as bytes: the log holds the
    // tensors they stand for, as the JSON request would have given them.
    for (const id of ['g-1', 'bin-1']) {
      expect(
        logged.find((r: { requestId: string }) => r.requestId === id),
      ).toMatchObject({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [1, 3],
            data: Array.from(new Float32Array([10, 0.5, 0.6])),
          },
        ],
        outputs: [{ name: 'variable' }],
      });
    }
    const metrics = await portal.get('/api/mlops/metrics').expect(200);
    const okLines = metrics.text
      .split('\n')
      .filter(
        l =>
          l.startsWith('loopline_inference_requests_total{') &&
          l.includes('route="oip"') &&
          l.includes('status="ok"'),
      );
    expect(
      okLines.reduce((n, l) => n + Number(l.split(' ').pop()), 0),
    ).toBeGreaterThanOrEqual(60);

    // A worker killed mid-load: the other keeps answering, and it is started
    // again. 16 clients keep requests in flight on their own keep-alive
    // connections; those on the killed worker's connections fail at most
    // once each (their in-flight request), then reconnect to the live one.
    const before = workerPids();
    expect(before).toHaveLength(2);
    const outcomes: Array<number | string> = [];
    let killed = false;
    const loadClient = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 15; i++) {
          outcomes.push(
            await dp
              .post('/v2/models/wine/infer')
              .agent(agent)
              .set('Authorization', user)
              .timeout(10_000)
              .send(body)
              .then(
                r => r.status,
                e => String(e?.code ?? e),
              ),
          );
          if (i === 5 && !killed) {
            killed = true;
            process.kill(before[0], 'SIGKILL');
          }
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all(Array.from({ length: 16 }, loadClient));
    expect(killed).toBe(true);
    // No client saw an HTTP error; at most the 16 requests in flight were lost.
    expect(outcomes.filter(s => typeof s === 'number' && s !== 200)).toEqual(
      [],
    );
    expect(outcomes.filter(s => s !== 200).length).toBeLessThanOrEqual(16);
    expect(outcomes.filter(s => s === 200).length).toBeGreaterThanOrEqual(
      16 * 15 - 16,
    );
    await eventually(async () => {
      const now = workerPids();
      return now.length === 2 && !now.includes(before[0]) ? now : undefined;
    }, 'the worker to be started again');
    await eventually(async () => {
      const res = await portal.get('/api/mlops/metrics');
      return /loopline_dataplane_worker_restarts_total 1/.test(res.text)
        ? true
        : undefined;
    }, 'the restart to be counted');

    // A canary rollout of version 3 routed by the data plane, then promoted
    // under load: every request answered, each by the stable or the
    // candidate, and the promotion reaches the workers.
    await portal
      .post('/api/mlops/registry/models/wine/versions')
      .send({ source: 'test' })
      .expect(201);
    await portal
      .put('/api/mlops/registry/models/wine/versions/3/artifact')
      .set('Content-Type', 'application/octet-stream')
      .send(v3)
      .expect(200);
    const rollouts = '/api/mlops/deployments/models/wine/production';
    await portal
      .post(`${rollouts}/rollouts`)
      .send({ version: 3, strategy: 'canary', steps: [30, 100] })
      .expect(201);
    // The arm is chosen by request id: each request has its own.
    let sent = 0;
    const servedBy = async (agent?: http.Agent) => {
      const res = await (agent
        ? dp.post('/v2/models/wine/infer').agent(agent)
        : dp.post('/v2/models/wine/infer')
      )
        .set('Authorization', user)
        .send({ ...body, id: `canary-${sent++}` });
      return res.status === 200 ? String(res.body.model_version) : res.status;
    };
    await eventually(
      async () => ((await servedBy()) === '3' ? true : undefined),
      'the canary to be routed',
    );
    const split = await Promise.all(
      Array.from({ length: 80 }, () => servedBy()),
    );
    expect(new Set(split)).toEqual(new Set(['2', '3']));
    const underLoad: Array<string | number> = [];
    let promoted = false;
    await Promise.all(
      Array.from({ length: 8 }, async (_, client) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (let i = 0; i < 25; i++) {
            underLoad.push(await servedBy(agent));
            if (client === 0 && i === 8) {
              await portal.post(`${rollouts}/promote`).send({}).expect(200);
              promoted = true;
            }
          }
        } finally {
          agent.destroy();
        }
      }),
    );
    expect(promoted).toBe(true);
    expect(underLoad).toHaveLength(8 * 25);
    expect(underLoad.filter(v => v !== '2' && v !== '3')).toEqual([]);
    await eventually(async () => {
      const after = await Promise.all(
        Array.from({ length: 20 }, () => servedBy()),
      );
      return after.every(v => v === '3') ? true : undefined;
    }, 'the promoted version on every worker');
  });
});
