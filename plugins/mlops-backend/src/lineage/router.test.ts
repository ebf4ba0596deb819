import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { describeWithSpecs, readSpecJson } from '../__testUtils__/specs';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const BASE = '/api/mlops/openlineage/api/v1';
const TOKEN = 'openlineage-client-token-0123456789';

const event = (runId: string, eventType: string, time: string) => ({
  eventType,
  eventTime: time,
  producer:
    'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python',
  schemaURL:
    'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId },
  job: { namespace: 'airflow', name: 'wine.features' },
  inputs: [{ namespace: 'file', name: 'examples/data/winequality-red.csv' }],
  outputs: [{ namespace: 'file', name: 'features/wine.parquet' }],
});

describe.each(databaseIds)('lineage routes on %s', databaseId => {
  async function start(options?: {
    permissionResult?: AuthorizeResult.ALLOW | AuthorizeResult.DENY;
    realAuth?: boolean;
  }) {
    const knex = await databases.init(databaseId);
    const features: any[] = [
      mlopsPlugin,
      mockServices.database.factory({ knex }),
      mockServices.permissions.factory({
        result: options?.permissionResult ?? AuthorizeResult.ALLOW,
      }),
    ];
    if (options?.realAuth) {
      // Backstage's own auth, with the static external-access token an
      // OpenLineage client sends (restricted to this plugin).
      features.push(
        authServiceFactory,
        httpAuthServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              baseUrl: 'http://localhost:7500',
              auth: {
                externalAccess: [
                  {
                    type: 'static',
                    options: { token: TOKEN, subject: 'openlineage-client' },
                    accessRestrictions: [{ plugin: 'mlops' }],
                  },
                ],
              },
            },
          },
        }),
      );
    }
    const { server } = await startTestBackend({ features });
    return { server, knex };
  }

  it('records events sent with an external-access token and answers GET lineage', async () => {
    const { server, knex } = await start({ realAuth: true });
    const runId = '0190b5c4-1111-7000-8000-000000000001';
    for (const [type, time] of [
      ['START', '2026-12-07T10:00:00Z'],
      ['COMPLETE', '2026-12-07T10:01:00Z'],
    ]) {
      await request(server)
        .post(`${BASE}/lineage`)
        .set('Authorization', `Bearer ${TOKEN}`)
        .send(event(runId, type, time))
        .expect(201);
    }
    const res = await request(server)
      .get(`${BASE}/lineage`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .query({ nodeId: 'job:airflow:wine.features' });
    expect(res.status).toBe(200);
    expect(res.body.graph.map((n: any) => n.id)).toEqual([
      'dataset:file:examples/data/winequality-red.csv',
      'dataset:file:features/wine.parquet',
      'job:airflow:wine.features',
    ]);
    // No token, or a wrong one: 401 and nothing stored.
    const before = Number(
      (await knex('lineage_events').count({ n: '*' }))[0].n,
    );
    await request(server)
      .post(`${BASE}/lineage`)
      .send(event(runId, 'OTHER', '2026-12-07T10:02:00Z'))
      .expect(401);
    await request(server)
      .post(`${BASE}/lineage`)
      .set('Authorization', 'Bearer not-the-token')
      .send(event(runId, 'OTHER', '2026-12-07T10:02:00Z'))
      .expect(401);
    expect(Number((await knex('lineage_events').count({ n: '*' }))[0].n)).toBe(
      before,
    );
  });

  it('answers 400 with the failing paths in Marquez shape, and lists and gets in Marquez shapes', async () => {
    const { server } = await start();
    const bad = await request(server)
      .post(`${BASE}/lineage`)
      .send({ ...event('nope', 'START', '2026-12-07T10:00:00Z') });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 400,
      errors: [{ path: '$.run.runId', message: 'must match format "uuid"' }],
    });
    const notJson = await request(server)
      .post(`${BASE}/lineage`)
      .set('Content-Type', 'application/json')
      .send('{"eventType":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe(400);

    const runId = '0190b5c4-2222-7000-8000-000000000001';
    await request(server)
      .post(`${BASE}/lineage`)
      .send(event(runId, 'COMPLETE', '2026-12-07T10:01:00Z'))
      .expect(201);
    const namespaces = await request(server)
      .get(`${BASE}/namespaces`)
      .expect(200);
    expect(namespaces.body.namespaces.map((n: any) => n.name)).toEqual([
      'airflow',
      'file',
    ]);
    const jobs = await request(server)
      .get(`${BASE}/namespaces/airflow/jobs`)
      .expect(200);
    expect(jobs.body).toMatchObject({
      totalCount: 1,
      jobs: [
        { id: { namespace: 'airflow', name: 'wine.features' }, type: 'BATCH' },
      ],
    });
    const job = await request(server)
      .get(`${BASE}/namespaces/airflow/jobs/wine.features`)
      .expect(200);
    expect(job.body.latestRun).toMatchObject({ id: runId, state: 'COMPLETED' });
    await request(server)
      .get(`${BASE}/namespaces/airflow/jobs/wine.features/runs`)
      .expect(200);
    await request(server)
      .get(`${BASE}/namespaces/airflow/jobs/wine.features/versions`)
      .expect(200);
    const run = await request(server)
      .get(`${BASE}/jobs/runs/${runId}`)
      .expect(200);
    expect(run.body.outputDatasetVersions[0].datasetVersionId).toMatchObject({
      namespace: 'file',
      name: 'features/wine.parquet',
    });
    const dataset = await request(server)
      .get(
        `${BASE}/namespaces/file/datasets/${encodeURIComponent(
          'features/wine.parquet',
        )}`,
      )
      .expect(200);
    expect(dataset.body).toMatchObject({
      id: { namespace: 'file', name: 'features/wine.parquet' },
      type: 'DB_TABLE',
    });
    await request(server)
      .get(`${BASE}/namespaces/file/datasets/missing`)
      .expect(404, {
        code: 404,
        message: "Dataset 'missing' not found in 'file'",
      });
    const batch = await request(server)
      .post(`${BASE}/lineage/batch`)
      .send([event(runId, 'OTHER', '2026-12-07T10:02:00Z'), { bad: 1 }]);
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({
      status: 'partial_success',
      summary: { received: 2, successful: 1, failed: 1 },
      failed_events: [{ index: 1, retriable: false }],
    });
  });

  it('refuses ingest and reads when the policy denies them', async () => {
    const { server, knex } = await start({
      permissionResult: AuthorizeResult.DENY,
    });
    const res = await request(server)
      .post(`${BASE}/lineage`)
      .set('Authorization', mockCredentials.service.header())
      .send(
        event(
          '0190b5c4-3333-7000-8000-000000000001',
          'START',
          '2026-12-07T10:00:00Z',
        ),
      );
    expect(res.status).toBe(403);
    expect(res.body.code).toBe(403);
    expect(Number((await knex('lineage_events').count({ n: '*' }))[0].n)).toBe(
      0,
    );
    await request(server).get(`${BASE}/namespaces`).expect(403);
    const impact = await request(server)
      .get('/api/mlops/lineage/impact')
      .query({ entityRef: 'dataset:default/wine-quality-raw' });
    expect(impact.status).toBe(403);
    expect(impact.body.error.name).toBe('NotAllowedError');
  });

  it('answers provenance of an unknown request with 404 in Backstage shape', async () => {
    const { server } = await start();
    const res = await request(server)
      .get('/api/mlops/lineage/provenance')
      .query({ requestId: 'no-such-request' });
    expect(res.status).toBe(404);
    expect(res.body.error.name).toBe('NotFoundError');
    const bad = await request(server).get('/api/mlops/lineage/impact');
    expect(bad.status).toBe(400);
    expect(bad.body.error.name).toBe('InputError');
  });
});

describeWithSpecs('lineage routes with the spec examples', () => {
  it('accepts the simple example and rejects each invalid one with 400', async () => {
    const knex = await databases.init('SQLITE_3');
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        mockServices.database.factory({ knex }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      ],
    });
    await request(server)
      .post(`${BASE}/lineage`)
      .send(readSpecJson('openlineage/events/event_simple.json'))
      .expect(201);
    for (const file of [
      'event_no_run_id.json',
      'event_invalid_run_facet.json',
      'event_invalid_job_facet.json',
      'event_invalid_dataset_facet.json',
      'event_invalid_input_dataset_facet.json',
      'event_invalid_output_dataset_facet.json',
    ]) {
      const res = await request(server)
        .post(`${BASE}/lineage`)
        .send(readSpecJson(`openlineage/events/${file}`));
      expect([file, res.status]).toEqual([file, 400]);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect(Number((await knex('lineage_events').count({ n: '*' }))[0].n)).toBe(
      1,
    );
  });
});
