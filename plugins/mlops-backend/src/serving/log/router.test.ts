import {
  mockCredentials,
  mockErrorHandler,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import request from 'supertest';
import { applyMigrations } from '../../database/migrations';
import { readInferenceLogConfig } from './config';
import { createInferenceLog } from './createInferenceLog';
import { KSERVE_REQUEST_EVENT, KSERVE_RESPONSE_EVENT } from './types';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const NOW = Date.parse('2026-11-23T10:00:00Z');

const registry = {
  async getRegisteredModel(name: string) {
    if (name !== 'sklearn-iris' && name !== 'wine-quality') {
      throw new NotFoundError(`Registered model ${name} not found`);
    }
    return { name, entityRef: `model:default/${name}` };
  },
};

const irisRequest = {
  inputs: [
    {
      name: 'input-0',
      shape: [2, 4],
      datatype: 'FP32',
      data: [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6],
      ],
    },
  ],
};
const irisResponse = {
  model_name: 'sklearn-iris',
  model_version: '4',
  outputs: [{ name: 'predict', datatype: 'FP32', shape: [2], data: [1, 2] }],
};

describe.each(databaseIds)('inference log router on %s', databaseId => {
  async function start(
    options: {
      result?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
      config?: object;
    } = {},
  ) {
    const knex = await databases.init(databaseId);
    await applyMigrations(knex);
    const log = createInferenceLog({
      db: knex,
      config: readInferenceLogConfig(
        new ConfigReader({
          mlops: {
            serving: {
              kserveLogger: { token: 'kserve-secret' },
              ...options.config,
            },
          },
        }),
      ),
      logger: mockServices.logger.mock(),
      httpAuth: mockServices.httpAuth(),
      permissions: mockServices.permissions({
        result: options.result ?? AuthorizeResult.ALLOW,
      }),
      registry,
      clock: () => NOW,
    });
    const app = express().use(log.router).use(mockErrorHandler());
    return { app, log, knex };
  }

  /** A CloudEvent as KServe's logger posts it (binary mode, no Authorization header). */
  function kserveEvent(
    app: express.Express,
    type: string,
    id: string,
    body: unknown,
    recordedTime: string,
  ) {
    return request(app)
      .post('/serving/kserve/logger?token=kserve-secret')
      .set('Authorization', mockCredentials.none.header())
      .set('Content-Type', 'application/json')
      .set('ce-specversion', '1.0')
      .set('ce-type', type)
      .set('ce-id', id)
      .set('ce-source', 'http://localhost:9081/')
      .set('ce-inferenceservicename', 'sklearn-iris')
      .set('ce-namespace', 'models')
      .set('ce-component', 'predictor')
      .set('ce-endpoint', 'canary')
      .set('ce-recordedtime', recordedTime)
      .send(JSON.stringify(body));
  }

  it.each([
    ['request first', true],
    ['response first', false],
  ])(
    'pairs KServe request and response events (%s) into one log row',
    async (_, requestFirst) => {
      const { app, log } = await start();
      const send = {
        request: () =>
          kserveEvent(
            app,
            KSERVE_REQUEST_EVENT,
            'kid-1',
            irisRequest,
            '2026-11-23T09:59:59.000Z',
          ),
        response: () =>
          kserveEvent(
            app,
            KSERVE_RESPONSE_EVENT,
            'kid-1',
            irisResponse,
            '2026-11-23T09:59:59.042Z',
          ),
      };
      const order = requestFirst
        ? [send.request, send.response]
        : [send.response, send.request];
      // Flushed between the halves: the second one completes the stored row.
      for (const post of order) {
        const res = await post();
        expect(res.status).toBe(202);
        await log.inferenceLogger.flush();
      }

      const res = await request(app).get(
        '/serving/models/sklearn-iris/requests',
      );
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        {
          id: expect.any(Number),
          requestId: 'kid-1',
          modelName: 'sklearn-iris',
          version: 4,
          route: 'predictor',
          source: 'kserve',
          endpoint: 'canary',
          status: 'ok',
          latencyMs: 42,
          sampleRate: 1,
          inputs: irisRequest.inputs,
          outputs: irisResponse.outputs,
          createdAt: Date.parse('2026-11-23T09:59:59.000Z'),
        },
      ]);

      const stats = await request(app).get(
        '/serving/models/sklearn-iris/stats?windowSeconds=60',
      );
      expect(stats.body).toMatchObject({
        model: 'sklearn-iris',
        windowSeconds: 60,
        requests: 1,
        errors: 0,
        latencyMs: { p50: 42, p95: 42, p99: 42 },
        byVersion: [{ version: 4, requests: 1 }],
      });
    },
  );

  it('takes the model and version from the logger URL that Loopline writes into an InferenceService', async () => {
    const { app, log } = await start();
    const post = (type: string, body: unknown, at: string) =>
      request(app)
        .post(
          '/serving/kserve/logger?token=kserve-secret&model=sklearn-iris&version=7',
        )
        .set('Authorization', mockCredentials.none.header())
        .set('Content-Type', 'application/json')
        .set('ce-specversion', '1.0')
        .set('ce-type', type)
        .set('ce-id', 'kid-url')
        .set('ce-source', 'http://localhost:9081/')
        // KServe names the InferenceService, not the registered model.
        .set('ce-inferenceservicename', 'sklearn-iris-production-0a1b2c3d')
        .set('ce-endpoint', 'default')
        .set('ce-recordedtime', at)
        .send(JSON.stringify(body));
    expect(
      (
        await post(
          KSERVE_REQUEST_EVENT,
          irisRequest,
          '2026-11-23T09:59:59.000Z',
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await post(
          KSERVE_RESPONSE_EVENT,
          irisResponse,
          '2026-11-23T09:59:59.010Z',
        )
      ).status,
    ).toBe(202);
    await log.inferenceLogger.flush();
    const res = await request(app).get('/serving/models/sklearn-iris/requests');
    expect(res.body.items).toEqual([
      expect.objectContaining({
        requestId: 'kid-url',
        modelName: 'sklearn-iris',
        version: 7,
        latencyMs: 10,
      }),
    ]);

    const bad = await request(app)
      .post('/serving/kserve/logger?token=kserve-secret&version=seven')
      .set('Content-Type', 'application/json')
      .set('ce-specversion', '1.0')
      .set('ce-type', KSERVE_REQUEST_EVENT)
      .set('ce-id', 'kid-bad')
      .set('ce-inferenceservicename', 'sklearn-iris')
      .send(JSON.stringify(irisRequest));
    expect(bad.status).toBe(400);
  });

  it.each([
    ['no ce-type', { 'ce-type': '' }, /Missing CloudEvent type/],
    [
      'an unknown ce-type',
      { 'ce-type': 'dev.knative.example' },
      /Unknown CloudEvent type/,
    ],
    ['no ce-id', { 'ce-id': '' }, /Missing CloudEvent id/],
  ])(
    'answers a KServe event with %s with 400 {error}',
    async (_, headers, message) => {
      const { app, log } = await start();
      let req = request(app)
        .post('/serving/kserve/logger')
        .set('Content-Type', 'application/json')
        .set('ce-type', KSERVE_REQUEST_EVENT)
        .set('ce-id', 'x')
        .set('ce-inferenceservicename', 'sklearn-iris');
      for (const [name, value] of Object.entries(headers)) {
        req = req.set(name, value);
      }
      const res = await req.send(JSON.stringify(irisRequest));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(message),
      });
      expect(log.inferenceLogger.getCounters().buffered).toBe(0);
    },
  );

  it('takes KServe events with the shared token, or with a Backstage token, and nothing else', async () => {
    const { app } = await start();
    const post = () =>
      request(app)
        .post('/serving/kserve/logger')
        .set('ce-type', KSERVE_REQUEST_EVENT)
        .set('ce-id', 'auth-1')
        .set('ce-inferenceservicename', 'sklearn-iris')
        .set('Content-Type', 'application/json')
        .send('{}');
    expect(
      (await post().set('Authorization', mockCredentials.none.header())).status,
    ).toBe(401);
    expect(
      (
        await post()
          .query({ token: 'wrong' })
          .set('Authorization', mockCredentials.none.header())
      ).status,
    ).toBe(401);
    expect(
      (await post().set('Authorization', mockCredentials.service.header()))
        .status,
    ).toBe(202);
    expect(
      (await post().set('Authorization', mockCredentials.user.header())).status,
    ).toBe(202);
  });

  it('does not take a token when none is configured', async () => {
    const { app } = await start({ config: { kserveLogger: {} } });
    const res = await request(app)
      .post('/serving/kserve/logger?token=')
      .set('Authorization', mockCredentials.none.header())
      .set('ce-type', KSERVE_REQUEST_EVENT)
      .set('ce-id', 'a')
      .set('ce-inferenceservicename', 'sklearn-iris')
      .send('{}');
    expect(res.status).toBe(401);
  });

  it('accepts ground truth before the request is logged and joins it on read', async () => {
    const { app, log } = await start();
    const res = await request(app)
      .post('/serving/ground-truth')
      .set('Authorization', mockCredentials.service.header())
      .send({ requestId: 'emb-1', groundTruth: 6 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ accepted: 1 });

    log.inferenceLogger.record({
      requestId: 'emb-1',
      modelName: 'wine-quality',
      version: 2,
      route: 'predict',
      status: 'ok',
      httpStatus: 200,
      latencyMs: 1.5,
      timestamp: NOW - 1000,
    });
    await log.inferenceLogger.flush();

    const batch = await request(app)
      .post('/serving/ground-truth')
      .send([
        { requestId: 'emb-1', groundTruth: { quality: 7 } },
        { requestId: 'emb-2', groundTruth: 'late' },
      ]);
    expect(batch.status).toBe(201);
    expect(batch.body).toEqual({ accepted: 2 });

    const items = (
      await request(app).get('/serving/models/wine-quality/requests')
    ).body.items;
    expect(items).toEqual([
      expect.objectContaining({
        requestId: 'emb-1',
        groundTruth: { value: { quality: 7 }, createdAt: NOW },
      }),
    ]);
  });

  it.each([
    [{}, /requestId: Required/],
    [{ requestId: 'a' }, /groundTruth: Required/],
    [{ requestId: 'a', groundTruth: null }, /groundTruth: Required/],
    [{ requestId: '', groundTruth: 1 }, /requestId/],
    [{ requestId: 'a', groundTruth: 1, extra: true }, /Unrecognized key/],
    [[], /Invalid ground truth/],
  ])('rejects the ground truth %j with a 400', async (body, message) => {
    const { app } = await start();
    const res = await request(app)
      .post('/serving/ground-truth')
      .send(body as object);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  it('serves stats with read permission and the right errors', async () => {
    const { app, log } = await start();
    for (let i = 0; i < 4; i++) {
      log.inferenceLogger.record({
        requestId: `s${i}`,
        modelName: 'wine-quality',
        version: 1,
        route: 'oip',
        status: i === 3 ? 'error' : 'ok',
        httpStatus: i === 3 ? 400 : 200,
        latencyMs: i + 1,
        timestamp: NOW - 10_000,
      });
    }
    await log.inferenceLogger.flush();

    const res = await request(app).get('/serving/models/wine-quality/stats');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      model: 'wine-quality',
      windowSeconds: 300,
      requests: 4,
      errors: 1,
      requestsPerSecond: 4 / 300,
      errorRate: 0.25,
      latencyMs: {
        p50: 2,
        p95: expect.closeTo(2.9, 9),
        p99: expect.closeTo(2.98, 9),
      },
      byVersion: [
        {
          version: 1,
          requests: 4,
          errors: 1,
          latencyMs: {
            p50: 2,
            p95: expect.closeTo(2.9, 9),
            p99: expect.closeTo(2.98, 9),
          },
        },
      ],
    });
    expect((await request(app).get('/serving/models/nope/stats')).status).toBe(
      404,
    );
    expect(
      (
        await request(app).get(
          '/serving/models/wine-quality/stats?windowSeconds=0',
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await request(app).get(
          '/serving/models/wine-quality/stats?windowSeconds=999999',
        )
      ).status,
    ).toBe(400);
    expect(
      (await request(app).get('/serving/models/wine-quality/stats?foo=1'))
        .status,
    ).toBe(400);
    expect(
      (
        await request(app)
          .get('/serving/models/wine-quality/stats')
          .set('Authorization', mockCredentials.none.header())
      ).status,
    ).toBe(401);
  });

  it('refuses stats and requests when the policy denies reading the model', async () => {
    const { app } = await start({ result: AuthorizeResult.DENY });
    const res = await request(app).get('/serving/models/wine-quality/stats');
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
    expect(
      (await request(app).get('/serving/models/wine-quality/requests')).status,
    ).toBe(403);
  });

  it('exposes Prometheus metrics to users and services only', async () => {
    const { app, log } = await start();
    for (const observer of log.observers) {
      observer.observe({
        requestId: 'm1',
        modelName: 'wine-quality',
        version: 3,
        route: 'oip',
        status: 'ok',
        httpStatus: 200,
        latencyMs: 4,
        timestamp: NOW,
      });
    }
    const res = await request(app)
      .get('/metrics')
      .set('Authorization', mockCredentials.service.header());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.text).toContain(
      'loopline_inference_requests_total{model="wine-quality",version="3",route="oip",status="ok"} 1',
    );
    expect(res.text).toContain('loopline_inference_log_buffered 1');
    expect(
      (
        await request(app)
          .get('/metrics')
          .set('Authorization', mockCredentials.none.header())
      ).status,
    ).toBe(401);
    await log.inferenceLogger.close();
  });
});

