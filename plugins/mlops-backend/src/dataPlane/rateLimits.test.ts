import { EventEmitter } from 'node:events';
import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import { Registry } from 'prom-client';
import request from 'supertest';
import { readRateLimitConfig, readServingConfig } from '../serving/config';
import { ControlPlaneEndpoint } from './DataPlaneSupervisor';
import { ControlPlaneLink } from './ControlPlaneLink';
import { DataPlaneServer } from './DataPlaneServer';
import type { DataPlaneWorkerOptions } from './protocol';
import {
  LEASE_TTL_MS,
  RateLimitedError,
  TokenBuckets,
  WorkerRateLimiter,
} from './rateLimits';

describe('rate-limit config', () => {
  it("defaults to seed 003's tiers and checks the tier names", () => {
    const config = readRateLimitConfig(
      new ConfigReader({
        defaultTier: 'basic',
        principals: { 'service:external:ci': 'premium' },
      }),
    );
    expect(config).toEqual({
      tiers: {
        basic: { perMinute: 60, burst: 10 },
        standard: { perMinute: 600, burst: 50 },
        premium: { perMinute: 6000, burst: 200 },
      },
      defaultTier: 'basic',
      principals: { 'service:external:ci': 'premium' },
    });
    expect(() =>
      readRateLimitConfig(new ConfigReader({ defaultTier: 'gold' })),
    ).toThrow(/no tier named 'gold'/);
    expect(() =>
      readRateLimitConfig(
        new ConfigReader({ tiers: { t: { perMinute: 0, burst: 1 } } }),
      ),
    ).toThrow(/perMinute must be > 0/);
    const serving = readServingConfig(
      new ConfigReader({
        mlops: {
          serving: {
            dataPlane: {
              port: 7008,
              rateLimits: { tiers: { t: { perMinute: 120 } } },
            },
          },
        },
      }),
    );
    expect(serving.dataPlane?.rateLimits).toEqual({
      tiers: { t: { perMinute: 120, burst: 120 } },
      principals: {},
    });
    expect(
      readServingConfig(
        new ConfigReader({ mlops: { serving: { dataPlane: { port: 7008 } } } }),
      ).dataPlane?.rateLimits,
    ).toBeUndefined();
  });
});

describe('TokenBuckets', () => {
  it('grants slices up to the burst, refills at the rate, and says when to retry', () => {
    let now = 0;
    const buckets = new TokenBuckets(
      {
        tiers: { basic: { perMinute: 60, burst: 10 } },
        defaultTier: 'basic',
        principals: {},
      },
      { clock: () => now },
    );
    // A slice is a tenth of the burst: 1 here; 10 leases drain the burst.
    const granted = Array.from(
      { length: 10 },
      () => buckets.lease('user:default/ada').granted,
    );
    expect(granted).toEqual(Array(10).fill(1));
    expect(buckets.lease('user:default/ada')).toEqual({
      granted: 0,
      retryAfterMs: 1000,
      tier: 'basic',
    });
    // Another principal has a bucket of its own.
    expect(buckets.lease('user:default/bob').granted).toBe(1);
    now += 500;
    expect(buckets.lease('user:default/ada').retryAfterMs).toBe(500);
    now += 500; // one token a second at 60 a minute
    expect(buckets.lease('user:default/ada').granted).toBe(1);
    expect(buckets.lease('user:default/ada').granted).toBe(0);
    // Refill stops at the burst.
    now += 3_600_000;
    const total = Array.from(
      { length: 20 },
      () => buckets.lease('user:default/ada').granted,
    ).reduce((a, b) => a + b, 0);
    expect(total).toBe(10);
  });

  it('leaves principals without a tier unlimited', () => {
    const buckets = new TokenBuckets({
      tiers: { premium: { perMinute: 6000, burst: 200 } },
      principals: { 'service:external:ci': 'premium' },
    });
    expect(buckets.lease('user:default/ada').granted).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    expect(buckets.lease('service:external:ci')).toEqual({
      granted: 20,
      tier: 'premium',
    });
  });
});

