import express from 'express';
import request from 'supertest';
import { AuthenticationError } from '@backstage/errors';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { createServingRouter } from './router';
import { InferenceService } from './InferenceService';

/** The credentials cache of the inference routes: verify once, reuse briefly, never a bad or expired token. */
describe('serving routes: token verification', () => {
  function app(
    credentials: (token: string) => BackstageCredentials,
    ttlMs = 5000,
  ) {
    const calls: string[] = [];
    const httpAuth = {
      credentials: async (req: express.Request) => {
        const token = String(req.headers.authorization ?? '');
        calls.push(token);
        if (!token.startsWith('Bearer good')) {
          throw new AuthenticationError('Illegal token');
        }
        return credentials(token);
      },
    } as any;
    const service = {
      serverMetadata: () => ({
        name: 'loopline',
        version: '0',
        extensions: [],
      }),
    } as unknown as InferenceService;
    const server = express().use(
      createServingRouter({
        httpAuth,
        permissions: mockServices.permissions(),
        service,
        logger: mockServices.logger.mock(),
        credentialsCacheTtlMs: ttlMs,
      }),
    );
    return { server, calls };
  }

  it('verifies a token once for a burst of requests, and a bad token every time', async () => {
    const { server, calls } = app(() =>
      mockCredentials.user('user:default/alice'),
    );
    for (let i = 0; i < 5; i++) {
      await request(server)
        .get('/v2')
        .set('Authorization', 'Bearer good-1')
        .expect(200);
    }
    expect(calls).toEqual(['Bearer good-1']);

    for (let i = 0; i < 3; i++) {
      await request(server)
        .get('/v2')
        .set('Authorization', 'Bearer bad')
        .expect(401);
    }
    expect(calls.filter(c => c === 'Bearer bad')).toHaveLength(3);
  });

  it('verifies again once the token has expired, and always when the cache is off', async () => {
    const expired = {
      ...mockCredentials.user('user:default/alice'),
      expiresAt: new Date(Date.now() - 1000),
    } as BackstageCredentials;
    const stale = app(() => expired);
    await request(stale.server)
      .get('/v2')
      .set('Authorization', 'Bearer good-2')
      .expect(200);
    await request(stale.server)
      .get('/v2')
      .set('Authorization', 'Bearer good-2')
      .expect(200);
    expect(stale.calls.length).toBeGreaterThanOrEqual(3);

    const off = app(() => mockCredentials.service('plugin:x'), 0);
    await request(off.server)
      .get('/v2')
      .set('Authorization', 'Bearer good-3')
      .expect(200);
    await request(off.server)
      .get('/v2')
      .set('Authorization', 'Bearer good-3')
      .expect(200);
    expect(off.calls).toHaveLength(2);
  });
});