describe('readInferenceLogConfig', () => {
  it('has defaults and rejects values out of range', () => {
    expect(readInferenceLogConfig(new ConfigReader({}))).toEqual({
      log: {
        sampleRate: 1,
        flushIntervalMs: 1000,
        maxBatchSize: 500,
        maxBufferSize: 10000,
        retentionDays: 30,
        maxPayloadChars: 262144,
        purgeFrequency: { hours: 1 },
      },
      kserveLogger: { token: undefined, bodyLimit: '10mb' },
      metrics: { collectDefaultMetrics: false, maxModels: 1000 },
      stats: { maxWindowSeconds: 86400 },
    });
    expect(
      readInferenceLogConfig(
        new ConfigReader({
          mlops: {
            serving: {
              log: {
                sampleRate: 0.25,
                retentionDays: 7,
                purgeFrequency: { minutes: 30 },
              },
            },
          },
        }),
      ).log,
    ).toMatchObject({
      sampleRate: 0.25,
      retentionDays: 7,
      purgeFrequency: { minutes: 30 },
    });
    expect(() =>
      readInferenceLogConfig(
        new ConfigReader({ mlops: { serving: { log: { sampleRate: 1.5 } } } }),
      ),
    ).toThrow(/mlops.serving.log.sampleRate/);
    expect(() =>
      readInferenceLogConfig(
        new ConfigReader({
          mlops: { serving: { log: { maxBatchSize: 2.5 } } },
        }),
      ),
    ).toThrow(/integer/);
  });
});
