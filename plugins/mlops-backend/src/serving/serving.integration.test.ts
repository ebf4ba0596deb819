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
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { mockModelCatalog } from '../__testUtils__/catalog';
import { writeLinearRegressor } from '../registry/onnx/OnnxWriter';
import type { InferenceLog } from './log/createInferenceLog';

jest.setTimeout(120_000);

/**
 * The inference log the plugin builds (the real factory, watched), so the
 * test can wait for its writes with `flush()` instead of polling.
 */
const mockCreatedLogs: InferenceLog[] = [];
jest.mock('./log/createInferenceLog', () => {
  const actual = jest.requireActual('./log/createInferenceLog');
  return {
    ...actual,
    createInferenceLog: (
      ...args: Parameters<typeof actual.createInferenceLog>
    ) => {
      const log = actual.createInferenceLog(...args);
      mockCreatedLogs.push(log);
      return log;
    },
  };
});

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const weights = [0.5, -1, 2];
const bias = 0.25;
const features = ['alcohol', 'volatile_acidity', 'sulphates'];
const model = writeLinearRegressor({ weights, bias, featureNames: features });
const predictOne = (x: number[]) =>
  x.reduce((sum, v, i) => sum + v * weights[i], bias);

/** The whole plugin: registry → Production → OIP routes → inference log → stats and metrics. */
describe.each(databaseIds)(
  'serving through the mlops plugin on %s',
  databaseId => {
    let artifactDir: string;
    beforeEach(() => {
      artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopline-serving-'));
    });
    afterEach(() => fs.rmSync(artifactDir, { recursive: true, force: true }));

    async function start() {
      const knex = await databases.init(databaseId);
      const created = mockCreatedLogs.length;
      const { server } = await startTestBackend({
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
                  // Written when the test flushes, not on a timer.
                  log: { flushIntervalMs: 3_600_000 },
                },
              },
            },
          }),
        ],
      });
      expect(mockCreatedLogs).toHaveLength(created + 1);
      const log = mockCreatedLogs[created];
      const http = request(server);
      // Register version 1 with its ONNX file and put it in Production.
      await http
        .post('/api/mlops/mlflow/api/2.0/mlflow/registered-models/create')
        .send({ name: 'wine' })
        .expect(200);
      await http
        .post('/api/mlops/registry/models/wine/versions')
        .send({ source: 'test' })
        .expect(201);
      await http
        .put('/api/mlops/registry/models/wine/versions/1/artifact')
        .set('Content-Type', 'application/octet-stream')
        .send(model)
        .expect(200);
      await http
        .post('/api/mlops/registry/models/wine/versions/1/stage')
        .send({ stage: 'Production' })
        .expect(200);
      return { http, log };
    }

    it('answers OIP and convenience requests from the Production version, and logs them', async () => {
      const { http, log } = await start();

      await http
        .get('/api/mlops/v2/health/live')
        .set('Authorization', mockCredentials.none.header())
        .expect(200, { live: true });

      const metadata = await http.get('/api/mlops/v2/models/wine').expect(200);
      expect(metadata.body).toMatchObject({
        name: 'wine',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
      });

      const rows = [
        [10, 0.5, 0.6],
        [12.5, 0.3, 0.8],
      ];
      const infer = await http
        .post('/api/mlops/v2/models/wine/infer')
        .send({
          id: 'req-1',
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [2, 3], data: rows },
          ],
        })
        .expect(200);
      expect(infer.body).toMatchObject({
        model_name: 'wine',
        model_version: '1',
        id: 'req-1',
      });
      const [output] = infer.body.outputs;
      expect(output).toMatchObject({
        name: 'variable',
        datatype: 'FP32',
        shape: [2, 1],
      });
      output.data.forEach((value: number, i: number) =>
        expect(value).toBeCloseTo(predictOne(rows[i]), 5),
      );

      const predicted = await http
        .post('/api/mlops/serving/models/wine/predict')
        .send({
          features: { alcohol: 10, volatile_acidity: 0.5, sulphates: 0.6 },
        })
        .expect(200);
      expect(predicted.body.version).toBe(1);
      expect(Number(predicted.body.prediction)).toBeCloseTo(
        predictOne(rows[0]),
        5,
      );

      // Bad input: the protocol's error body and a 4xx, never a 5xx.
      const wrongType = await http
        .post('/api/mlops/v2/models/wine/infer')
        .send({
          inputs: [
            {
              name: 'input',
              datatype: 'INT64',
              shape: [1, 3],
              data: [1, 2, 3],
            },
          ],
        });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body).toEqual({ error: expect.stringMatching(/input/) });
      const wrongCount = await http
        .post('/api/mlops/v2/models/wine/infer')
        .send({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2] },
          ],
        });
      expect(wrongCount.status).toBe(400);
      const unknown = await http.post('/api/mlops/v2/models/nope/infer').send({
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
        ],
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toEqual(expect.any(String));
      const notJson = await http
        .post('/api/mlops/v2/models/wine/infer')
        .set('Content-Type', 'application/json')
        .send('{"inputs": [');
      expect(notJson.status).toBe(400);
      expect(notJson.body.error).toEqual(expect.any(String));
      const tooLarge = await http.post('/api/mlops/v2/models/wine/infer').send({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [30000, 3],
            data: new Array(90000).fill(1.5),
          },
        ],
      });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.error).toEqual(expect.any(String));

      // Ground truth for the first request, then the log and the figures.
      await http
        .post('/api/mlops/serving/ground-truth')
        .send({ requestId: 'req-1', groundTruth: 6 })
        .expect(201);

      await log.inferenceLogger.flush();
      const stats = (
        await http.get('/api/mlops/serving/models/wine/stats').expect(200)
      ).body;
      // 2 answered, 4 refused (type, count, not JSON, too large); the unknown
      // model is no model's request.
      expect(stats).toMatchObject({ model: 'wine', requests: 6, errors: 4 });
      expect(stats.latencyMs.p50).toBeGreaterThan(0);

      const logged = await http
        .get('/api/mlops/serving/models/wine/requests')
        .query({ limit: 10 })
        .expect(200);
      const first = (logged.body.items ?? logged.body).find(
        (r: any) => r.requestId === 'req-1',
      );
      expect(first).toMatchObject({
        version: 1,
        status: 'ok',
        groundTruth: { value: 6 },
      });

      const metrics = await http.get('/api/mlops/metrics').expect(200);
      const counter = (route: string, status: string) =>
        metrics.text
          .split('\n')
          .filter(line => line.startsWith('loopline_inference_requests_total{'))
          .filter(line => line.includes('model="wine"'))
          .filter(
            line =>
              line.includes(`route="${route}"`) &&
              line.includes(`status="${status}"`),
          )
          .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
      expect(counter('oip', 'ok')).toBe(1);
      expect(counter('predict', 'ok')).toBe(1);
      expect(counter('oip', 'error')).toBe(4);
    });

    it('takes KServe request-logger CloudEvents into the same log', async () => {
      const { http, log } = await start();
      const headers = {
        'ce-specversion': '1.0',
        'ce-id': 'kserve-42',
        'ce-source': 'http://localhost:9081/',
        'ce-inferenceservicename': 'wine',
        'ce-namespace': 'ml',
        'ce-component': 'predictor',
        'ce-endpoint': 'canary',
      };
      await http
        .post('/api/mlops/serving/kserve/logger')
        .set({
          ...headers,
          'ce-type': 'org.kubeflow.serving.inference.request',
        })
        .send({
          inputs: [
            { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
          ],
        })
        .expect(202);
      await http
        .post('/api/mlops/serving/kserve/logger')
        .set({
          ...headers,
          'ce-type': 'org.kubeflow.serving.inference.response',
        })
        .send({
          model_name: 'wine',
          outputs: [
            { name: 'variable', datatype: 'FP32', shape: [1, 1], data: [4.75] },
          ],
        })
        .expect(202);
      const missingType = await http
        .post('/api/mlops/serving/kserve/logger')
        .set(headers)
        .send({});
      expect(missingType.status).toBe(400);

      await log.inferenceLogger.flush();
      const res = await http
        .get('/api/mlops/serving/models/wine/requests')
        .query({ source: 'kserve' })
        .expect(200);
      const rows: any[] = res.body.items ?? res.body;
      expect(rows).toEqual([
        expect.objectContaining({
          requestId: 'kserve-42',
          source: 'kserve',
          endpoint: 'canary',
          status: 'ok',
        }),
      ]);
    });
  },
);
