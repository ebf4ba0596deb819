import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { applyMigrations } from '../../database/migrations';
import { InferenceLogStore } from './InferenceLogStore';
import { NewInferenceLogRow } from './types';
import {
  REFERENCE_ALL,
  REFERENCE_FIRST_23,
  REFERENCE_LAST_14,
  REFERENCE_LATENCIES,
} from './__testUtils__/latencies';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const NOW = 1_800_000_000_000;

function row(overrides: Partial<NewInferenceLogRow> = {}): NewInferenceLogRow {
  return {
    requestId: 'r',
    modelName: 'wine-quality',
    version: 1,
    route: 'oip',
    source: 'embedded',
    status: 'ok',
    httpStatus: 200,
    latencyMs: 1,
    sampleRate: 1,
    inputs: '[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]',
    outputs: '[{"name":"y","datatype":"FP32","shape":[1],"data":[2]}]',
    createdAt: NOW - 1000,
    ...overrides,
  };
}

describe.each(databaseIds)('InferenceLogStore on %s', databaseId => {
  let knex: Knex;
  let store: InferenceLogStore;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
    store = new InferenceLogStore(knex, { insertChunkSize: 7 });
  });

  it('computes stats whose percentiles match numpy, overall and per version', async () => {
    const rows: NewInferenceLogRow[] = REFERENCE_LATENCIES.map((latencyMs, i) =>
      row({
        requestId: `r${i}`,
        version: i < 23 ? 1 : 2,
        latencyMs,
        createdAt: NOW - 60_000 + i,
      }),
    );
    // Errors count as requests but not in the latency percentiles.
    rows.push(
      row({
        requestId: 'e1',
        version: 1,
        status: 'error',
        httpStatus: 400,
        latencyMs: 999,
      }),
      row({
        requestId: 'e2',
        version: undefined,
        status: 'error',
        httpStatus: 404,
        latencyMs: 0.1,
      }),
      row({
        requestId: 'e3',
        version: 2,
        status: 'error',
        httpStatus: 500,
        latencyMs: 500,
      }),
    );
    // Outside the window, another model: not counted.
    rows.push(
      row({ requestId: 'old', createdAt: NOW - 301_000, latencyMs: 1e6 }),
      row({ requestId: 'other', modelName: 'churn', latencyMs: 1e6 }),
      row({ requestId: 'future', createdAt: NOW + 10_000, latencyMs: 1e6 }),
    );
    await store.insertBatch(rows);

    const stats = await store.stats({
      modelName: 'wine-quality',
      since: NOW - 300_000,
      until: NOW,
    });
    const close = (expected: typeof REFERENCE_ALL) => ({
      p50: expect.closeTo(expected.p50, 9),
      p95: expect.closeTo(expected.p95, 9),
      p99: expect.closeTo(expected.p99, 9),
    });
    expect(stats).toEqual({
      model: 'wine-quality',
      windowSeconds: 300,
      requests: 40,
      errors: 3,
      requestsPerSecond: expect.closeTo(40 / 300, 12),
      errorRate: expect.closeTo(3 / 40, 12),
      latencyMs: close(REFERENCE_ALL),
      byVersion: [
        {
          version: 1,
          requests: 24,
          errors: 1,
          latencyMs: close(REFERENCE_FIRST_23),
        },
        {
          version: 2,
          requests: 15,
          errors: 1,
          latencyMs: close(REFERENCE_LAST_14),
        },
      ],
    });
  });

  it('weighs sampled rows and reports an empty window as zeros', async () => {
    await store.insertBatch([
      row({ requestId: 'a', sampleRate: 0.1 }),
      row({ requestId: 'b', sampleRate: 0.1 }),
      row({ requestId: 'c', status: 'error', sampleRate: 1 }),
    ]);
    const stats = await store.stats({
      modelName: 'wine-quality',
      since: NOW - 10_000,
      until: NOW,
    });
    expect(stats.requests).toBe(21);
    expect(stats.errors).toBe(1);
    expect(stats.errorRate).toBeCloseTo(1 / 21, 9);

    expect(
      await store.stats({
        modelName: 'nobody',
        since: NOW - 10_000,
        until: NOW,
      }),
    ).toEqual({
      model: 'nobody',
      windowSeconds: 10,
      requests: 0,
      errors: 0,
      requestsPerSecond: 0,
      errorRate: 0,
      latencyMs: {},
      byVersion: [],
    });
  });

  it('inserts in chunks inside one transaction', async () => {
    await store.insertBatch(
      Array.from({ length: 30 }, (_, i) => row({ requestId: `c${i}` })),
    );
    expect(
      Number((await knex('serving_inference_log').count({ n: '*' }))[0].n),
    ).toBe(30);

    // A bad row fails the whole batch: nothing of it is written, so a retry cannot duplicate.
    const bad = Array.from({ length: 10 }, (_, i) =>
      row({ requestId: `d${i}` }),
    );
    // Refused by both engines: PostgreSQL's NOT NULL on model_name, and
    // better-sqlite3's binding, which takes no objects (a NULL alone was seen
    // to get through SQLite under heavy load once; not understood yet).
    (bad[9] as any).modelName = null;
    (bad[9] as any).inputs = { not: 'a string' };
    await expect(store.insertBatch(bad)).rejects.toThrow();
    expect(
      Number((await knex('serving_inference_log').count({ n: '*' }))[0].n),
    ).toBe(30);
  });

  it('lists recent requests newest first with their ground truth', async () => {
    await store.insertBatch([
      row({ requestId: 'q1', createdAt: NOW - 3000 }),
      row({ requestId: 'q2', createdAt: NOW - 2000, version: 2 }),
      row({
        requestId: 'q3',
        createdAt: NOW - 1000,
        source: 'kserve',
        endpoint: 'canary',
        httpStatus: undefined,
      }),
      row({ requestId: 'q4', modelName: 'churn' }),
    ]);
    // Ground truth before and after its request is logged.
    await store.upsertGroundTruth(
      [{ requestId: 'q2', value: { quality: 6 } }],
      NOW,
    );
    await store.upsertGroundTruth([{ requestId: 'later', value: 3 }], NOW);
    await store.insertBatch([
      row({ requestId: 'later', createdAt: NOW - 500 }),
    ]);

    const items = await store.listRecent({
      modelName: 'wine-quality',
      limit: 10,
    });
    expect(items.map(i => i.requestId)).toEqual(['later', 'q3', 'q2', 'q1']);
    expect(items[2]).toEqual({
      id: expect.any(Number),
      requestId: 'q2',
      modelName: 'wine-quality',
      version: 2,
      route: 'oip',
      source: 'embedded',
      status: 'ok',
      httpStatus: 200,
      latencyMs: 1,
      sampleRate: 1,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [2] }],
      createdAt: NOW - 2000,
      groundTruth: { value: { quality: 6 }, createdAt: NOW },
    });
    expect(items[0].groundTruth).toEqual({ value: 3, createdAt: NOW });
    expect(items[1]).toMatchObject({ source: 'kserve', endpoint: 'canary' });
    expect(items[1]).not.toHaveProperty('httpStatus');
    expect(items[3]).not.toHaveProperty('groundTruth');

    expect(
      (
        await store.listRecent({
          modelName: 'wine-quality',
          limit: 2,
          since: NOW - 2500,
        })
      ).map(i => i.requestId),
    ).toEqual(['later', 'q3']);
    expect(
      (
        await store.listRecent({
          modelName: 'wine-quality',
          limit: 10,
          version: 2,
        })
      ).map(i => i.requestId),
    ).toEqual(['q2']);
    expect(
      (
        await store.listRecent({
          modelName: 'wine-quality',
          limit: 10,
          source: 'kserve',
        })
      ).map(i => i.requestId),
    ).toEqual(['q3']);
  });

  it('upserts ground truth: the last value wins and the model is filled from the log', async () => {
    await store.upsertGroundTruth([{ requestId: 'g1', value: 1 }], NOW);
    expect(await store.getGroundTruth('g1')).toEqual({
      requestId: 'g1',
      value: 1,
      createdAt: NOW,
    });
    await store.insertBatch([row({ requestId: 'g1' })]);
    await store.upsertGroundTruth(
      [
        { requestId: 'g1', value: 'first' },
        { requestId: 'g1', value: ['second', 2] },
        { requestId: 'g2', value: false },
      ],
      NOW + 1,
    );
    expect(await store.getGroundTruth('g1')).toEqual({
      requestId: 'g1',
      modelName: 'wine-quality',
      value: ['second', 2],
      createdAt: NOW + 1,
    });
    expect(await store.getGroundTruth('g2')).toMatchObject({ value: false });
    expect(await store.getGroundTruth('none')).toBeUndefined();

    const [logged] = await store.getRequest('g1');
    expect(logged.groundTruth).toEqual({
      value: ['second', 2],
      createdAt: NOW + 1,
    });
  });

  it('deletes old rows a chunk at a time', async () => {
    store = new InferenceLogStore(knex, { deleteChunkSize: 4 });
    await store.insertBatch(
      Array.from({ length: 13 }, (_, i) =>
        row({ requestId: `o${i}`, createdAt: NOW - 100_000 - i }),
      ).concat([row({ requestId: 'keep', createdAt: NOW })]),
    );
    await store.upsertGroundTruth(
      Array.from({ length: 9 }, (_, i) => ({ requestId: `o${i}`, value: i })),
      NOW - 100_000,
    );
    expect(await store.deleteOlderThan(NOW - 50_000)).toBe(13);
    expect(
      (await knex('serving_inference_log')).map(r => r.request_id),
    ).toEqual(['keep']);
    expect(await knex('serving_ground_truth')).toEqual([]);
  });
});