describe('WorkerRateLimiter', () => {
  function setup(burst: number, perMinute = 60) {
    let now = 0;
    const buckets = new TokenBuckets(
      { tiers: { t: { perMinute, burst } }, defaultTier: 't', principals: {} },
      { clock: () => now },
    );
    const lease = jest.fn(async (p: string) => buckets.lease(p));
    const limited: string[] = [];
    const limiter = new WorkerRateLimiter(lease, tier => limited.push(tier), {
      clock: () => now,
    });
    return { limiter, lease, limited, advance: (ms: number) => (now += ms) };
  }

  it('spends a leased slice without asking, then refuses with Retry-After until the refill', async () => {
    const { limiter, lease, limited, advance } = setup(200, 6000);
    // 200 requests: 10 slices of 20, one lease each.
    for (let i = 0; i < 200; i++) await limiter.take('user:default/ada');
    expect(lease).toHaveBeenCalledTimes(10);
    const refused = await Promise.resolve(
      limiter.take('user:default/ada'),
    ).catch(e => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused.retryAfterSeconds).toBe(1);
    expect(refused.tier).toBe('t');
    // Refused again from memory, without asking the control plane.
    expect(() => limiter.take('user:default/ada')).toThrow(RateLimitedError);
    expect(lease).toHaveBeenCalledTimes(11);
    expect(limited).toEqual(['t', 't']);
    advance(1000); // 100 tokens a second at 6,000 a minute
    await limiter.take('user:default/ada');
    expect(lease).toHaveBeenCalledTimes(12);
  });

  it('shares one bucket between workers', async () => {
    let now = 0;
    const buckets = new TokenBuckets(
      {
        tiers: { t: { perMinute: 60, burst: 10 } },
        defaultTier: 't',
        principals: {},
      },
      { clock: () => now },
    );
    const workers = [1, 2].map(
      () =>
        new WorkerRateLimiter(
          async p => buckets.lease(p),
          () => {},
          { clock: () => now },
        ),
    );
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        Promise.resolve()
          .then(() => workers[i % 2].take('user:default/ada'))
          .then(
            () => 'ok',
            e => (e instanceof RateLimitedError ? 429 : e),
          ),
      ),
    );
    expect(outcomes.filter(o => o === 'ok')).toHaveLength(10);
    expect(outcomes.filter(o => o === 429)).toHaveLength(6);
    // A slice left unspent lapses: the bucket, not the worker, decides again.
    now += LEASE_TTL_MS;
    await expect(
      Promise.resolve(workers[0].take('user:default/ada')),
    ).resolves.toBeUndefined();
  });

  it('keeps serving when the control plane cannot be reached', async () => {
    const limiter = new WorkerRateLimiter(
      () => Promise.reject(new Error('ECONNREFUSED')),
      () => {},
    );
    await expect(
      Promise.resolve(limiter.take('user:default/ada')),
    ).resolves.toBeUndefined();
  });
});

describe('the data plane with rate limits', () => {
  it('answers 429 with Retry-After past the tier, and ships the count to the metrics', async () => {
    // A worker's server on a channel pair whose other end is a real endpoint.
    const toWorker = new EventEmitter();
    const toControl = new EventEmitter();
    const workerSide = {
      send: (m: unknown, cb?: (e: Error | null) => void) => {
        setImmediate(() => toControl.emit('message', m));
        cb?.(null);
        return true;
      },
      on: (e: 'message', l: (m: unknown) => void) => toWorker.on(e, l),
    };
    const controlSide = {
      send: (m: unknown, cb?: (e: Error | null) => void) => {
        setImmediate(() => toWorker.emit('message', m));
        cb?.(null);
        return true;
      },
      on: (e: 'message', l: (m: unknown) => void) => toControl.on(e, l),
    };
    const metrics = new Registry();
    const endpoint = new ControlPlaneEndpoint({
      auth: {
        authenticate: async () =>
          ({
            principal: { type: 'service', subject: 'external:ci' },
          } as any),
      },
      permissions: mockServices.permissions(),
      registry: {} as any,
      observers: [],
      logger: mockServices.logger.mock(),
      permissionCacheTtlMs: 5000,
      credentialsCacheTtlMs: 60000,
      metricsRegistry: metrics,
      rateLimits: {
        tiers: { basic: { perMinute: 60, burst: 3 } },
        principals: { 'service:external:ci': 'basic' },
      },
    });
    endpoint.attach(controlSide);
    const options: DataPlaneWorkerOptions = {
      port: 0,
      host: '127.0.0.1',
      jsonBodyLimitBytes: 1024 * 1024,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      maxLoadedModels: 1,
      permissionCacheTtlMs: 5000,
      credentialsCacheTtlMs: 60000,
      logBufferSize: 100,
      servingEnvironment: 'production',
      environments: ['production'],
      abKeyHeader: 'x-loopline-ab-key',
      workerId: 1,
      rateLimited: true,
    };
    const server = new DataPlaneServer(
      new ControlPlaneLink(workerSide),
      options,
      mockServices.logger.mock(),
    );
    const { port } = await server.listen();
    try {
      const dp = request(`http://127.0.0.1:${port}`);
      const answers: request.Response[] = [];
      for (let i = 0; i < 5; i++) {
        answers.push(
          await dp
            .post('/v2/models/wine/infer')
            .set('X-API-Key', 'ci-token')
            .send({ inputs: [] }),
        );
      }
      const statuses = answers.map(res => res.status);
      const refused = answers.filter(res => res.status === 429);
      expect(refused.map(res => res.headers['retry-after'])).toEqual([
        '1',
        '1',
      ]);
      expect(refused.map(res => res.body.error)).toEqual([
        expect.stringMatching(/Rate limit of tier 'basic'/),
        expect.stringMatching(/Rate limit of tier 'basic'/),
      ]);
      // 3 of the burst pass the limit (and fail later: no such model), 2 do not.
      expect(statuses.filter(s => s === 429)).toHaveLength(2);
      expect(statuses.slice(0, 3)).not.toContain(429);
      // The refusals reach the control plane's metric with the next batch.
      await new Promise(r => setTimeout(r, 100));
      expect(await metrics.metrics()).toMatch(
        /loopline_dataplane_rate_limited_total\{tier="basic"\} 2/,
      );
    } finally {
      await server.close();
    }
  });
});
