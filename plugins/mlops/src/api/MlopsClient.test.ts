import {
  mockApis,
  MockFetchApi,
  registerMswTestHooks,
} from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import type {
  AuditEventList,
  MetricHistory,
  MlopsInfo,
} from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  wineQualityPrediction,
  wineQualityServingInfo,
  wineQualityStats,
} from '../__testUtils__/serving';
import {
  olsRun,
  version2,
  wineQualityRegistered,
  wineQualityRuns,
  wineQualityVersions,
} from '../__testUtils__/registry';
import {
  canaryRollout,
  productionDeployment,
  productionDetail,
  wineQualityDeployments,
} from '../__testUtils__/rollout';
import { MlopsClient } from './MlopsClient';

const baseUrl = 'http://backstage.test/api/mlops';

describe('MlopsClient', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  const client = new MlopsClient({
    discoveryApi: mockApis.discovery({ baseUrl: 'http://backstage.test' }),
    fetchApi: new MockFetchApi(),
  });

  it('reads the backend info', async () => {
    const info: MlopsInfo = {
      pluginId: 'mlops',
      version: '0.1.0',
      database: { client: 'better-sqlite3', migrations: ['001_audit.js'] },
      kinds: ['Model', 'Dataset', 'Pipeline'],
      permissions: ['loopline.entity.read'],
    };
    server.use(http.get(`${baseUrl}/info`, () => HttpResponse.json(info)));

    await expect(client.getInfo()).resolves.toEqual(info);
  });

  it('reads a page of the audit trail with its query parameters', async () => {
    const page: AuditEventList = {
      items: [
        {
          id: 7,
          entityRef: 'model:default/wine-quality',
          action: 'registry.stage.transition',
          actor: 'user:default/alice',
          createdAt: '2025-05-01T10:00:00.000Z',
          comment: 'Beats production on the hold-out set',
          details: { version: 3, to: 'Production' },
        },
      ],
      nextCursor: 7,
    };
    let query: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/audit`, ({ request }) => {
        query = new URL(request.url).searchParams;
        return HttpResponse.json(page);
      }),
    );

    await expect(
      client.getAuditEvents({
        entityRef: 'model:default/wine-quality',
        limit: 10,
        before: 42,
      }),
    ).resolves.toEqual(page);
    expect(Object.fromEntries(query!)).toEqual({
      entityRef: 'model:default/wine-quality',
      limit: '10',
      before: '42',
    });
  });

  it('leaves out the parameters it is not given', async () => {
    let query: URLSearchParams | undefined;
    server.use(
      http.get(`${baseUrl}/audit`, ({ request }) => {
        query = new URL(request.url).searchParams;
        return HttpResponse.json({ items: [] });
      }),
    );

    await client.getAuditEvents({ entityRef: 'dataset:default/wine-features' });
    expect(Object.fromEntries(query!)).toEqual({
      entityRef: 'dataset:default/wine-features',
    });
  });

  it('turns an error answer into a ResponseError carrying the backend error', async () => {
    server.use(
      http.get(`${baseUrl}/audit`, () =>
        HttpResponse.json(
          {
            error: { name: 'NotAllowedError', message: 'Not allowed' },
            request: { method: 'GET', url: '/api/mlops/audit' },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );

    const error = await client
      .getAuditEvents({ entityRef: 'model:default/customer-churn' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(403);
    expect(error.body.error).toEqual({
      name: 'NotAllowedError',
      message: 'Not allowed',
    });
    expect(error.cause).toMatchObject({
      name: 'NotAllowedError',
      message: 'Not allowed',
    });
  });

  describe('registry and tracking', () => {
    const notFound = (message: string) =>
      HttpResponse.json(
        {
          error: { name: 'NotFoundError', message },
          response: { statusCode: 404 },
        },
        { status: 404 },
      );

    it('finds the registered models of a catalog entity', async () => {
      let query: URLSearchParams | undefined;
      server.use(
        http.get(`${baseUrl}/registry/models`, ({ request }) => {
          query = new URL(request.url).searchParams;
          return HttpResponse.json({ items: [wineQualityRegistered] });
        }),
      );

      await expect(
        client.getRegisteredModels({ entityRef: 'model:default/wine-quality' }),
      ).resolves.toEqual([wineQualityRegistered]);
      expect(Object.fromEntries(query!)).toEqual({
        entityRef: 'model:default/wine-quality',
      });
    });

    it('reads a registered model, its versions, one version and its runs', async () => {
      server.use(
        http.get(`${baseUrl}/registry/models/wine-quality`, () =>
          HttpResponse.json(wineQualityRegistered),
        ),
        http.get(`${baseUrl}/registry/models/wine-quality/versions`, () =>
          HttpResponse.json({ items: wineQualityVersions }),
        ),
        http.get(`${baseUrl}/registry/models/wine-quality/versions/2`, () =>
          HttpResponse.json(version2),
        ),
        http.get(`${baseUrl}/registry/models/wine-quality/runs`, () =>
          HttpResponse.json({ items: wineQualityRuns }),
        ),
        http.get(`${baseUrl}/tracking/runs/${olsRun.runId}`, () =>
          HttpResponse.json(olsRun),
        ),
      );

      await expect(client.getRegisteredModel('wine-quality')).resolves.toEqual(
        wineQualityRegistered,
      );
      await expect(client.getModelVersions('wine-quality')).resolves.toEqual(
        wineQualityVersions,
      );
      await expect(client.getModelVersion('wine-quality', 2)).resolves.toEqual(
        version2,
      );
      await expect(client.getModelRuns('wine-quality')).resolves.toEqual(
        wineQualityRuns,
      );
      await expect(client.getRun(olsRun.runId)).resolves.toEqual(olsRun);
    });

    it('encodes names, aliases, run ids and metric keys as single path segments', async () => {
      const paths: string[] = [];
      server.use(
        http.all(`${baseUrl}/*`, ({ request }) => {
          paths.push(new URL(request.url).pathname);
          return request.method === 'DELETE'
            ? new HttpResponse(null, { status: 204 })
            : HttpResponse.json({ items: [] });
        }),
      );

      await client.getRegisteredModel('team/wine quality?v=1');
      await client.getModelVersions('50%/wine');
      await client.getModelRuns('a#b');
      await client.getRun('../admin');
      await client.getMetricHistory('r1', 'val/loss (ema)');
      await client.deleteModelAlias('wine/x', 'c/d');

      expect(paths).toEqual([
        '/api/mlops/registry/models/team%2Fwine%20quality%3Fv%3D1',
        '/api/mlops/registry/models/50%25%2Fwine/versions',
        '/api/mlops/registry/models/a%23b/runs',
        '/api/mlops/tracking/runs/..%2Fadmin',
        '/api/mlops/tracking/runs/r1/metrics/val%2Floss%20(ema)',
        '/api/mlops/registry/models/wine%2Fx/aliases/c%2Fd',
      ]);
    });

    it('transitions a stage with a JSON body', async () => {
      let received: { method: string; type: string | null; body: unknown };
      server.use(
        http.post(
          `${baseUrl}/registry/models/wine-quality/versions/2/stage`,
          async ({ request }) => {
            received = {
              method: request.method,
              type: request.headers.get('content-type'),
              body: await request.json(),
            };
            return HttpResponse.json({ ...version2, stage: 'Staging' });
          },
        ),
      );

      await expect(
        client.transitionModelVersionStage('wine-quality', 2, {
          stage: 'Staging',
          comment: 'Try it on staging',
          archiveExistingVersions: true,
        }),
      ).resolves.toMatchObject({ version: 2, stage: 'Staging' });
      expect(received!).toEqual({
        method: 'POST',
        type: 'application/json',
        body: {
          stage: 'Staging',
          comment: 'Try it on staging',
          archiveExistingVersions: true,
        },
      });
    });

    it('sets an alias with PUT and deletes one with DELETE and a comment', async () => {
      const calls: Array<{ method: string; search: string; body?: unknown }> =
        [];
      server.use(
        http.put(
          `${baseUrl}/registry/models/wine-quality/aliases/champion`,
          async ({ request }) => {
            calls.push({
              method: request.method,
              search: new URL(request.url).search,
              body: await request.json(),
            });
            return HttpResponse.json(version2);
          },
        ),
        http.delete(
          `${baseUrl}/registry/models/wine-quality/aliases/champion`,
          ({ request }) => {
            calls.push({
              method: request.method,
              search: new URL(request.url).search,
            });
            return new HttpResponse(null, { status: 204 });
          },
        ),
      );

      await expect(
        client.setModelAlias('wine-quality', 'champion', {
          version: 2,
          comment: 'Best rmse',
        }),
      ).resolves.toEqual(version2);
      await expect(
        client.deleteModelAlias('wine-quality', 'champion', {
          comment: 'Retired & replaced',
        }),
      ).resolves.toBeUndefined();
      await client.deleteModelAlias('wine-quality', 'champion');

      expect(calls).toEqual([
        {
          method: 'PUT',
          search: '',
          body: { version: 2, comment: 'Best rmse' },
        },
        { method: 'DELETE', search: '?comment=Retired+%26+replaced' },
        { method: 'DELETE', search: '' },
      ]);
    });

    it('reads a metric history', async () => {
      const history: MetricHistory = {
        runId: olsRun.runId,
        key: 'rmse',
        points: [
          { key: 'rmse', value: 0.9, timestamp: 1, step: 0 },
          { key: 'rmse', value: 0.7, timestamp: 2, step: 1 },
        ],
      };
      server.use(
        http.get(`${baseUrl}/tracking/runs/${olsRun.runId}/metrics/rmse`, () =>
          HttpResponse.json(history),
        ),
      );

      await expect(
        client.getMetricHistory(olsRun.runId, 'rmse'),
      ).resolves.toEqual(history);
    });

    it.each([
      [
        'getRegisteredModels',
        () => client.getRegisteredModels({ entityRef: 'model:default/x' }),
        'get',
        '/registry/models',
      ],
      [
        'getModelVersions',
        () => client.getModelVersions('x'),
        'get',
        '/registry/models/x/versions',
      ],
      [
        'getModelVersion',
        () => client.getModelVersion('x', 9),
        'get',
        '/registry/models/x/versions/9',
      ],
      [
        'transitionModelVersionStage',
        () =>
          client.transitionModelVersionStage('x', 9, { stage: 'Production' }),
        'post',
        '/registry/models/x/versions/9/stage',
      ],
      [
        'setModelAlias',
        () => client.setModelAlias('x', 'champion', { version: 9 }),
        'put',
        '/registry/models/x/aliases/champion',
      ],
      [
        'deleteModelAlias',
        () => client.deleteModelAlias('x', 'champion'),
        'delete',
        '/registry/models/x/aliases/champion',
      ],
      [
        'getModelRuns',
        () => client.getModelRuns('x'),
        'get',
        '/registry/models/x/runs',
      ],
      ['getRun', () => client.getRun('r1'), 'get', '/tracking/runs/r1'],
      [
        'getMetricHistory',
        () => client.getMetricHistory('r1', 'rmse'),
        'get',
        '/tracking/runs/r1/metrics/rmse',
      ],
    ] as const)(
      '%s turns an error answer into a ResponseError',
      async (_name, call, method, route) => {
        server.use(
          http[method](`${baseUrl}${route}`, () =>
            notFound('Registered model x not found'),
          ),
        );

        const error: ResponseError = await (call as () => Promise<unknown>)()
          .then(() => {
            throw new Error('expected the call to fail');
          })
          .catch(e => e);
        expect(error).toBeInstanceOf(ResponseError);
        expect(error.statusCode).toBe(404);
        expect(error.cause).toMatchObject({
          name: 'NotFoundError',
          message: 'Registered model x not found',
        });
      },
    );
  });

  describe('serving', () => {
    it('reads how a model is served and its live figures', async () => {
      let query: URLSearchParams | undefined;
      server.use(
        http.get(`${baseUrl}/serving/models/wine-quality/info`, () =>
          HttpResponse.json(wineQualityServingInfo),
        ),
        http.get(
          `${baseUrl}/serving/models/wine-quality/stats`,
          ({ request }) => {
            query = new URL(request.url).searchParams;
            return HttpResponse.json(wineQualityStats);
          },
        ),
      );

      await expect(client.getServingInfo('wine-quality')).resolves.toEqual(
        wineQualityServingInfo,
      );
      await expect(
        client.getServingStats('wine-quality', 300),
      ).resolves.toEqual(wineQualityStats);
      expect(Object.fromEntries(query!)).toEqual({ windowSeconds: '300' });
      await client.getServingStats('wine-quality');
      expect(Object.fromEntries(query!)).toEqual({});
    });

    it('predicts a record with a JSON body', async () => {
      let received: { type: string | null; body: unknown } | undefined;
      server.use(
        http.post(
          `${baseUrl}/serving/models/wine-quality/predict`,
          async ({ request }) => {
            received = {
              type: request.headers.get('content-type'),
              body: await request.json(),
            };
            return HttpResponse.json(wineQualityPrediction);
          },
        ),
      );

      await expect(
        client.predict('wine-quality', {
          features: { alcohol: 12.5, color: 'red', organic: true },
          version: 2,
        }),
      ).resolves.toEqual(wineQualityPrediction);
      expect(received).toEqual({
        type: 'application/json',
        body: {
          features: { alcohol: 12.5, color: 'red', organic: true },
          version: 2,
        },
      });
    });

    it('sends OIP infer requests to the model or to one version of it', async () => {
      const calls: Array<{ path: string; body: unknown }> = [];
      server.use(
        http.post(`${baseUrl}/v2/models/*`, async ({ request }) => {
          calls.push({
            path: new URL(request.url).pathname,
            body: await request.json(),
          });
          return HttpResponse.json({
            model_name: 'wine quality',
            model_version: '3',
            outputs: [
              { name: 'quality', datatype: 'FP32', shape: [1, 1], data: [6] },
            ],
          });
        }),
      );
      const request = {
        id: 'r-1',
        inputs: [
          {
            name: 'features',
            datatype: 'FP32' as const,
            shape: [1, 2],
            data: [12.5, 0.6],
          },
        ],
      };

      await expect(client.infer('wine quality', request)).resolves.toEqual(
        expect.objectContaining({ model_version: '3' }),
      );
      await client.infer('wine quality', request, 3);

      expect(calls).toEqual([
        { path: '/api/mlops/v2/models/wine%20quality/infer', body: request },
        {
          path: '/api/mlops/v2/models/wine%20quality/versions/3/infer',
          body: request,
        },
      ]);
    });

    it.each([
      [400, 'InputError', "Input 'features' has datatype FP64, expected FP32"],
      [404, 'NotFoundError', 'Model with name nope does not exist.'],
      [403, 'NotAllowedError', 'Not allowed to invoke model:default/nope'],
      [413, 'PayloadTooLargeError', 'Request body larger than 1mb'],
      [503, 'ServiceUnavailableError', 'Model nope is not ready'],
      [500, 'Error', 'Internal error'],
    ])(
      'turns an OIP error body of a %i into a ResponseError with its message',
      async (status, name, message) => {
        server.use(
          http.post(`${baseUrl}/v2/models/nope/infer`, () =>
            HttpResponse.json({ error: message }, { status }),
          ),
        );

        const error = await client.infer('nope', { inputs: [] }).catch(e => e);
        expect(error).toBeInstanceOf(ResponseError);
        expect(error.statusCode).toBe(status);
        expect(error.cause).toMatchObject({ name, message });
        expect(error.body).toEqual({
          error: { name, message },
          response: { statusCode: status },
        });
      },
    );

    it('keeps a Backstage error body and a body that is not JSON as they are', async () => {
      server.use(
        http.post(`${baseUrl}/serving/models/x/predict`, () =>
          HttpResponse.json(
            {
              error: { name: 'NotAllowedError', message: 'Not yours' },
              request: { method: 'POST', url: '/x' },
              response: { statusCode: 403 },
            },
            { status: 403 },
          ),
        ),
        http.get(`${baseUrl}/serving/models/x/stats`, () =>
          HttpResponse.text('upstream timed out', { status: 504 }),
        ),
      );

      const denied = await client.predict('x', { features: {} }).catch(e => e);
      expect(denied).toBeInstanceOf(ResponseError);
      expect(denied.cause).toMatchObject({
        name: 'NotAllowedError',
        message: 'Not yours',
      });
      expect(denied.body.request).toEqual({ method: 'POST', url: '/x' });

      const timedOut = await client.getServingStats('x').catch(e => e);
      expect(timedOut).toBeInstanceOf(ResponseError);
      expect(timedOut.statusCode).toBe(504);
      expect(timedOut.cause.message).toMatch(/upstream timed out/);
    });
  });

  describe('deployments', () => {
    const backstageError = (status: number, name: string, message: string) =>
      HttpResponse.json(
        { error: { name, message }, response: { statusCode: status } },
        { status },
      );

    it('lists the deployments of a model and reads one environment', async () => {
      const paths: string[] = [];
      server.use(
        http.get(`${baseUrl}/deployments/models/*`, ({ request }) => {
          const { pathname } = new URL(request.url);
          paths.push(pathname);
          return HttpResponse.json(
            pathname.endsWith('/production')
              ? productionDetail
              : wineQualityDeployments,
          );
        }),
      );

      await expect(client.listDeployments('wine-quality')).resolves.toEqual(
        wineQualityDeployments,
      );
      await expect(
        client.getDeployment('wine-quality', 'production'),
      ).resolves.toEqual(productionDetail);
      expect(paths).toEqual([
        '/api/mlops/deployments/models/wine-quality',
        '/api/mlops/deployments/models/wine-quality/production',
      ]);
    });

    it('answers undefined for an environment without a deployment, and throws other failures', async () => {
      server.use(
        http.get(`${baseUrl}/deployments/models/wine-quality/staging`, () =>
          backstageError(
            404,
            'NotFoundError',
            'No deployment of wine-quality in staging',
          ),
        ),
        http.get(`${baseUrl}/deployments/models/wine-quality/production`, () =>
          backstageError(403, 'NotAllowedError', 'Not allowed'),
        ),
      );

      await expect(
        client.getDeployment('wine-quality', 'staging'),
      ).resolves.toBeUndefined();
      const error = await client
        .getDeployment('wine-quality', 'production')
        .catch(e => e);
      expect(error).toBeInstanceOf(ResponseError);
      expect(error.statusCode).toBe(403);
      expect(error.cause).toMatchObject({ message: 'Not allowed' });
    });

    it('starts a rollout with a JSON body, encoding names as path segments', async () => {
      let received: { path: string; type: string | null; body: unknown };
      server.use(
        http.post(`${baseUrl}/deployments/models/*`, async ({ request }) => {
          received = {
            path: new URL(request.url).pathname,
            type: request.headers.get('content-type'),
            body: await request.json(),
          };
          return HttpResponse.json(productionDeployment, { status: 201 });
        }),
      );
      const request = {
        version: 3,
        strategy: 'canary' as const,
        steps: [10, 25, 50, 100],
        slo: { maxErrorRate: 0.02 },
        comment: 'Ridge with new features',
      };

      await expect(
        client.startRollout('wine quality/v2', 'production', request),
      ).resolves.toEqual(productionDeployment);
      expect(received!).toEqual({
        path: '/api/mlops/deployments/models/wine%20quality%2Fv2/production/rollouts',
        type: 'application/json',
        body: request,
      });
    });

    it.each(['promote', 'rollback', 'pause', 'resume'] as const)(
      'posts %s to its route with the comment',
      async action => {
        const calls: Array<{ path: string; body: unknown }> = [];
        server.use(
          http.post(
            `${baseUrl}/deployments/models/wine-quality/production/:action`,
            async ({ request }) => {
              calls.push({
                path: new URL(request.url).pathname,
                body: await request.json(),
              });
              return HttpResponse.json(productionDeployment);
            },
          ),
        );

        await expect(
          client.rolloutAction('wine-quality', 'production', action, 'Why'),
        ).resolves.toEqual(productionDeployment);
        await client.rolloutAction('wine-quality', 'production', action);
        expect(calls).toEqual([
          {
            path: `/api/mlops/deployments/models/wine-quality/production/${action}`,
            body: { comment: 'Why' },
          },
          {
            path: `/api/mlops/deployments/models/wine-quality/production/${action}`,
            body: {},
          },
        ]);
      },
    );

    it("surfaces the server's message when the rollout's state refuses an action", async () => {
      const message = `Rollout ${canaryRollout.id} is promoted; only a progressing or paused rollout can be rolled back`;
      server.use(
        http.post(
          `${baseUrl}/deployments/models/wine-quality/production/rollback`,
          () => backstageError(409, 'ConflictError', message),
        ),
      );

      const error = await client
        .rolloutAction('wine-quality', 'production', 'rollback')
        .catch(e => e);
      expect(error).toBeInstanceOf(ResponseError);
      expect(error.statusCode).toBe(409);
      expect(error.cause).toMatchObject({ name: 'ConflictError', message });
    });
  });
});
