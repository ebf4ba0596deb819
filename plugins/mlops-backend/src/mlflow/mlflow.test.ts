import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';
import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const API = '/api/mlops/mlflow/api/2.0/mlflow';
const ARTIFACTS = '/api/mlops/mlflow/api/2.0/mlflow-artifacts/artifacts';

const onnxModel = writeLinearRegressor({
  weights: [0.5, -0.25, 2],
  bias: 1,
  featureNames: ['alcohol', 'volatile_acidity', 'sulphates'],
});

describe.each(databaseIds)('MLflow REST API on %s', databaseId => {
  let artifactDir: string;

  beforeEach(() => {
    artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-mlflow-'));
  });
  afterEach(() => {
    fs.rmSync(artifactDir, { recursive: true, force: true });
  });

  async function start(
    result:
      | AuthorizeResult.ALLOW
      | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  ) {
    const knex = await databases.init(databaseId);
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        mockModelCatalog('wine-quality'),
        mockServices.database.factory({ knex }),
        mockServices.permissions.factory({ result }),
        mockServices.rootConfig.factory({
          data: {
            mlops: {
              artifacts: { directory: artifactDir, maxSizeBytes: 64 * 1024 },
            },
          },
        }),
      ],
    });
    return server;
  }

  it('plays a training script: experiment, run, log-batch, artifact, register, stage, alias', async () => {
    const server = await start();
    const http = request(server);

    // mlflow.set_experiment: look up by name, create when missing.
    const missing = await http
      .get(`${API}/experiments/get-by-name`)
      .query({ experiment_name: 'wine-quality' });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const created = await http
      .post(`${API}/experiments/create`)
      .send({ name: 'wine-quality', tags: [{ key: 'team', value: 'wine' }] })
      .expect(200);
    const experimentId: string = created.body.experiment_id;
    expect(typeof experimentId).toBe('string');

    const duplicate = await http
      .post(`${API}/experiments/create`)
      .send({ name: 'wine-quality' });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    // mlflow.start_run
    const runRes = await http
      .post(`${API}/runs/create`)
      .send({
        experiment_id: experimentId,
        run_name: 'ridge-alpha-0.5',
        start_time: 1700000000000,
        tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
      })
      .expect(200);
    const run = runRes.body.run;
    const runId: string = run.info.run_id;
    expect(run.info).toMatchObject({
      run_uuid: runId,
      experiment_id: experimentId,
      run_name: 'ridge-alpha-0.5',
      status: 'RUNNING',
      start_time: 1700000000000,
      lifecycle_stage: 'active',
    });
    expect(run.info.artifact_uri).toBe(
      `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
    );

    // mlflow.log_params / log_metrics (autolog sends batches), by step.
    const metrics = Array.from({ length: 20 }, (_, step) => ({
      key: 'rmse',
      value: 1 / (step + 1),
      timestamp: 1700000000000 + step,
      step,
    }));
    await http
      .post(`${API}/runs/log-batch`)
      .send({
        run_id: runId,
        run_uuid: runId,
        params: [
          { key: 'alpha', value: '0.5' },
          { key: 'l1_ratio', value: '0.1' },
        ],
        metrics: [
          ...metrics,
          { key: 'r2', value: 0.41, timestamp: 1700000000100, step: 0 },
        ],
        tags: [{ key: 'stage', value: 'train' }],
      })
      .expect(200, {});

    // Same value again is fine; another value is refused and stores nothing.
    await http
      .post(`${API}/runs/log-parameter`)
      .send({ run_id: runId, key: 'alpha', value: '0.5' })
      .expect(200);
    const changed = await http.post(`${API}/runs/log-batch`).send({
      run_id: runId,
      params: [{ key: 'alpha', value: '0.9' }],
      metrics: [{ key: 'mae', value: 0.3, timestamp: 1700000000200, step: 0 }],
    });
    expect(changed.status).toBe(400);
    expect(changed.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(changed.body.message).toMatch(/alpha/);

    // mlflow.log_artifact of the ONNX model into the run's artifacts.
    await http
      .put(`${ARTIFACTS}/${experimentId}/${runId}/artifacts/model/model.onnx`)
      .set('Content-Type', 'application/octet-stream')
      .send(onnxModel)
      .expect(200);
    const listing = await http
      .get(ARTIFACTS)
      .query({ path: `${experimentId}/${runId}/artifacts/model` })
      .expect(200);
    // Names within the listed folder: MLflow's client joins them to it.
    expect(listing.body.files).toEqual([
      { path: 'model.onnx', is_dir: false, file_size: onnxModel.length },
    ]);
    const folders = await http
      .get(ARTIFACTS)
      .query({ path: `${experimentId}/${runId}/artifacts` })
      .expect(200);
    expect(folders.body.files).toEqual([{ path: 'model', is_dir: true }]);
    // The run's listing: paths from the run's artifact root.
    const runListing = await http
      .get(`${API}/artifacts/list`)
      .query({ run_id: runId, path: 'model' })
      .expect(200);
    expect(runListing.body).toEqual({
      root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      files: [
        {
          path: 'model/model.onnx',
          is_dir: false,
          file_size: onnxModel.length,
        },
      ],
    });
    expect(
      (
        await http
          .get(`${API}/artifacts/list`)
          .query({ run_uuid: runId })
          .expect(200)
      ).body.files,
    ).toEqual([{ path: 'model', is_dir: true }]);

    await http
      .post(`${API}/runs/update`)
      .send({ run_id: runId, status: 'FINISHED', end_time: 1700000005000 })
      .expect(200);

    const got = await http
      .get(`${API}/runs/get`)
      .query({ run_id: runId })
      .expect(200);
    expect(got.body.run.info.status).toBe('FINISHED');
    expect(got.body.run.data.params).toEqual(
      expect.arrayContaining([{ key: 'alpha', value: '0.5' }]),
    );
    expect(got.body.run.data.metrics).toEqual(
      expect.arrayContaining([
        { key: 'rmse', value: 1 / 20, timestamp: 1700000000019, step: 19 },
      ]),
    );
    expect(
      got.body.run.data.metrics.map((m: { key: string }) => m.key),
    ).not.toContain('mae');

    // Full history, paginated.
    const page1 = await http
      .get(`${API}/metrics/get-history`)
      .query({ run_id: runId, metric_key: 'rmse', max_results: 15 })
      .expect(200);
    expect(page1.body.metrics).toHaveLength(15);
    expect(page1.body.next_page_token).toEqual(expect.any(String));
    const page2 = await http
      .get(`${API}/metrics/get-history`)
      .query({
        run_id: runId,
        metric_key: 'rmse',
        max_results: 15,
        page_token: page1.body.next_page_token,
      })
      .expect(200);
    expect(page2.body.metrics.map((m: { step: number }) => m.step)).toEqual([
      15, 16, 17, 18, 19,
    ]);
    expect(page2.body.next_page_token).toBeUndefined();

    // Search with MLflow's filter syntax.
    const found = await http
      .post(`${API}/runs/search`)
      .send({
        experiment_ids: [experimentId],
        filter:
          "metrics.rmse < 0.1 and params.alpha = '0.5' and tags.stage = 'train'",
      })
      .expect(200);
    expect(found.body.runs.map((r: any) => r.info.run_id)).toEqual([runId]);
    const none = await http
      .post(`${API}/runs/search`)
      .send({ experiment_ids: [experimentId], filter: 'metrics.rmse > 1' })
      .expect(200);
    expect(none.body.runs ?? []).toEqual([]);

    // mlflow.register_model
    const model = await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality', description: 'ElasticNet on wine' })
      .expect(200);
    expect(model.body.registered_model).toMatchObject({
      name: 'wine-quality',
      description: 'ElasticNet on wine',
      latest_versions: [],
    });
    const again = await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' });
    expect(again.status).toBe(400);
    expect(again.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    const versionRes = await http
      .post(`${API}/model-versions/create`)
      .send({
        name: 'wine-quality',
        source: `runs:/${runId}/model`,
        run_id: runId,
      })
      .expect(200);
    expect(versionRes.body.model_version).toMatchObject({
      name: 'wine-quality',
      version: '1',
      current_stage: 'None',
      status: 'READY',
      run_id: runId,
      source: `runs:/${runId}/model`,
    });

    // The ONNX file at the source became the version's checked artifact.
    const native = await http
      .get('/api/mlops/registry/models/wine-quality/versions/1')
      .expect(200);
    expect(native.body.signature.inputs).toEqual([
      { name: 'input', datatype: 'FP32', shape: [-1, 3] },
    ]);
    expect(native.body.artifact.sizeBytes).toBe(onnxModel.length);
    expect(native.body.metrics).toMatchObject({ rmse: 1 / 20, r2: 0.41 });
    expect(native.body.params).toMatchObject({ alpha: '0.5' });

    const transitioned = await http
      .post(`${API}/model-versions/transition-stage`)
      .send({
        name: 'wine-quality',
        version: '1',
        stage: 'production',
        archive_existing_versions: true,
      })
      .expect(200);
    expect(transitioned.body.model_version.current_stage).toBe('Production');

    await http
      .post(`${API}/registered-models/alias`)
      .send({ name: 'wine-quality', alias: 'champion', version: '1' })
      .expect(200);
    const byAlias = await http
      .get(`${API}/registered-models/alias`)
      .query({ name: 'wine-quality', alias: 'champion' })
      .expect(200);
    expect(byAlias.body.model_version).toMatchObject({
      version: '1',
      aliases: ['champion'],
    });

    const latest = await http
      .post(`${API}/registered-models/get-latest-versions`)
      .send({ name: 'wine-quality', stages: ['Production'] })
      .expect(200);
    expect(latest.body.model_versions.map((v: any) => v.version)).toEqual([
      '1',
    ]);

    const searched = await http
      .get(`${API}/model-versions/search`)
      .query({ filter: "name='wine-quality'" })
      .expect(200);
    expect(searched.body.model_versions).toHaveLength(1);

    // The stage and alias changes are in the model's audit trail.
    const audit = await http
      .get('/api/mlops/audit')
      .query({ entityRef: 'model:default/wine-quality' })
      .expect(200);
    expect(audit.body.items.map((e: any) => e.action)).toEqual(
      expect.arrayContaining([
        'registry.version.create',
        'registry.stage.transition',
        'registry.alias.set',
      ]),
    );
  }, 120_000); // a whole backend on a shared machine

  it('answers bad input with MLflow error codes and stores nothing', async () => {
    const server = await start();
    const http = request(server);

    const unknownRun = await http
      .get(`${API}/runs/get`)
      .query({ run_id: 'f'.repeat(32) });
    expect(unknownRun.status).toBe(404);
    expect(unknownRun.body).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: expect.stringContaining('f'.repeat(32)),
    });

    const malformed = await http
      .post(`${API}/experiments/create`)
      .set('Content-Type', 'application/json')
      .send('{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBe('MALFORMED_REQUEST');

    const missingField = await http.post(`${API}/runs/create`).send({});
    expect(missingField.status).toBe(400);
    expect(missingField.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(missingField.body.message).toMatch(/experiment_id/);

    const unknownModel = await http
      .get(`${API}/model-versions/get`)
      .query({ name: 'nope', version: '1' });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const unknownEndpoint = await http.post(`${API}/runs/teleport`).send({});
    expect(unknownEndpoint.status).toBe(404);
    expect(unknownEndpoint.body.error_code).toBe('ENDPOINT_NOT_FOUND');

    // An upload over the configured limit.
    const tooLarge = await http
      .put(`${ARTIFACTS}/0/abc/artifacts/big.bin`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(65 * 1024));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error_code).toBe('REQUEST_LIMIT_EXCEEDED');

    // Escaping the artifact folder.
    const escape = await http
      .put(`${ARTIFACTS}/..%2F..%2Fetc%2Fpasswd`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('x'));
    expect(escape.status).toBe(400);
    expect(escape.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    // A version whose source holds a file that is not a loadable ONNX model.
    await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' })
      .expect(200);
    await http
      .put(`${ARTIFACTS}/0/run/artifacts/model/model.onnx`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from('this is not onnx'))
      .expect(200);
    const notOnnx = await http.post(`${API}/model-versions/create`).send({
      name: 'wine-quality',
      source: 'mlflow-artifacts:/0/run/artifacts/model',
    });
    expect(notOnnx.status).toBe(400);
    expect(notOnnx.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(notOnnx.body.message).toMatch(/ONNX/);
    const versions = await http
      .get(`${API}/model-versions/search`)
      .query({ filter: "name='wine-quality'" })
      .expect(200);
    expect(versions.body.model_versions ?? []).toEqual([]);
  });

  it('refuses paths that leave the artifact folder on every artifact route', async () => {
    const server = await start();
    const http = request(server);
    const experimentId = (
      await http
        .post(`${API}/experiments/create`)
        .send({ name: 'paths' })
        .expect(200)
    ).body.experiment_id;
    const runId = (
      await http
        .post(`${API}/runs/create`)
        .send({ experiment_id: experimentId, start_time: 1 })
        .expect(200)
    ).body.run.info.run_id;
    const refused = async (response: request.Response) => {
      expect(response.status).toBe(400);
      expect(response.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    };
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e/x', 'a/../../x']) {
      await refused(
        await http
          .put(`${ARTIFACTS}/${bad}`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from('x')),
      );
      await refused(await http.get(`${ARTIFACTS}/${bad}`));
    }
    for (const bad of ['../..', '/etc', 'a/../../b', '%2e%2e']) {
      await refused(await http.get(ARTIFACTS).query({ path: bad }));
    }
    for (const bad of ['../../..', '/etc', '..%2f..']) {
      await refused(
        await http
          .get(`${API}/artifacts/list`)
          .query({ run_id: runId, path: decodeURIComponent(bad) }),
      );
    }
    // A logged model's listing (MLflow 3).
    const modelId = (
      await http
        .post(`${API}/logged-models`)
        .send({ experiment_id: experimentId, source_run_id: runId })
        .expect(200)
    ).body.model.info.model_id;
    for (const bad of ['../..', '/etc', 'a/../../b', '%2e%2e', '..%2f..']) {
      await refused(
        await http
          .get(`${API}/logged-models/${modelId}/artifacts/directories`)
          .query({ artifact_directory_path: bad }),
      );
    }
    // A version's source is read from the artifact store too.
    await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' })
      .expect(200);
    for (const source of [
      'mlflow-artifacts:/../../etc/passwd',
      'mlflow-artifacts:/0/%2e%2e/%2e%2e/x.onnx',
      `runs:/${runId}/../../../x`,
      `models:/${modelId}/../../..`,
      `models:/${modelId}/%2e%2e%2f%2e%2e`,
    ]) {
      await refused(
        await http
          .post(`${API}/model-versions/create`)
          .send({ name: 'wine-quality', source, run_id: runId }),
      );
    }
    // Nothing was registered by the refused calls.
    expect(
      (
        await http
          .get(`${API}/model-versions/search`)
          .query({ filter: "name = 'wine-quality'" })
          .expect(200)
      ).body.model_versions ?? [],
    ).toEqual([]);
  });

  it('needs credentials and the policy’s permission for registry changes', async () => {
    const server = await start(AuthorizeResult.DENY);
    const http = request(server);

    const anonymous = await http
      .post(`${API}/experiments/create`)
      .set('Authorization', mockCredentials.none.header())
      .send({ name: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error_code).toBe('UNAUTHENTICATED');

    // A service with an external-access token may track runs ...
    await http
      .post(`${API}/experiments/create`)
      .set('Authorization', mockCredentials.service.header())
      .send({ name: 'ci' })
      .expect(200);

    // ... but registering is the model owners' decision, which this policy denies.
    const denied = await http
      .post(`${API}/registered-models/create`)
      .send({ name: 'wine-quality' });
    expect(denied.status).toBe(403);
    expect(denied.body.error_code).toBe('PERMISSION_DENIED');
    const lookup = await http
      .get(`${API}/registered-models/get`)
      .query({ name: 'wine-quality' });
    expect(lookup.status).toBe(404);
  });
});
