import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import knexFactory, { Knex } from 'knex';
import {
  mockServices,
  startTestBackend,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import Router from 'express-promise-router';
import request from 'supertest';
import { mlopsPlugin } from '../plugin';
import { eventBreaker, JUNK } from './__testUtils__/malformedEvents';

jest.setTimeout(180_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const BASE = '/api/mlops/openlineage/api/v1';
const TOKEN = 'openlineage-client-token-0123456789';
const LINEAGE_TABLES = [
  'lineage_events',
  'lineage_namespaces',
  'lineage_jobs',
  'lineage_runs',
  'lineage_datasets',
  'lineage_dataset_versions',
];

/** Another plugin of the same backend, asking for a caller as any plugin does. */
const otherPlugin = createBackendPlugin({
  pluginId: 'other',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
      },
      async init({ httpRouter, httpAuth }) {
        const router = Router();
        router.get('/whoami', async (req, res) => {
          const credentials = await httpAuth.credentials(req);
          res.json({ principal: credentials.principal });
        });
        httpRouter.use(router);
      },
    });
  },
});

const validEvent = (i: number) => ({
  eventType: 'START',
  eventTime: '2026-12-07T10:00:00Z',
  producer:
    'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/client/python',
  schemaURL:
    'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId: `0190b5c4-1111-7000-8000-${String(i).padStart(12, '0')}` },
  job: { namespace: 'fuzz', name: `job${i}` },
  inputs: [{ namespace: 'file', name: `in${i}.csv` }],
  outputs: [{ namespace: 'file', name: `out${i}.parquet` }],
});

/** mlops on the test database; the other plugin on one of its own (each keeps its auth keys). */
function pluginDatabases(knex: Knex) {
  return createServiceFactory({
    service: coreServices.database,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) => {
      const client =
        plugin.getId() === 'mlops'
          ? knex
          : knexFactory({
              client: 'better-sqlite3',
              connection: ':memory:',
              useNullAsDefault: true,
            });
      return { getClient: async () => client };
    },
  });
}

/** The OpenLineage endpoint over HTTP, as clients reach it: real auth, real routing. */
describe.each(databaseIds)('lineage ingest over HTTP on %s', databaseId => {
  async function start() {
    const knex = await databases.init(databaseId);
    const { server } = await startTestBackend({
      features: [
        mlopsPlugin,
        otherPlugin,
        pluginDatabases(knex),
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
      ],
    });
    const counts = async () =>
      Promise.all(
        LINEAGE_TABLES.map(async t =>
          Number((await knex(t).count({ n: '*' }))[0].n),
        ),
      );
    return { server, counts };
  }

  it('answers 1,000 malformed requests with a 4xx each and stores nothing', async () => {
    const { server, counts } = await start();
    const before = await counts();
    const { random, pick, breakEvent } = eventBreaker(20261207, p => [
      e => (e.schemaURL = p([7, 'not a url'])),
    ]);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const event: any = breakEvent(validEvent(i));
      const shape = random();
      let req = request(server)
        .post(`${BASE}/lineage`)
        .set('Authorization', `Bearer ${TOKEN}`);
      if (shape < 0.1) {
        // Not JSON at all, or cut short.
        req = req
          .set('Content-Type', 'application/json')
          .send(
            JSON.stringify(event).slice(0, Math.floor(random() * 40)) || '{',
          );
      } else if (shape < 0.15) {
        // JSON, but not an event: a number, a string, null, an array...
        req = req
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(pick(JUNK)));
      } else {
        req = req.send(event);
      }
      const res = await req;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status < 400 || res.status >= 500) {
        throw new Error(
          `case ${i} answered ${res.status}: ${JSON.stringify(event)} -> ${
            res.text
          }`,
        );
      }
    }
    expect([...statuses.keys()].every(s => s >= 400 && s < 500)).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('takes the client token restricted to the mlops plugin, which another plugin refuses', async () => {
    const { server, counts } = await start();
    await request(server)
      .post(`${BASE}/lineage`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send(validEvent(1))
      .expect(201);
    const other = await request(server)
      .get('/api/other/whoami')
      .set('Authorization', `Bearer ${TOKEN}`);
    expect([401, 403]).toContain(other.status);
    // The same plugin with no token at all: refused too (it is not the token's fault).
    await request(server).get('/api/other/whoami').expect(401);
    expect((await counts())[0]).toBe(1);
  });
});
