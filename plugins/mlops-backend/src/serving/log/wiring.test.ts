import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { NotFoundError } from '@backstage/errors';
import request from 'supertest';
import { applyMigrations } from '../../database/migrations';
import { readInferenceLogConfig } from './config';
import { createInferenceLog, InferenceLog } from './createInferenceLog';
import { KSERVE_LOGGER_PATH } from './router';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

/**
 * The inference log wired into a backend plugin the way plugin.ts is meant
 * to: routes on httpRouter, the KServe route opened to its token, the
 * retention purge on the scheduler, a final flush on shutdown.
 */
function createTestPlugin(
  pluginId: string,
  onInit: (log: InferenceLog) => void,
  migrate = true,
) {
  return createBackendPlugin({
    pluginId,
    register(env) {
      env.registerInit({
        deps: {
          config: coreServices.rootConfig,
          logger: coreServices.logger,
          database: coreServices.database,
          httpAuth: coreServices.httpAuth,
          httpRouter: coreServices.httpRouter,
          permissions: coreServices.permissions,
          scheduler: coreServices.scheduler,
          lifecycle: coreServices.lifecycle,
        },
        async init(deps) {
          const db = await deps.database.getClient();
          if (migrate) {
            await applyMigrations(db);
          }
          const config = readInferenceLogConfig(deps.config);
          const log = createInferenceLog({
            db,
            config,
            logger: deps.logger,
            httpAuth: deps.httpAuth,
            permissions: deps.permissions,
            registry: {
              async getRegisteredModel(name) {
                if (name !== 'wine-quality') throw new NotFoundError(name);
                return { name, entityRef: 'model:default/wine-quality' };
              },
            },
          });
          deps.httpRouter.use(log.router);
          if (config.kserveLogger.token) {
            deps.httpRouter.addAuthPolicy({
              path: KSERVE_LOGGER_PATH,
              allow: 'unauthenticated',
            });
          }
          await deps.scheduler.scheduleTask({
            id: 'inference-log-purge',
            frequency: config.log.purgeFrequency,
            timeout: { minutes: 10 },
            initialDelay: { minutes: 1 },
            fn: async () => {
              await log.inferenceLogger.purge();
            },
          });
          deps.lifecycle.addShutdownHook(() => log.inferenceLogger.close());
          onInit(log);
        },
      });
    },
  });
}

describe.each(databaseIds)('inference log wiring on %s', databaseId => {
  it('serves the routes, takes the KServe token, and flushes on shutdown', async () => {
    const knex = await databases.init(databaseId);
    const logs: InferenceLog[] = [];
    const config = {
      mlops: {
        serving: {
          log: { flushIntervalMs: 3_600_000 },
          kserveLogger: { token: 'kserve-secret' },
        },
      },
    };
    const backend = await startTestBackend({
      features: [
        createTestPlugin('mlops', log => logs.push(log)),
        // A second instance in the same process: its own metrics registry.
        createTestPlugin('mlops2', log => logs.push(log), false),
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({ data: config }),
      ],
    });
    const [log] = logs;
    expect(logs[1].metrics.registry).not.toBe(log.metrics.registry);

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
