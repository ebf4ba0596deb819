import path from 'node:path';
import request from 'supertest';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { authModuleDemoProvider, DEMO_USER_HEADER } from './demoAuthProvider';

jest.setTimeout(120_000);

async function startAuth(environment: string) {
  const { server } = await startTestBackend({
    features: [
      authPlugin,
      authModuleDemoProvider,
      catalogPlugin,
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          auth: {
            environment,
            session: { secret: 'test' },
            providers: { demo: {} },
          },
          catalog: {
            rules: [{ allow: ['Group', 'User', 'Location'] }],
            locations: [
              {
                type: 'file',
                target: path.resolve(
                  __dirname,
                  '../../../../examples/org.yaml',
                ),
              },
            ],
          },
        },
      }),
    ],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await request(server).get(
      '/api/catalog/entities/by-name/user/default/alice',
    );
    if (res.status === 200 && res.body.relations?.length) break;
    if (Date.now() > deadline) throw new Error('demo org not ingested');
    await new Promise(r => setTimeout(r, 250));
  }
  return server;
}

describe('demo auth provider', () => {
  it('signs in as the catalog User named in the header, with its groups', async () => {
    const server = await startAuth('development');
    const res = await request(server)
      .get('/api/auth/demo/refresh')
      .set(DEMO_USER_HEADER, 'alice');
    expect(res.status).toBe(200);
    expect(res.body.backstageIdentity.identity).toEqual({
      type: 'user',
      userEntityRef: 'user:default/alice',
      ownershipEntityRefs: expect.arrayContaining([
        'user:default/alice',
        'group:default/wine-science',
      ]),
    });
    expect(res.body.backstageIdentity.token).toEqual(expect.any(String));

    const missing = await request(server).get('/api/auth/demo/refresh');
    expect(missing.status).toBe(401);
    expect(missing.body.error.message).toMatch(DEMO_USER_HEADER);

    const unknown = await request(server)
      .get('/api/auth/demo/refresh')
      .set(DEMO_USER_HEADER, 'mallory');
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
    expect(unknown.body.backstageIdentity).toBeUndefined();

    const malformed = await request(server)
      .get('/api/auth/demo/refresh')
      .set(DEMO_USER_HEADER, 'user:default/alice');
    expect(malformed.status).toBe(401);
  });

  it('is not offered outside development', async () => {
    const server = await startAuth('production');
    const res = await request(server)
      .get('/api/auth/demo/refresh')
      .set(DEMO_USER_HEADER, 'alice');
    expect(res.status).toBe(404);
  });
});
