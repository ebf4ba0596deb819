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
  createRolloutHarness,
  linearModel,
  prepareDatabase,
} from './__testUtils__/harness';
import { createRolloutRouter } from './router';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const ALICE = 'user:default/alice';
const MALLORY = 'user:default/mallory';
const BASE = '/api/mlops/deployments/models/wine';

describe.each(databaseIds)('rollout routes on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  async function setup() {
    const h = await createRolloutHarness(knex);
    const stable = await h.registerVersion(linearModel(1), 'Production');
    const candidate = await h.registerVersion(linearModel(2), 'Staging');
    // Mallory may read but not manage; Alice may do both.
    const authorize = jest.fn(async (requests: any[], options: any) =>
      requests.map(r => ({
        result:
          options.credentials.principal?.userEntityRef === MALLORY &&
          r.permission.name === 'loopline.deployment.manage'
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
      createRolloutRouter({
        httpAuth: mockServices.httpAuth({
          defaultCredentials: mockCredentials.user(ALICE),
        }),
        permissions,
        rollouts: h.rollouts,
      }),
    );
    app.use(
      MiddlewareFactory.create({
        config: mockServices.rootConfig(),
        logger: mockServices.logger.mock(),
      }).error(),
    );
    return { ...h, http: request(app), stable, candidate };
  }

  const asMallory = mockCredentials.user.header(MALLORY);
  const rolloutCount = async () =>
    Number((await knex('rollout_rollouts').count({ n: '*' }))[0].n);

  it('starts, shows and acts on a rollout; the detail says who may manage it', async () => {
    const { http, candidate, stable, close } = await setup();
    try {
      const list = await http.get(BASE).expect(200);
      expect(list.body).toEqual({
        items: [],
        environments: [
          { name: 'production', target: 'embedded', stage: 'Production' },
          { name: 'staging', target: 'embedded', stage: 'Staging' },
        ],
        defaults: {
          steps: {
            canary: [10, 25, 50, 100],
            shadow: [100],
            ab: [50],
            'blue-green': [100],
          },
          slo: { minRequests: 20, maxErrorRate: 0.05, maxLatencyP99Ms: 50 },
        },
      });
      await http.get(`${BASE}/production`).expect(404);

      const started = await http
        .post(`${BASE}/production/rollouts`)
        .send({
          version: candidate,
          strategy: 'canary',
          steps: [20, 100],
          slo: { minRequests: 10, maxLatencyP95Ms: 100 },
          comment: 'first canary',
        })
        .expect(201);
      expect(started.body).toMatchObject({
        modelName: 'wine',
        environment: 'production',
        stableVersion: stable,
        weights: { stable: 80, candidate: 20 },
        rollout: {
          strategy: 'canary',
          candidateVersion: candidate,
          slo: { minRequests: 10, maxLatencyP95Ms: 100, maxErrorRate: 0.05 },
        },
      });

      const detail = await http.get(`${BASE}/production`).expect(200);
      expect(detail.body).toMatchObject({
        canManage: true,
        deployment: { rollout: { state: 'progressing' } },
        events: [{ action: 'start', actor: ALICE, comment: 'first canary' }],
      });
      const mallorysView = await http
        .get(`${BASE}/production`)
        .set('Authorization', asMallory)
        .expect(200);
      expect(mallorysView.body.canManage).toBe(false);

      const paused = await http
        .post(`${BASE}/production/pause`)
        .send({ comment: 'looking at p95' })
        .expect(200);
      expect(paused.body.rollout.state).toBe('paused');
      await http.post(`${BASE}/production/resume`).send({}).expect(200);
      const rolledBack = await http
        .post(`${BASE}/production/rollback`)
        .expect(200);
      expect(rolledBack.body).toMatchObject({
        stableVersion: stable,
        weights: { stable: 100, candidate: 0 },
        rollout: { state: 'rolled_back' },
      });
      const again = await http.post(`${BASE}/production/promote`).expect(409);
      expect(again.body.error).toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining('it is rolled back'),
      });
    } finally {
      await close();
    }
  });

  it('refuses bad input with 4xx, in Backstage error shape, and stores nothing', async () => {
    const { http, candidate, close } = await setup();
    try {
      const cases: Array<[string, unknown, number, RegExp]> = [
        [`${BASE}/production/rollouts`, { strategy: 'canary' }, 400, /version/],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'linear' },
          400,
          /strategy/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'canary', steps: [0, 100] },
          400,
          /steps/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'canary', steps: [60, 30, 100] },
          400,
          /must rise/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'ab', steps: [100] },
          400,
          /1 to 99/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'canary', slo: { maxErrorRate: 2 } },
          400,
          /maxErrorRate/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: candidate, strategy: 'canary', extra: 1 },
          400,
          /extra/,
        ],
        [
          `${BASE}/production/rollouts`,
          {
            version: candidate,
            strategy: 'canary',
            slo: { quality: { metric: 'mae' } },
          },
          400,
          /max/,
        ],
        [
          `${BASE}/production/rollouts`,
          { version: 42, strategy: 'canary' },
          400,
          /no version 42/,
        ],
        [
          `${BASE}/nowhere/rollouts`,
          { version: candidate, strategy: 'canary' },
          404,
          /No environment nowhere/,
        ],
        [
          '/api/mlops/deployments/models/unknown/production/rollouts',
          { version: 1, strategy: 'canary' },
          404,
          /unknown/,
        ],
        [`${BASE}/production/promote`, { comment: 7 }, 400, /comment/],
        [`${BASE}/production/promote`, {}, 409, /no rollout/],
        [`${BASE}/production/conversions`, { key: '' }, 400, /key/],
        [
          `${BASE}/production/conversions`,
          { key: 'user-1' },
          409,
          /no A\/B rollout/,
        ],
        [`${BASE}/production/explode`, {}, 400, /action/],
      ];
      for (const [path, body, status, message] of cases) {
        const res = await http.post(path).send(body as object);
        expect({ path, body, status: res.status }).toEqual({
          path,
          body,
          status,
        });
        expect(res.body.error.message).toMatch(message);
      }
      const malformed = await http
        .post(`${BASE}/production/rollouts`)
        .set('Content-Type', 'application/json')
        .send('{"version": ');
      expect(malformed.status).toBe(400);
      expect(await rolloutCount()).toBe(0);
    } finally {
      await close();
    }
  });

  it('refuses anonymous callers and users the policy does not allow', async () => {
    const { http, candidate, close } = await setup();
    try {
      await http
        .get(BASE)
        .set('Authorization', mockCredentials.none.header())
        .expect(401);
      const denied = await http
        .post(`${BASE}/production/rollouts`)
        .set('Authorization', asMallory)
        .send({ version: candidate, strategy: 'canary' })
        .expect(403);
      expect(denied.body.error.name).toBe('NotAllowedError');
      expect(await rolloutCount()).toBe(0);
    } finally {
      await close();
    }
  });
});
