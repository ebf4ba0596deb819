import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { mlopsPlugin } from '../../plugin';
import type { InferenceLog } from './createInferenceLog';
import { KSERVE_LOGGER_PATH } from './router';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

jest.setTimeout(120_000);

/**
 * The inference logs the plugin builds: the real factory, watched, so the
 * test sees the very log plugin.ts wired (routes on httpRouter, the KServe
 * route opened to its token, the purge on the scheduler, the final flush on
 * shutdown) rather than a copy of its wiring.
 */
const mockCreatedLogs: InferenceLog[] = [];
jest.mock('./createInferenceLog', () => {
  const actual = jest.requireActual('./createInferenceLog');
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

describe.each(databaseIds)('inference log wiring on %s', databaseId => {
  it('serves the routes, takes the KServe token, and flushes on shutdown', async () => {
    const knex = await databases.init(databaseId);
    const config = {
      mlops: {
        serving: {
          log: { flushIntervalMs: 3_600_000 },
          kserveLogger: { token: 'kserve-secret' },
        },
      },
    };
    const start = async (db: typeof knex) => {
      const created = mockCreatedLogs.length;
      const started = await startTestBackend({
        features: [
          mlopsPlugin,
          mockServices.database.factory({ knex: db }),
          mockServices.rootConfig.factory({ data: config }),
        ],
      });
      expect(mockCreatedLogs).toHaveLength(created + 1);
      return { backend: started, log: mockCreatedLogs[created] };
    };
    const { backend, log } = await start(knex);
    // A second instance in the same process: its own metrics registry.
    const second = await start(await databases.init(databaseId));
    expect(second.log.metrics.registry).not.toBe(log.metrics.registry);
    await second.backend.stop();

    const kserve = await request(backend.server)
      .post(`/api/mlops${KSERVE_LOGGER_PATH}?token=kserve-secret`)
      .set('ce-type', 'org.kubeflow.serving.inference.request')
      .set('ce-id', 'k1')
      .set('ce-inferenceservicename', 'wine-quality')
      .set('Content-Type', 'application/json')
      .send('{"instances":[[1,2]]}');
    expect(kserve.status).toBe(202);

    const anonymousMetrics = await request(backend.server)
      .get('/api/mlops/metrics')
      .set('Authorization', mockCredentials.none.header());
    expect(anonymousMetrics.status).toBe(401);
    const metrics = await request(backend.server)
      .get('/api/mlops/metrics')
      .set('Authorization', mockCredentials.service.header());
    expect(metrics.text).toContain('loopline_inference_log_buffered 1');

    for (const observer of log.observers) {
      observer.observe({
        requestId: 'e1',
        modelName: 'wine-quality',
        version: 1,
        route: 'oip',
        status: 'ok',
        httpStatus: 200,
        latencyMs: 1,
        timestamp: Date.now(),
      });
    }
    // Nothing written yet (the flush interval is an hour) ...
    expect(await knex('serving_inference_log')).toEqual([]);
    await backend.stop();
    // ... until the shutdown hook flushed.
    const rows = await knex('serving_inference_log').orderBy('request_id');
    expect(rows.map(r => [r.request_id, r.source])).toEqual([
      ['e1', 'embedded'],
      ['k1', 'kserve'],
    ]);
  });
});
