import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import request from 'supertest';
import { applyMigrations } from '../database/migrations';
import { InferenceLogStore } from '../serving/log/InferenceLogStore';
import { readMonitoringConfig } from './config';
import { MonitoringStore } from './MonitoringStore';
import { MonitoringService } from './MonitoringService';
import { createMonitoringRouter } from './router';
import fixtures from './statistics/__fixtures__/scipy.json';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const MALLORY = 'user:default/mallory';
const WINE = {
  name: 'wine',
  entityRef: 'model:default/wine',
  trainedOn: ['dataset:default/wine-ref'],
};

async function setup() {
  const knex = await databases.init('SQLITE_3');
  await applyMigrations(knex);
  const service = new MonitoringService({
    store: new MonitoringStore(knex),
    models: {
      getModel: async name => (name === 'wine' ? WINE : undefined),
      listModels: async () => [WINE],
      getDataset: async () => undefined,
    },
    log: new InferenceLogStore(knex),
    featureNamesOf: async () => undefined,
    readDataset: async () => {
      throw new Error('not read in these tests');
    },
    config: readMonitoringConfig(new ConfigReader({})),
    logger: mockServices.logger.mock(),
  });
  // Mallory may read but not run checks.
  const permissions = {
    authorize: jest.fn(async (requests: any[], options: any) =>
      requests.map(r => ({
        result:
          options.credentials.principal?.userEntityRef === MALLORY &&
          r.permission.name === 'loopline.model.monitor'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
      })),
    ),
    authorizeConditional: jest.fn(),
  } as unknown as PermissionsService;
  // No body parser of the app's: the router's routes parse their own.
  const app = express();
  app.use(
    '/api/mlops',
    createMonitoringRouter({
      httpAuth: mockServices.httpAuth(),
      permissions,
      monitoring: service,
      maxCompareColumns: 3,
      jsonBodyLimit: '1kb',
      compareBodyLimit: '64kb',
    }),
  );
  app.use(
    MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    }).error(),
  );
  return { http: request(app), knex };
}

const COMPARE = '/api/mlops/monitoring/drift/compare';

