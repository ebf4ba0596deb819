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
import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const API = '/api/mlops/mlflow/api/2.0/mlflow';
const ARTIFACTS = '/api/mlops/mlflow/api/2.0/mlflow-artifacts/artifacts';

const onnxModel = writeLinearRegressor({
  weights: [0.5, -0.25],
  bias: 1,
  featureNames: ['alcohol', 'sulphates'],
});

/**
 * The REST calls MLflow 3's Python client makes for
 * `mlflow.sklearn.log_model(model, name="model", registered_model_name="wine-quality")`
 * (what examples/mlflow/mlflow3_log_model.py runs), in its order.
 */
describe.each(databaseIds)('MLflow 3 logged models on %s', databaseId => {
  let artifactDir: string;
  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-mlflow3-'));
  });
  afterEach(() => {
    fs.rmSync(artifactDir, { recursive: true, force: true });
  });

  async function start() {
    const knex = await databases.init(databaseId);
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        mockModelCatalog('wine-quality'),
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: { mlops: { artifacts: { directory: artifactDir } } },
        }),
      ],
    });
    return request(server);
  }

  it('plays log_model and register_model call for call', async () => {
    const http = await start();

    // mlflow.set_experiment("wine-quality")
    await http
      .get(`${API}/experiments/get-by-name`)
      .query({ experiment_name: 'wine-quality' })
      .expect(404);
    const experimentId: string = (
      await http
        .post(`${API}/experiments/create`)
        .send({ name: 'wine-quality' })
        .expect(200)
    ).body.experiment_id;

    // mlflow.start_run(); log_params; log_metrics
    const runId: string = (
      await http
        .post(`${API}/runs/create`)
        .send({ experiment_id: experimentId, start_time: 1700000000000 })
        .expect(200)
    ).body.run.info.run_id;
    await http
      .post(`${API}/runs/log-batch`)
      .send({
        run_id: runId,
        params: [{ key: 'alpha', value: '0.5' }],
        metrics: [{ key: 'rmse', value: 0.61, timestamp: 1700000001000 }],
      })
      .expect(200);

    // log_model 1: the run's params, then the logged model, PENDING, with
    // its own artifact folder.
    await http.get(`${API}/runs/get`).query({ run_id: runId }).expect(200);
    const created = await http
      .post(`${API}/logged-models`)
      .send({
        experiment_id: experimentId,
        name: 'model',
        model_type: 'sklearn',
        source_run_id: runId,
        params: [{ key: 'alpha', value: '0.5' }],
        tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
      })
      .expect(200);
    const info = created.body.model.info;
    const modelId: string = info.model_id;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(created.body.model).toEqual({
      info: {
        model_id: modelId,
        experiment_id: experimentId,
        name: 'model',
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: expect.any(Number),
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'sklearn',
        source_run_id: runId,
        tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
        registrations: [],
      },
      data: { params: [{ key: 'alpha', value: '0.5' }], metrics: [] },
    });

    // log_model 2: the model is an output of the run; the run's metrics of
    // that step are logged again with its model_id (known ones are ignored).
    await http
      .post(`${API}/runs/outputs`)
      .send({ run_id: runId, models: [{ model_id: modelId, step: 0 }] })
      .expect(200);
    await http.get(`${API}/runs/get`).query({ run_id: runId }).expect(200);
    const history = await http
      .get(`${API}/metrics/get-history`)
      .query({ run_id: runId, metric_key: 'rmse' })
      .expect(200);
    await http
      .post(`${API}/runs/log-batch`)
      .send({
        run_id: runId,
        metrics: history.body.metrics.map((m: any) => ({
          ...m,
          run_id: runId,
          model_id: modelId,
        })),
      })
      .expect(200);
    expect(
      (
        await http
          .get(`${API}/metrics/get-history`)
          .query({ run_id: runId, metric_key: 'rmse' })
          .expect(200)
      ).body.metrics,
    ).toHaveLength(1);

    // log_model 3: the files, through the proxied artifact store.
    const folder = `${experimentId}/models/${modelId}/artifacts`;
    await http
      .put(`${ARTIFACTS}/${folder}/MLmodel`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('flavors: {}\n'))
      .expect(200);
    await http
      .put(`${ARTIFACTS}/${folder}/model.onnx`)
      .set('Content-Type', 'application/octet-stream')
      .send(onnxModel)
      .expect(200);

    // log_model 4: finalized when the files are in.
    const finalized = await http
      .patch(`${API}/logged-models/${modelId}`)
      .send({ model_id: modelId, status: 'LOGGED_MODEL_READY' })
      .expect(200);
    expect(finalized.body.model.info.status).toBe('LOGGED_MODEL_READY');

    // The model's files, relative to its artifact root.
    const listed = await http
      .get(`${API}/logged-models/${modelId}/artifacts/directories`)
      .expect(200);
    expect(listed.body).toEqual({
      root_uri: `mlflow-artifacts:/${folder}`,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'model.onnx', is_dir: false, file_size: onnxModel.length },
      ],
    });

    // register_model (registered_model_name=): the registered model, then a
    // version from models:/<id> with its model_id and no run_id.
    await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' })
      .expect(200);
    const version = await http
      .post(`${API}/model-versions/create`)
      .send({
        name: 'wine-quality',
        source: `models:/${modelId}`,
        model_id: modelId,
      })
      .expect(200);
    // READY at once: the ONNX check ran before the answer, so the client's
    // wait for PENDING_REGISTRATION to end returns without polling.
    expect(version.body.model_version).toMatchObject({
      name: 'wine-quality',
      version: '1',
      source: `models:/${modelId}`,
      run_id: runId,
      model_id: modelId,
      status: 'READY',
      current_stage: 'None',
    });
    // The ONNX file among the logged model's artifacts is the version's artifact.
    const artifact = await http
      .get('/api/mlops/registry/models/wine-quality/versions/1/artifact')
      .expect(200);
    expect(Buffer.from(artifact.body).equals(onnxModel)).toBe(true);
    // The client then records the registration on the logged model's tags;
    // the server lists it in `registrations`.
    const registered = await http
      .get(`${API}/logged-models/${modelId}`)
      .expect(200);
    expect(registered.body.model.info.registrations).toEqual([
      { name: 'wine-quality', version: '1' },
    ]);
    await http
      .patch(`${API}/logged-models/${modelId}/tags`)
      .send({
        tags: [
          {
            key: 'mlflow.modelVersions',
            value: JSON.stringify([{ name: 'wine-quality', version: '1' }]),
          },
        ],
      })
      .expect(200);

    // set_registered_model_alias, get_model_version_by_alias
    await http
      .post(`${API}/registered-models/alias`)
      .send({ name: 'wine-quality', alias: 'champion', version: '1' })
      .expect(200);
    const byAlias = await http
      .get(`${API}/registered-models/alias`)
      .query({ name: 'wine-quality', alias: 'champion' })
      .expect(200);
    expect(byAlias.body.model_version.model_id).toBe(modelId);

    // transition_model_version_stage
    const staged = await http
      .post(`${API}/model-versions/transition-stage`)
      .send({ name: 'wine-quality', version: '1', stage: 'Staging' })
      .expect(200);
    expect(staged.body.model_version.current_stage).toBe('Staging');

    // The logged model: get, search, tags, params.
    await http
      .patch(`${API}/logged-models/${modelId}/tags`)
      .send({ tags: [{ key: 'team', value: 'wine' }] })
      .expect(200);
    await http
      .post(`${API}/logged-models/${modelId}/params`)
      .send({ params: [{ key: 'l1_ratio', value: '0.1' }] })
      .expect(200);
    const got = await http.get(`${API}/logged-models/${modelId}`).expect(200);
    expect(got.body.model.info.tags).toEqual(
      expect.arrayContaining([{ key: 'team', value: 'wine' }]),
    );
    expect(got.body.model.data.params).toEqual(
      expect.arrayContaining([{ key: 'l1_ratio', value: '0.1' }]),
    );
    const searched = await http
      .post(`${API}/logged-models/search`)
      .send({
        experiment_ids: [experimentId],
        filter: "name = 'model' AND tags.team = 'wine'",
        order_by: [{ field_name: 'creation_timestamp', ascending: false }],
      })
      .expect(200);
    expect(searched.body.models.map((m: any) => m.info.model_id)).toEqual([
      modelId,
    ]);
    expect(searched.body.models[0].info.registrations).toEqual([
      { name: 'wine-quality', version: '1' },
    ]);
    const none = await http
      .post(`${API}/logged-models/search`)
      .send({ experiment_ids: [experimentId], filter: "params.alpha = '9'" })
      .expect(200);
    expect(none.body.models).toEqual([]);

    // rename_registered_model: the version's file stays readable, and a new
    // registered model under the old name keeps files of its own.
    await http
      .post(`${API}/registered-models/rename`)
      .send({ name: 'wine-quality', new_name: 'wine-quality-legacy' })
      .expect(200);
    await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' })
      .expect(200);
    await http
      .post(`${API}/model-versions/create`)
      .send({
        name: 'wine-quality',
        source: `models:/${modelId}`,
        model_id: modelId,
      })
      .expect(200);
    for (const name of ['wine-quality-legacy', 'wine-quality']) {
      const file = await http
        .get(`/api/mlops/registry/models/${name}/versions/1/artifact`)
        .expect(200);
      expect(Buffer.from(file.body).equals(onnxModel)).toBe(true);
    }
    expect(
      (await http.get(`${API}/logged-models/${modelId}`).expect(200)).body.model
        .info.registrations,
    ).toEqual([
      { name: 'wine-quality', version: '1' },
      { name: 'wine-quality-legacy', version: '1' },
    ]);

    // delete_model_version, delete_registered_model, delete_logged_model
    await http
      .delete(`${API}/model-versions/delete`)
      .send({ name: 'wine-quality-legacy', version: '1' })
      .expect(200);
    await http
      .delete(`${API}/registered-models/delete`)
      .send({ name: 'wine-quality-legacy' })
      .expect(200);
    await http
      .delete(`${API}/registered-models/delete`)
      .send({ name: 'wine-quality' })
      .expect(200);
    expect(
      (await http.get(`${API}/logged-models/${modelId}`).expect(200)).body.model
        .info.registrations,
    ).toEqual([]);
    const audit = await http
      .get('/api/mlops/audit')
      .query({ entityRef: 'model:default/wine-quality' })
      .expect(200);
    expect(audit.body.items.map((e: any) => e.action).slice(0, 3)).toEqual([
      'registry.model.delete',
      'registry.model.delete',
      'registry.version.delete',
    ]);
    await http.delete(`${API}/logged-models/${modelId}/tags/team`).expect(200);
    await http.delete(`${API}/logged-models/${modelId}`).expect(200);
    const gone = await http.get(`${API}/logged-models/${modelId}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  }, 120_000); // a whole backend on a shared machine

  it('answers bad logged-model input with MLflow error codes', async () => {
    const http = await start();
    const experimentId: string = (
      await http
        .post(`${API}/experiments/create`)
        .send({ name: 'e' })
        .expect(200)
    ).body.experiment_id;
    const expectError = (
      res: request.Response,
      status: number,
      code: string,
    ) => {
      expect(res.status).toBe(status);
      expect(res.body.error_code).toBe(code);
    };

    expectError(
      await http.post(`${API}/logged-models`).send({}),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.post(`${API}/logged-models`).send({ experiment_id: '999' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http
        .post(`${API}/logged-models`)
        .send({ experiment_id: experimentId, source_run_id: 'f'.repeat(32) }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    const modelId: string = (
      await http
        .post(`${API}/logged-models`)
        .send({
          experiment_id: experimentId,
          params: [{ key: 'a', value: '1' }],
        })
        .expect(200)
    ).body.model.info.model_id;
    expectError(
      await http
        .patch(`${API}/logged-models/${modelId}`)
        .send({ status: 'DONE' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http
        .post(`${API}/logged-models/${modelId}/params`)
        .send({ params: [{ key: 'a', value: '2' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.delete(`${API}/logged-models/${modelId}/tags/nope`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http
        .post(`${API}/logged-models/search`)
        .send({ experiment_ids: [experimentId], filter: 'colour = 1' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http
        .post(`${API}/runs/outputs`)
        .send({ run_id: 'f'.repeat(32), models: [{ model_id: modelId }] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http.get(`${API}/logged-models/m-${'0'.repeat(32)}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http
        .get(`${API}/logged-models/${modelId}/artifacts/directories`)
        .query({ artifact_directory_path: '../..' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    // The params stayed as first logged.
    const got = await http.get(`${API}/logged-models/${modelId}`).expect(200);
    expect(got.body.model.data.params).toEqual([{ key: 'a', value: '1' }]);
    expect(got.body.model.info.status).toBe('LOGGED_MODEL_PENDING');
  });
});
