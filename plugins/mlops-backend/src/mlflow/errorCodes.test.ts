import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const API = '/api/mlops/mlflow/api/2.0/mlflow';
const MISSING_RUN = 'f'.repeat(32);
const MISSING_MODEL_ID = `m-${'0'.repeat(32)}`;

type Case = [
  method: 'get' | 'post' | 'patch' | 'delete',
  route: string,
  input: Record<string, unknown>,
  status: number,
  code: string,
];

/**
 * One bad input per MLflow endpoint, answered with MLflow's error code and
 * HTTP status, and nothing changed by any of them.
 */
describe.each(databaseIds)('MLflow error codes on %s', databaseId => {
  let artifactDir: string;
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-mlflow-'));
  });
  afterEach(() => {
    fs.rmSync(artifactDir, { recursive: true, force: true });
  });

  it('answers each bad input with its code and changes nothing', async () => {
    const knex = await databases.init(databaseId);
    const backend = await startTestBackend({
      features: [
        mlopsPlugin,
        mockModelCatalog('wine-quality'),
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: { mlops: { artifacts: { directory: artifactDir } } },
        }),
      ],
    });
    const http = request(backend.server);

    // The state every bad call must leave as it is.
    const experimentId: string = (
      await http.post(`${API}/experiments/create`).send({ name: 'e' })
    ).body.experiment_id;
    const runId: string = (
      await http
        .post(`${API}/runs/create`)
        .send({ experiment_id: experimentId, start_time: 1 })
        .expect(200)
    ).body.run.info.run_id;
    await http
      .post(`${API}/runs/log-batch`)
      .send({
        run_id: runId,
        params: [{ key: 'alpha', value: '0.5' }],
        metrics: [{ key: 'rmse', value: 0.5, timestamp: 2, step: 0 }],
      })
      .expect(200);
    await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' })
      .expect(200);
    await http
      .post(`${API}/model-versions/create`)
      .send({ name: 'wine-quality', source: 's3://bucket/wine', run_id: runId })
      .expect(200);
    const snapshot = async () => ({
      experiments: await knex('tracking_experiments').count({ n: '*' }),
      runs: await knex('tracking_runs').count({ n: '*' }),
      params: await knex('tracking_params')
        .select('key', 'value')
        .orderBy('key'),
      metrics: await knex('tracking_metrics').count({ n: '*' }),
      models: await knex('registry_models').orderBy('name').pluck('name'),
      versions: await knex('registry_versions')
        .select('version', 'stage')
        .orderBy('version'),
      aliases: await knex('registry_aliases').count({ n: '*' }),
      loggedModels: await knex('tracking_logged_models').count({ n: '*' }),
    });
    const before = await snapshot();

    const wine = 'wine-quality';
    const cases: Case[] = [
      // experiments
      ['post', 'experiments/create', {}, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'post',
        'experiments/create',
        { name: 'e' },
        400,
        'RESOURCE_ALREADY_EXISTS',
      ],
      [
        'get',
        'experiments/get',
        { experiment_id: '999999' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      ['get', 'experiments/get-by-name', {}, 400, 'INVALID_PARAMETER_VALUE'],
      [
        'get',
        'experiments/get-by-name',
        { experiment_name: 'nope' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'experiments/search',
        { filter: 'colour = 1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'experiments/set-experiment-tag',
        { experiment_id: '999999', key: 'k', value: 'v' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'experiments/update',
        { experiment_id: experimentId },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'experiments/delete',
        { experiment_id: '999999' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      // runs
      [
        'post',
        'runs/create',
        { experiment_id: '999999' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'runs/update',
        { run_id: runId, status: 'DANCING' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'get',
        'runs/get',
        { run_id: MISSING_RUN },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'runs/log-metric',
        { run_id: runId, key: 'm', value: 'abc', timestamp: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'runs/log-parameter',
        { run_id: runId, key: 'alpha', value: '9' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'runs/set-tag',
        { run_id: MISSING_RUN, key: 'k', value: 'v' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'runs/log-batch',
        { metrics: [] },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'runs/search',
        { experiment_ids: [experimentId], filter: 'metrics.rmse >>> 1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'runs/outputs',
        { run_id: runId, models: [{ model_id: MISSING_MODEL_ID, step: 0 }] },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        'metrics/get-history',
        { run_id: runId },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'get',
        'artifacts/list',
        { run_id: MISSING_RUN },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      // logged models
      [
        'post',
        'logged-models',
        { experiment_id: '999999' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        `logged-models/${MISSING_MODEL_ID}`,
        {},
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'patch',
        `logged-models/${MISSING_MODEL_ID}`,
        { status: 'LOGGED_MODEL_READY' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'logged-models/search',
        { experiment_ids: [experimentId], filter: 'colour = 1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      // registered models
      [
        'post',
        'registered-models/create',
        { name: 'a/b' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'registered-models/create',
        { name: 'no-such-model' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'registered-models/create',
        { name: wine },
        400,
        'RESOURCE_ALREADY_EXISTS',
      ],
      [
        'get',
        'registered-models/get',
        { name: 'nope' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'patch',
        'registered-models/update',
        { name: 'nope', description: 'x' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'registered-models/rename',
        { name: wine },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'registered-models/rename',
        { name: wine, new_name: 'a/b' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'delete',
        'registered-models/delete',
        { name: 'nope' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'registered-models/set-tag',
        { name: wine, key: '', value: 'v' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'delete',
        'registered-models/delete-tag',
        { name: wine, key: 'missing' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'registered-models/get-latest-versions',
        { name: 'nope' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        'registered-models/search',
        { filter: 'colour = 1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'registered-models/alias',
        { name: wine, alias: 'latest', version: '1' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'registered-models/alias',
        { name: wine, alias: 'champion', version: '9' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        'registered-models/alias',
        { name: wine, alias: 'missing' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      // model versions
      [
        'post',
        'model-versions/create',
        { name: wine },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'model-versions/create',
        { name: 'nope', source: 's3://x' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'model-versions/create',
        {
          name: wine,
          source: `models:/${MISSING_MODEL_ID}`,
          model_id: MISSING_MODEL_ID,
        },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'model-versions/create',
        { name: wine, source: 's3://x', run_id: MISSING_RUN },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        'model-versions/get',
        { name: wine, version: 'abc' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'get',
        'model-versions/get',
        { name: wine, version: '9' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'patch',
        'model-versions/update',
        { name: wine, version: '9', description: 'x' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'post',
        'model-versions/transition-stage',
        { name: wine, version: '1', stage: 'Prod' },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'model-versions/transition-stage',
        {
          name: wine,
          version: '1',
          stage: 'Archived',
          archive_existing_versions: true,
        },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'post',
        'model-versions/set-tag',
        { name: wine, version: '9', key: 'k', value: 'v' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'delete',
        'model-versions/delete-tag',
        { name: wine, version: '1', key: 'missing' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'delete',
        'model-versions/delete',
        { name: wine, version: '9' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
      [
        'get',
        'model-versions/search',
        { filter: "run_id IN ('a'" },
        400,
        'INVALID_PARAMETER_VALUE',
      ],
      [
        'get',
        'model-versions/get-download-uri',
        { name: wine, version: '9' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      ],
    ];

    // MLflow's artifact DELETE (`delete_artifacts`) is not offered here.
    const artifactDelete = await http.delete(
      '/api/mlops/mlflow/api/2.0/mlflow-artifacts/artifacts/0/x',
    );
    expect({
      status: artifactDelete.status,
      code: artifactDelete.body.error_code,
    }).toEqual({ status: 404, code: 'ENDPOINT_NOT_FOUND' });

    const answers = [];
    for (const [method, route, input] of cases) {
      const call = http[method](`${API}/${route}`);
      const res = await (method === 'get'
        ? call.query(input)
        : call.send(input));
      answers.push({
        call: `${method.toUpperCase()} ${route} ${JSON.stringify(input)}`,
        status: res.status,
        code: res.body.error_code,
        hasMessage:
          typeof res.body.message === 'string' && res.body.message !== '',
      });
    }
    expect(answers).toEqual(
      cases.map(([method, route, input, status, code]) => ({
        call: `${method.toUpperCase()} ${route} ${JSON.stringify(input)}`,
        status,
        code,
        hasMessage: true,
      })),
    );
    expect(await snapshot()).toEqual(before);
    await backend.stop();
  }, 120_000); // a whole backend on a shared machine
});
