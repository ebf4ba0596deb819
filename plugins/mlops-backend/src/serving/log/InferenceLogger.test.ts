import {
  TestDatabaseId,
  TestDatabases,
  mockServices,
} from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { applyMigrations } from '../../database/migrations';
import { ServingMetrics } from '../metrics';
import { unitHash } from '../../lib/hash';
import { InferenceLogger, InferenceLoggerOptions } from './InferenceLogger';
import { InferenceLogStore } from './InferenceLogStore';
import { KServeLogPart } from './types';
import { seededRandom } from './__testUtils__/latencies';
import {
  ControlledWriter,
  ManualTimers,
  anEvent,
  deferred,
} from './__testUtils__/harness';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const T0 = 1_800_000_000_000;
const DAY = 24 * 60 * 60 * 1000;

describe.each(databaseIds)('InferenceLogger on %s', databaseId => {
  let knex: Knex;
  let store: InferenceLogStore;
  let writer: ControlledWriter;
  let timers: ManualTimers;
  let metrics: ServingMetrics;
  let now: number;

  beforeEach(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
    store = new InferenceLogStore(knex);
    writer = new ControlledWriter(store);
    timers = new ManualTimers();
    metrics = new ServingMetrics();
    now = T0;
  });

  function createLogger(options: Partial<InferenceLoggerOptions> = {}) {
    return new InferenceLogger({
      store: writer,
      metrics,
      timers,
      clock: () => now,
      random: seededRandom(42),
      ...options,
    });
  }

  const countRows = async (where: Record<string, unknown> = {}) =>
    Number(
      (await knex('serving_inference_log').where(where).count({ n: '*' }))[0].n,
    );

  it('writes many records in a few batched inserts, off the request path', async () => {
    const logger = createLogger({ maxBatchSize: 500 });
    const inserts: string[] = [];
    const onQuery = (query: { sql: string }) => {
      if (/^insert into [`"]?serving_inference_log/i.test(query.sql)) {
        inserts.push(query.sql);
      }
    };
    knex.on('query', onQuery);

    for (let i = 0; i < 1200; i++) {
      logger.record(anEvent({ requestId: `r${i}`, timestamp: T0 + i }));
    }
    // record() only buffered: nothing written yet, and a full batch armed an immediate flush.
    expect(writer.batches).toHaveLength(0);
    expect(timers.delays()).toEqual([0]);

    timers.fireAll();
    await logger.whenIdle();
    knex.off('query', onQuery);

    expect(writer.batches.map(b => b.rows.length)).toEqual([500, 500, 200]);
    expect(await countRows()).toBe(1200);
    // Chunks of at most 200 rows per INSERT statement: 3 + 3 + 1.
    expect(inserts.length).toBe(7);
    expect(logger.getCounters()).toMatchObject({ buffered: 0, written: 1200 });
    expect(await metrics.metricsText()).toContain(
      'loopline_inference_log_written_total 1200',
    );
  });

  it('flushes a partial batch when the interval elapses', async () => {
    const logger = createLogger({ flushIntervalMs: 750 });
    logger.record(anEvent({ requestId: 'a' }));
    logger.record(anEvent({ requestId: 'b' }));
    logger.record(
      anEvent({
        requestId: 'c',
        status: 'error',
        httpStatus: 400,
        error: 'bad',
      }),
    );
    expect(timers.delays()).toEqual([750]);
    expect(await countRows()).toBe(0);

    timers.fireAll();
    await logger.whenIdle();
    expect(await countRows()).toBe(3);
    const [row] = await knex('serving_inference_log').where('request_id', 'c');
    expect(row).toMatchObject({
      model_name: 'wine-quality',
      route: 'oip',
      source: 'embedded',
      status: 'error',
      http_status: 400,
      error: 'bad',
    });
    expect(JSON.parse(row.inputs)).toEqual(anEvent().inputs);
    expect(Number(row.created_at)).toBe(T0);
  });

  it('keeps only errors at sample rate 0 and everything at rate 1', async () => {
    const none = createLogger({ sampleRate: 0 });
    for (let i = 0; i < 100; i++) {
      none.record(anEvent({ requestId: `ok${i}` }));
    }
    for (let i = 0; i < 7; i++) {
      none.record(
        anEvent({ requestId: `err${i}`, status: 'error', httpStatus: 500 }),
      );
    }
    await none.flush();
    expect(await countRows()).toBe(7);
    expect(await countRows({ status: 'ok' })).toBe(0);
    expect(none.getCounters().sampledOut).toBe(100);

    const all = createLogger({ sampleRate: 1 });
    for (let i = 0; i < 100; i++) {
      all.record(anEvent({ requestId: `all${i}`, modelName: 'all' }));
    }
    await all.flush();
    expect(await countRows({ model_name: 'all' })).toBe(100);
  });

  it('keeps roughly half at rate 0.5 (seeded) and weighs the kept rows', async () => {
    const logger = createLogger({ sampleRate: 0.5, random: seededRandom(7) });
    for (let i = 0; i < 1000; i++) {
      logger.record(anEvent({ requestId: `r${i}`, timestamp: now - 1000 }));
    }
    for (let i = 0; i < 20; i++) {
      logger.record(
        anEvent({
          requestId: `e${i}`,
          status: 'error',
          httpStatus: 400,
          timestamp: now - 1000,
        }),
      );
    }
    await logger.flush();
    const kept = await countRows({ status: 'ok' });
    expect(kept).toBeGreaterThan(430);
    expect(kept).toBeLessThan(570);
    expect(await countRows({ status: 'error' })).toBe(20);
    const rates = await knex('serving_inference_log')
      .distinct('status', 'sample_rate')
      .orderBy('status');
    expect(rates.map(r => [r.status, Number(r.sample_rate)])).toEqual([
      ['error', 1],
      ['ok', 0.5],
    ]);
    // The stats estimate the true count from the weights.
    const stats = await store.stats({
      modelName: 'wine-quality',
      since: now - 60_000,
      until: now,
    });
    expect(stats.requests).toBe(kept * 2 + 20);
    expect(stats.errors).toBe(20);
  });

  it('purges rows and ground truth older than the retention', async () => {
    const logger = createLogger({ retentionDays: 7 });
    store = new InferenceLogStore(knex, { deleteChunkSize: 3 });
    const purging = new InferenceLogger({
      store,
      timers,
      clock: () => now,
      retentionDays: 7,
    });
    for (let i = 0; i < 10; i++) {
      logger.record(
        anEvent({ requestId: `old${i}`, timestamp: T0 - 8 * DAY - i }),
      );
    }
    for (let i = 0; i < 4; i++) {
      logger.record(anEvent({ requestId: `new${i}`, timestamp: T0 - 6 * DAY }));
    }
    await logger.flush();
    await store.upsertGroundTruth(
      [
        { requestId: 'old1', value: 5 },
        { requestId: 'new1', value: 6 },
      ],
      T0 - 8 * DAY,
    );
    await store.upsertGroundTruth([{ requestId: 'new2', value: 7 }], T0 - DAY);

    expect(await purging.purge()).toBe(10);
    expect(await countRows()).toBe(4);
    const truths = await knex('serving_ground_truth').orderBy('request_id');
    expect(truths.map(t => t.request_id)).toEqual(['new2']);
    expect(await purging.purge()).toBe(0);
  });

  it('drops the oldest events and counts them when the database is slower than the traffic', async () => {
    const logger = createLogger({ maxBatchSize: 5, maxBufferSize: 10 });
    const gate = deferred();
    writer.gate = gate.promise;

    for (let i = 0; i < 5; i++) {
      logger.record(anEvent({ requestId: `a${i}` }));
    }
    timers.fireAll();
    // Wait until the first batch is being written (and held by the gate).
    while (writer.batches.length === 0) {
      await new Promise(resolve => setImmediate(resolve));
    }
    for (let i = 0; i < 15; i++) {
      logger.record(anEvent({ requestId: `b${i}` }));
    }
    expect(logger.getCounters()).toMatchObject({
      buffered: 10,
      dropped: { buffer_full: 5, write_failed: 0, closed: 0 },
    });

    gate.resolve();
    await logger.whenIdle();
    await logger.flush();
    const ids = (await knex('serving_inference_log').select('request_id'))
      .map(r => r.request_id)
      .sort();
    // The five oldest of the second wave (b0..b4) were dropped.
    expect(ids).toEqual(
      [
        'a0',
        'a1',
        'a2',
        'a3',
        'a4',
        ...[5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map(i => `b${i}`),
      ].sort(),
    );
    const text = await metrics.metricsText();
    expect(text).toContain(
      'loopline_inference_log_dropped_total{reason="buffer_full"} 5',
    );
    expect(text).toContain('loopline_inference_log_buffered 0');
  });

  it('logs and counts failed writes, retries them, and never throws to callers', async () => {
    const logger = mockServices.logger.mock();
    const log = createLogger({ logger, maxWriteAttempts: 3 });
    writer.failNext = 1;
    log.record(anEvent({ requestId: 'x1' }));
    log.record(anEvent({ requestId: 'x2' }));
    await expect(log.flush()).resolves.toBeUndefined();
    // The first write failed; the flush retried and wrote both.
    expect(await countRows()).toBe(2);
    expect(log.getCounters()).toMatchObject({ writeFailures: 1, written: 2 });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('database unavailable'),
    );
    expect(logger.info).toHaveBeenCalledWith(
      expect.stringMatching(/recovered/),
    );

    // A database that stays down: each event is tried maxWriteAttempts times, then dropped.
    writer.failNext = 100;
    log.record(anEvent({ requestId: 'y1' }));
    await log.flush();
    expect(log.getCounters()).toMatchObject({
      writeFailures: 4,
      buffered: 0,
      dropped: { write_failed: 1 },
    });
    expect(await metrics.metricsText()).toContain(
      'loopline_inference_log_write_failures_total 4',
    );

    // The background flush backs off after a failure instead of hammering the database.
    writer.failNext = 1;
    log.record(anEvent({ requestId: 'z1' }));
    timers.fireAll();
    await log.whenIdle();
    await new Promise(resolve => setImmediate(resolve));
    expect(timers.delays()[0]).toBeGreaterThan(log.flushIntervalMs);
    timers.fireAll();
    await log.whenIdle();
    expect(await countRows({ request_id: 'z1' })).toBe(1);

    // Recording garbage does not throw either.
    expect(() => log.record(undefined as any)).not.toThrow();
    expect(() => log.recordKServe(null as any)).not.toThrow();
  });

  it('writes what is buffered on close and refuses later events', async () => {
    const logger = createLogger();
    logger.record(anEvent({ requestId: 'before' }));
    await logger.close();
    logger.record(anEvent({ requestId: 'after' }));
    await logger.flush();
    expect(
      (await knex('serving_inference_log')).map(r => r.request_id),
    ).toEqual(['before']);
    expect(logger.getCounters().dropped.closed).toBe(1);
    expect(timers.delays()).toEqual([]);
  });

  it('stores awkward values without failing the batch', async () => {
    const logger = createLogger({ maxPayloadChars: 1000 });
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    logger.record(
      anEvent({
        requestId: `x${'y'.repeat(400)}`,
        modelName: `nul\u0000model`,
        route: 'r'.repeat(100),
        endpoint: 'canary',
        version: 1.5,
        latencyMs: NaN,
        httpStatus: 99999,
        inputs: cyclic,
        outputs: { big: 'z'.repeat(5000), n: BigInt(7) },
        error: 'e'.repeat(10_000),
      }),
    );
    logger.record(
      anEvent({ requestId: 'big', outputs: [BigInt('9007199254740993')] }),
    );
    await logger.flush();
    expect(logger.getCounters()).toMatchObject({
      written: 2,
      writeFailures: 0,
    });
    const [row] = await knex('serving_inference_log').whereNot(
      'request_id',
      'big',
    );
    expect(row.request_id).toHaveLength(256);
    expect(row.model_name).toBe('nulmodel');
    expect(row.route).toHaveLength(64);
    expect(row.version).toBeNull();
    expect(row.latency_ms).toBeNull();
    expect(row.http_status).toBeNull();
    expect(JSON.parse(row.inputs)).toMatchObject({ unserializable: true });
    expect(JSON.parse(row.outputs)).toEqual({
      truncated: true,
      length: expect.any(Number),
    });
    expect(row.error).toHaveLength(4096);
    const [big] = await knex('serving_inference_log').where(
      'request_id',
      'big',
    );
    expect(JSON.parse(big.outputs)).toEqual(['9007199254740993']);
  });

  it('stores raw input bytes as the JSON tensors they stand for', async () => {
    const logger = createLogger();
    const floats = new Float32Array([10, 0.5, 0.6]);
    const ids = Buffer.alloc(16);
    ids.writeBigInt64LE(7n, 0);
    ids.writeBigInt64LE(9007199254740993n, 8);
    const text = Buffer.from('héllo');
    const bytes = Buffer.alloc(4 + text.length);
    bytes.writeUInt32LE(text.length, 0);
    text.copy(bytes, 4);
    logger.record(
      anEvent({
        requestId: 'raw',
        inputs: undefined,
        rawInputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1, 3],
            contents: Buffer.from(floats.buffer),
          },
          {
            name: 'id',
            datatype: 'INT64',
            shape: [2],
            parameters: { unit: 'row' },
            contents: ids,
          },
          { name: 's', datatype: 'BYTES', shape: [1], contents: bytes },
        ],
      }),
    );
    // Bytes the worker could not have decoded (7 for FP32): a marker, the row kept.
    logger.record(
      anEvent({
        requestId: 'torn',
        inputs: undefined,
        rawInputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [2],
            contents: new Uint8Array(7),
          },
        ],
      }),
    );
    await logger.flush();
    const [row] = await knex('serving_inference_log').where(
      'request_id',
      'raw',
    );
    // The very text a JSON request with these tensors is stored as.
    expect(row.inputs).toBe(
      JSON.stringify([
        {
          name: 'x',
          datatype: 'FP32',
          shape: [1, 3],
          data: [10, 0.5, 0.6000000238418579],
        },
        {
          name: 'id',
          datatype: 'INT64',
          shape: [2],
          data: [7, '9007199254740993'],
          parameters: { unit: 'row' },
        },
        { name: 's', datatype: 'BYTES', shape: [1], data: ['héllo'] },
      ]),
    );
    const [torn] = await knex('serving_inference_log').where(
      'request_id',
      'torn',
    );
    expect(JSON.parse(torn.inputs)).toMatchObject({ unserializable: true });
  });

  describe('KServe halves', () => {
    const request = (
      id: string,
      at: number,
      extra: Partial<KServeLogPart> = {},
    ): KServeLogPart => ({
      kind: 'request',
      requestId: id,
      modelName: 'sklearn-iris',
      namespace: 'models',
      component: 'predictor',
      endpoint: 'canary',
      timestamp: at,
      payload: [
        {
          name: 'input-0',
          datatype: 'FP32',
          shape: [1, 4],
          data: [6.8, 2.8, 4.8, 1.4],
        },
      ],
      ...extra,
    });
    const response = (
      id: string,
      at: number,
      extra: Partial<KServeLogPart> = {},
    ): KServeLogPart => ({
      kind: 'response',
      requestId: id,
      modelName: 'sklearn-iris',
      namespace: 'models',
      component: 'predictor',
      endpoint: 'canary',
      timestamp: at,
      payload: [{ name: 'predict', datatype: 'INT64', shape: [1], data: [1] }],
      version: 3,
      ...extra,
    });

    async function rowsOf(id: string) {
      return knex('serving_inference_log').where({
        request_id: id,
        source: 'kserve',
      });
    }

    function expectPaired(row: any, start: number, latency: number) {
      expect(row).toMatchObject({
        model_name: 'sklearn-iris',
        version: 3,
        route: 'predictor',
        source: 'kserve',
        endpoint: 'canary',
        status: 'ok',
        http_status: null,
      });
      expect(Number(row.created_at)).toBe(start);
      expect(Number(row.latency_ms)).toBe(latency);
      expect(JSON.parse(row.inputs)[0].name).toBe('input-0');
      expect(JSON.parse(row.outputs)[0].data).toEqual([1]);
    }

    it.each([
      ['request first', true],
      ['response first', false],
    ])('pairs halves arriving in one batch (%s)', async (_, requestFirst) => {
      const logger = createLogger();
      const halves = [request('p1', T0), response('p1', T0 + 12)];
      for (const half of requestFirst ? halves : halves.reverse()) {
        logger.recordKServe(half);
      }
      await logger.flush();
      expect(writer.batches[0].kserveParts).toEqual([]);
      const rows = await rowsOf('p1');
      expect(rows).toHaveLength(1);
      expectPaired(rows[0], T0, 12);
    });

    it.each([
      ['request first', true],
      ['response first', false],
    ])(
      'merges halves written in different batches (%s)',
      async (_, requestFirst) => {
        const logger = createLogger();
        const halves = [request('p2', T0), response('p2', T0 + 30)];
        const [first, second] = requestFirst ? halves : halves.reverse();
        logger.recordKServe(first);
        await logger.flush();
        const half = await rowsOf('p2');
        expect(half).toHaveLength(1);
        expect(half[0][requestFirst ? 'outputs' : 'inputs']).toBeNull();

        logger.recordKServe(second);
        await logger.flush();
        // A redelivered half changes nothing.
        logger.recordKServe(first);
        await logger.flush();
        const rows = await rowsOf('p2');
        expect(rows).toHaveLength(1);
        expectPaired(rows[0], T0, 30);
      },
    );

    it('marks an error response, keeps a lone half, and keeps pairs whole when sampling', async () => {
      const logger = createLogger({ sampleRate: 0.5 });
      const kept = (prefix: string, keep: boolean) => {
        for (let i = 0; ; i++) {
          if (unitHash(`sklearn-iris\u0000${prefix}${i}`) < 0.5 === keep) {
            return `${prefix}${i}`;
          }
        }
      };
      // An error is kept even when its id is sampled out (then without its request).
      const errorKept = kept('e', true);
      const errorOut = kept('e', false);
      for (const id of [errorKept, errorOut]) {
        logger.recordKServe(request(id, T0));
        logger.recordKServe(
          response(id, T0 + 5, {
            payload: { error: 'boom' },
            error: 'boom',
            version: undefined,
          }),
        );
      }
      const alone = kept('alone', true);
      logger.recordKServe(request(alone, T0)); // logger mode: request only
      const ids = Array.from({ length: 400 }, (_, i) => `s${i}`);
      for (const id of ids) {
        logger.recordKServe(request(id, T0));
      }
      for (const id of ids) {
        logger.recordKServe(response(id, T0 + 1));
      }
      await logger.flush();

      const [pairedError] = await rowsOf(errorKept);
      expect(pairedError).toMatchObject({ status: 'error', error: 'boom' });
      expect(JSON.parse(pairedError.inputs)[0].name).toBe('input-0');
      expect(Number(pairedError.latency_ms)).toBe(5);
      expect(Number(pairedError.sample_rate)).toBe(1);
      const [loneError] = await rowsOf(errorOut);
      expect(loneError).toMatchObject({
        status: 'error',
        inputs: null,
        latency_ms: null,
      });
      expect(JSON.parse(loneError.outputs)).toEqual({ error: 'boom' });

      const sampled = await knex('serving_inference_log')
        .where('request_id', 'like', 's%')
        .select('inputs', 'outputs', 'sample_rate');
      expect(sampled.length).toBeGreaterThan(150);
      expect(sampled.length).toBeLessThan(250);
      expect(sampled.every(r => r.inputs !== null && r.outputs !== null)).toBe(
        true,
      );
      expect(sampled.every(r => Number(r.sample_rate) === 0.5)).toBe(true);
      expect(sampled.length).toBe(
        ids.filter(id => unitHash(`sklearn-iris\u0000${id}`) < 0.5).length,
      );

      const [aloneRow] = await rowsOf(alone);
      expect(aloneRow).toMatchObject({
        status: 'ok',
        outputs: null,
        latency_ms: null,
      });
    });
  });
});
