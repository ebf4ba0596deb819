import {
  mockCredentials,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express from 'express';
import request from 'supertest';
import { Knex } from 'knex';
import {
  createPipelineHarness,
  pipelineEntity,
  prepareDatabase,
  waitFor,
} from './__testUtils__/harness';
import { createPipelinesRouter } from './router';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const ALICE = 'user:default/alice';
const MALLORY = 'user:default/mallory';

describe.each(databaseIds)('pipeline routes on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  function setup() {
    const h = createPipelineHarness(knex);
    h.source.add(
      pipelineEntity(
        'wine-training',
        [
          { name: 'train', run: 'echo "training with lr=$LOOPLINE_PARAM_LR"' },
          {
            name: 'wait',
            dependsOn: ['train'],
            run: 'sleep "${LOOPLINE_PARAM_SLEEP:-0}"',
          },
        ],
        {
          schedule: '0 4 * * 1',
          parameters: [{ name: 'lr', default: '0.01' }, { name: 'sleep' }],
        },
      ),
    );
    // Mallory may read but not run.
    const authorize = jest.fn(async (requests: any[], options: any) =>
      requests.map(r => ({
        result:
          options.credentials.principal?.userEntityRef === MALLORY &&
          r.permission.name === 'loopline.pipeline.run'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
      })),
    );
    const permissions = {
      authorize,
      authorizeConditional: jest.fn(),
    } as unknown as PermissionsService;
    const app = express();
    app.use(express.json());
    app.use(
      '/api/mlops',
      createPipelinesRouter({
        httpAuth: mockServices.httpAuth({
          defaultCredentials: mockCredentials.user(ALICE),
        }),
        permissions,
        pipelines: h.service,
      }),
    );
    app.use(
      MiddlewareFactory.create({
        config: mockServices.rootConfig(),
        logger: mockServices.logger.mock(),
      }).error(),
    );
    return { ...h, http: request(app), authorize };
  }

  const BASE = '/api/mlops/pipelines/wine-training';
  const asMallory = mockCredentials.user.header(MALLORY);
  const runCount = async () =>
    Number((await knex('pipeline_runs').count({ n: '*' }))[0].n);

  it('starts a run with parameters, lists it, shows it with its logs', async () => {
    const { http, service } = setup();
    const started = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { lr: '0.3' }, comment: 'after the fix' })
      .expect(201);
    expect(started.body).toMatchObject({
      pipeline: 'wine-training',
      entityRef: 'pipeline:default/wine-training',
      state: 'queued',
      parameters: { lr: '0.3' },
      trigger: {
        type: 'manual',
        cause: `Run by ${ALICE}: after the fix`,
        user: ALICE,
      },
      steps: [
        { name: 'train', state: 'queued', dependsOn: [] },
        { name: 'wait', state: 'queued', dependsOn: ['train'] },
      ],
    });
    await service.idle();
    const id = started.body.id;

    const list = await http
      .get(`${BASE}/runs`)
      .set('Authorization', asMallory)
      .expect(200);
    expect(list.body.items.map((r: any) => r.id)).toContain(id);
    expect(list.body.nextScheduledAt).toMatch(/T04:00:00.000Z$/);

    const detail = await http.get(`${BASE}/runs/${id}`).expect(200);
    expect(detail.body).toMatchObject({
      state: 'succeeded',
      steps: [{ state: 'succeeded', exitCode: 0 }, { state: 'succeeded' }],
    });
    const logs = await http.get(`${BASE}/runs/${id}/logs`).expect(200);
    expect(logs.body).toMatchObject({
      items: [
        { step: 'train', stream: 'stdout', text: 'training with lr=0.3' },
      ],
      complete: true,
    });
    const followed = await http
      .get(`${BASE}/runs/${id}/logs?follow=true`)
      .buffer(true)
      .parse((res, callback) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () => callback(null, text));
      })
      .expect(200);
    expect(followed.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = String(followed.body)
      .trim()
      .split('\n')
      .map(l => JSON.parse(l));
    expect(lines.map(l => l.text)).toEqual(['training with lr=0.3']);
  });

  it('follows the log of a running run until it ends', async () => {
    const { http, service } = setup();
    const started = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { sleep: '2' } })
      .expect(201);
    const followed = await http
      .get(`${BASE}/runs/${started.body.id}/logs?follow=true`)
      .buffer(true)
      .parse((res, callback) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () => callback(null, text));
      })
      .expect(200);
    // The stream ended only once the run had finished.
    expect(
      (await http.get(`${BASE}/runs/${started.body.id}`).expect(200)).body
        .state,
    ).toBe('succeeded');
    expect(String(followed.body)).toContain('training with lr=0.01');
    await service.idle();
  });

  it('cancels a run and retries a failed step', async () => {
    const { http, service } = setup();
    const started = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { sleep: '600' } })
      .expect(201);
    const id = started.body.id;
    await waitFor(
      async () =>
        (await http.get(`${BASE}/runs/${id}`)).body.steps[1].state ===
        'running',
      'the second step to run',
    );
    await http
      .post(`${BASE}/runs/${id}/cancel`)
      .set('Authorization', asMallory)
      .expect(403);
    const cancelled = await http
      .post(`${BASE}/runs/${id}/cancel`)
      .send({ comment: 'wrong parameters' })
      .expect(200);
    expect(cancelled.body.cancelRequested).toBe(true);
    await service.idle();
    const after = await http.get(`${BASE}/runs/${id}`).expect(200);
    expect(after.body).toMatchObject({
      state: 'cancelled',
      steps: [{ state: 'succeeded' }, { state: 'cancelled' }],
    });
    await http.post(`${BASE}/runs/${id}/cancel`).expect(409);
    await http.post(`${BASE}/runs/${id}/steps/train/retry`).expect(409);
    const audit = await knex('audit_events')
      .where({ entity_ref: 'pipeline:default/wine-training' })
      .whereIn('action', ['pipeline.run.start', 'pipeline.run.cancel'])
      .orderBy('id', 'desc')
      .limit(2);
    expect(audit.map(a => [a.action, a.actor, a.comment])).toEqual([
      ['pipeline.run.cancel', ALICE, 'wrong parameters'],
      ['pipeline.run.start', ALICE, null],
    ]);
  });

  it('answers 400 naming the field, 404 for an unknown pipeline or run, 403 by policy, and stores nothing', async () => {
    const { http } = setup();
    const before = await runCount();
    const bad = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { 'not-an-identifier': 'x' } })
      .expect(400);
    expect(bad.body.error.message).toContain('parameters.not-an-identifier');
    const undeclared = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { epochs: '3' } })
      .expect(400);
    expect(undeclared.body.error.message).toContain('parameters.epochs');
    const extra = await http
      .post(`${BASE}/runs`)
      .send({ priority: 'high' })
      .expect(400);
    expect(extra.body.error.message).toContain('priority');
    const wrongType = await http
      .post(`${BASE}/runs`)
      .send({ parameters: { lr: 0.1 } })
      .expect(400);
    expect(wrongType.body.error.message).toContain('parameters.lr');
    await http.get(`${BASE}/runs?limit=0`).expect(400);
    await http.get(`${BASE}/runs/not-a-uuid`).expect(400);
    await http.post('/api/mlops/pipelines/nope/runs').send({}).expect(404);
    await http
      .get(`${BASE}/runs/6f1c1a52-7b6e-4b8e-9a51-3c1f4f7b2a10`)
      .expect(404);
    await http
      .post(`${BASE}/runs`)
      .set('Authorization', asMallory)
      .send({})
      .expect(403);
    expect(await runCount()).toBe(before);
  });
});