describe('POST /monitoring/drift/compare', () => {
  it('agrees with scipy (the statistics fixtures, sent over HTTP)', async () => {
    const { http } = await setup();
    for (const f of fixtures.ksLiteral) {
      const res = await http
        .post(COMPARE)
        .send({
          reference: { columns: { x: f.a } },
          current: { columns: { x: f.b } },
          methods: { x: 'ks' },
        })
        .expect(200);
      const [feature] = res.body.features;
      expect(Math.abs(feature.statistic - f.statistic)).toBeLessThan(1e-9);
      const err = Math.abs(feature.pValue - f.pValue);
      expect(err <= 1e-12 || err <= 1e-6 * f.pValue).toBe(true);
    }
    const three = fixtures.categorical.find(f => f.name === 'three_colors')!;
    const res = await http
      .post(COMPARE)
      .send({
        reference: { columns: { color: three.reference } },
        current: { columns: { color: three.current } },
      })
      .expect(200);
    expect(res.body).toMatchObject({
      datasetDrift: true,
      driftShare: 0.5,
      features: [
        {
          name: 'color',
          method: 'chisquare',
          threshold: 0.05,
          drifted: true,
          status: 'ok',
        },
      ],
    });
    expect(
      Math.abs(res.body.features[0].pValue - Number(three.chisquare![1])) /
        Number(three.chisquare![1]),
    ).toBeLessThan(1e-6);
  });

  it('takes nulls and reports bad columns as statuses', async () => {
    const { http } = await setup();
    const res = await http
      .post(COMPARE)
      .send({
        reference: { columns: { a: [1, 2, null, 4, 5, 6], b: [null] } },
        current: { columns: { a: [1, 2, 3, 'x'], b: [null, null] } },
      })
      .expect(200);
    expect(res.body.features.map((f: any) => f.status)).toEqual([
      'schema_mismatch',
      'empty',
    ]);
    expect(res.body.datasetDrift).toBe(false);
  });

  it.each([
    [{}, /reference: Required/],
    [
      { reference: { columns: {} }, current: { columns: { a: [1] } } },
      /reference\.columns: must name at least one column/,
    ],
    [
      {
        reference: { columns: { a: [1] } },
        current: { columns: { a: [1] } },
        methods: { a: 'magic' },
      },
      /methods\.a/,
    ],
    [
      {
        reference: { columns: { a: [true] } },
        current: { columns: { a: [1] } },
      },
      /reference\.columns\.a\.0/,
    ],
    [
      {
        reference: { columns: { a: [1] } },
        current: { columns: { a: [1] } },
        driftShare: 0,
      },
      /driftShare/,
    ],
    [
      {
        reference: { columns: { a: [1], b: [1], c: [1], d: [1] } },
        current: { columns: { a: [1] } },
      },
      /at most 3 columns/,
    ],
  ])('answers 400 naming the field for %j', async (body, message) => {
    const { http } = await setup();
    const res = await http.post(COMPARE).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toMatch(message);
  });

  it("answers 413 over its own body limit (not the plugin's), 401 without credentials", async () => {
    const { http } = await setup();
    // About 50 kB: over the plugin's JSON limit (1 kB here), under compare's (64 kB).
    const some = Array.from({ length: 5_000 }, (_, i) => i);
    await http
      .post(COMPARE)
      .send({
        reference: { columns: { a: some } },
        current: { columns: { a: some } },
      })
      .expect(200);
    const big = Array.from({ length: 20_000 }, (_, i) => i);
    const res = await http.post(COMPARE).send({
      reference: { columns: { a: big } },
      current: { columns: { a: big } },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.name).toBe('PayloadTooLargeError');
    // The other routes keep the plugin's limit.
    const run = await http
      .post('/api/mlops/monitoring/models/wine/drift/run')
      .send({ version: '1', padding: 'x'.repeat(2000) });
    expect(run.status).toBe(413);
    await http
      .post(COMPARE)
      .set('Authorization', mockCredentials.none.header())
      .send({})
      .expect(401);
  });
});

describe('model routes', () => {
  it('lists an empty history, refuses Run now to those not allowed, and stores nothing then', async () => {
    const { http, knex } = await setup();
    const history = await http
      .get('/api/mlops/monitoring/models/wine/drift')
      .expect(200);
    expect(history.body).toEqual({ history: [] });
    const denied = await http
      .post('/api/mlops/monitoring/models/wine/drift/run')
      .set('Authorization', mockCredentials.user.header(MALLORY))
      .send({});
    expect(denied.status).toBe(403);
    expect(denied.body.error.name).toBe('NotAllowedError');
    expect(
      (await knex('monitoring_drift_reports').count({ n: '*' }))[0].n,
    ).toBe(0);
  });

  it.each([
    ['get', '/api/mlops/monitoring/models/wine/drift?version=x', /version/],
    ['get', '/api/mlops/monitoring/models/wine/drift?since=yesterday', /since/],
    [
      'get',
      '/api/mlops/monitoring/models/wine/quality?limit=3',
      /Unrecognized key/,
    ],
    ['post', '/api/mlops/monitoring/models/wine/drift/run', /windowMinutes/],
  ] as const)('answers 400 to %s %s', async (method, url, message) => {
    const { http } = await setup();
    const res =
      method === 'get'
        ? await http.get(url)
        : await http.post(url).send({ windowMinutes: 0 });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
  });

  it('answers 404 for an unknown Model', async () => {
    const { http } = await setup();
    const res = await http.get('/api/mlops/monitoring/models/nope/drift');
    expect(res.status).toBe(404);
  });

  it('says why a Run now cannot find its reference', async () => {
    const { http } = await setup();
    const res = await http
      .post('/api/mlops/monitoring/models/wine/drift/run')
      .send({});
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(
      /No Dataset entity dataset:default\/wine-ref/,
    );
  });
});

describe('references set through the API, and the overview', () => {
  const REFERENCE = '/api/mlops/monitoring/models/wine/reference';
  const columns = {
    alcohol: Array.from({ length: 200 }, (_, i) => 9 + (i % 40) / 10),
    color: Array.from({ length: 200 }, (_, i) => (i % 3 ? 'white' : 'red')),
  };

  it('stores an uploaded reference once, profiled, and checks compare with it', async () => {
    const { http, knex } = await setup();
    const denied = await http
      .put(REFERENCE)
      .set('Authorization', mockCredentials.user.header(MALLORY))
      .send({ columns });
    expect(denied.status).toBe(403);
    expect(
      (await knex('monitoring_active_references').count({ n: '*' }))[0].n,
    ).toBe(0);

    const set = await http.put(REFERENCE).send({ columns }).expect(200);
    expect(set.body).toMatchObject({
      source: 'upload',
      rowCount: 200,
      sampled: false,
      columns: ['alcohol', 'color'],
      setBy: 'user:default/mock',
    });
    const got = await http.get(REFERENCE).expect(200);
    expect(got.body.id).toBe(set.body.id);
    const [stored] = await knex('monitoring_reference_profiles').where({
      id: set.body.id,
    });
    expect(JSON.parse(stored.profile).alcohol.sorted).toHaveLength(200);

    // The Model's Dataset does not exist: the uploaded reference serves instead.
    const run = await http
      .post('/api/mlops/monitoring/models/wine/drift/run')
      .send({})
      .expect(201);
    expect(run.body.reports[0]).toMatchObject({
      referenceId: set.body.id,
      status: 'insufficient_data',
    });

    await http.delete(REFERENCE).expect(204);
    await http.delete(REFERENCE).expect(404);
    const back = await http.get(REFERENCE);
    expect(back.body).toEqual({
      source: 'dataset',
      dataset: 'dataset:default/wine-ref',
    });
  });

  it.each([
    [{ columns: {} }, /columns: must name at least one column/],
    [{ window: { since: 'then', until: 'now' } }, /window\.since/],
    [
      { columns, window: { since: '2026-12-01T00:00:00Z' } },
      /Unrecognized key|Invalid input/,
    ],
    [
      {
        window: {
          since: '2026-12-07T12:00:00Z',
          until: '2026-12-07T11:00:00Z',
        },
      },
      /since must be before/,
    ],
  ])('answers 400 to a bad reference %#', async (body, message) => {
    const { http, knex } = await setup();
    const res = await http.put(REFERENCE).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
    expect(
      (await knex('monitoring_reference_profiles').count({ n: '*' }))[0].n,
    ).toBe(0);
  });

  it('summarizes the Models asked for that the catalog holds', async () => {
    const { http } = await setup();
    const res = await http
      .get('/api/mlops/monitoring/summary?model=wine&model=nope')
      .expect(200);
    expect(res.body).toEqual({ items: [{ model: 'wine', requestRate: 0 }] });
    await http.get('/api/mlops/monitoring/summary').expect(400);
  });
});
