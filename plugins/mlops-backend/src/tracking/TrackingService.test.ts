import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { Knex } from 'knex';
import { applyMigrations } from '../database/migrations';
import { TrackingStore } from './TrackingStore';
import { encodePageToken } from '../lib/pageToken';
import { MetricInput, TrackingService } from './TrackingService';

jest.setTimeout(120_000);

// Both engines are named explicitly so that a missing PostgreSQL fails the
// test instead of skipping it.
const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

let nameCounter = 0;
function uniqueName(prefix: string) {
  nameCounter += 1;
  return `${prefix}-${nameCounter}`;
}

describe.each(databaseIds)('TrackingService on %s', databaseId => {
  let knex: Knex;
  let service: TrackingService;
  let clock = 1_700_000_000_000;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
    service = new TrackingService(new TrackingStore(knex), {
      now: () => clock,
    });
  });

  async function newRun(
    options: {
      experimentId?: string;
      startTime?: number;
      runName?: string;
    } = {},
  ) {
    const experimentId =
      options.experimentId ??
      (await service.createExperiment({ name: uniqueName('exp') }))
        .experimentId;
    return service.createRun({
      experimentId,
      userId: 'user:default/alice',
      startTime: options.startTime,
      runName: options.runName,
    });
  }

  describe('experiments', () => {
    it('has the default experiment 0 that MLflow clients log to', async () => {
      const experiment = await service.getExperiment('0');
      expect(experiment).toMatchObject({
        experimentId: '0',
        name: 'Default',
        artifactLocation: 'mlflow-artifacts:/0',
        lifecycleStage: 'active',
      });
      await expect(service.deleteExperiment('0')).rejects.toThrow(InputError);
    });

    it('creates, reads and names experiments; a taken name is a conflict', async () => {
      clock += 1000;
      const name = uniqueName('wine-quality');
      const created = await service.createExperiment({
        name,
        tags: { team: 'ml', 'loopline.dev/model': 'model:default/wine' },
      });
      expect(created).toEqual({
        experimentId: expect.stringMatching(/^[1-9]\d*$/),
        name,
        artifactLocation: `mlflow-artifacts:/${created.experimentId}`,
        lifecycleStage: 'active',
        creationTime: clock,
        lastUpdateTime: clock,
        tags: { team: 'ml', 'loopline.dev/model': 'model:default/wine' },
      });
      expect(await service.getExperiment(created.experimentId)).toEqual(
        created,
      );
      expect(await service.getExperimentByName(name)).toEqual(created);

      const conflict = await rejection(service.createExperiment({ name }));
      expect(conflict).toBeInstanceOf(ConflictError);
      expect(conflict.message).toBe(
        `Experiment with name '${name}' already exists`,
      );

      const custom = await service.createExperiment({
        name: uniqueName('custom'),
        artifactLocation: 's3://bucket/path/',
      });
      expect(custom.artifactLocation).toBe('s3://bucket/path/');
      const run = await service.createRun({
        experimentId: custom.experimentId,
        userId: 'bob',
      });
      expect(run.artifactUri).toBe(`s3://bucket/path/${run.runId}/artifacts`);
    });

    it('reports unknown and malformed experiments', async () => {
      const missing = await rejection(service.getExperiment('987654'));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing.message).toBe("Experiment '987654' does not exist");
      const byName = await rejection(service.getExperimentByName('no-such'));
      expect(byName).toBeInstanceOf(NotFoundError);
      expect(byName.message).toContain("'no-such'");
      const malformed = await rejection(service.getExperiment('abc'));
      expect(malformed).toBeInstanceOf(InputError);
      expect(malformed.message).toContain("'abc'");
      await expect(service.createExperiment({ name: ' ' })).rejects.toThrow(
        InputError,
      );
    });

    it('sets tags, deletes and restores an experiment with its runs', async () => {
      const experiment = await service.createExperiment({
        name: uniqueName('del'),
      });
      const id = experiment.experimentId;
      await service.setExperimentTag(id, 'note', 'first');
      await service.setExperimentTag(id, 'note', 'second');
      expect((await service.getExperiment(id)).tags).toEqual({
        note: 'second',
      });

      const kept = await newRun({ experimentId: id });
      const deletedEarlier = await newRun({ experimentId: id });
      clock += 10;
      await service.deleteRun(deletedEarlier.runId);
      clock += 10;
      await service.deleteExperiment(id);
      expect((await service.getExperiment(id)).lifecycleStage).toBe('deleted');
      expect((await service.getRun(kept.runId)).lifecycleStage).toBe('deleted');

      const tagDeleted = await rejection(
        service.setExperimentTag(id, 'a', 'b'),
      );
      expect(tagDeleted).toBeInstanceOf(InputError);
      expect(tagDeleted.message).toContain(`'${id}'`);
      await expect(
        service.createRun({ experimentId: id, userId: 'u' }),
      ).rejects.toThrow(InputError);
      await expect(service.deleteExperiment(id)).rejects.toThrow(InputError);
      await expect(service.restoreRun(kept.runId)).rejects.toThrow(
        /restore the experiment/,
      );

      clock += 10;
      await service.restoreExperiment(id);
      expect((await service.getExperiment(id)).lifecycleStage).toBe('active');
      expect((await service.getRun(kept.runId)).lifecycleStage).toBe('active');
      // deleted on its own before the experiment: stays deleted
      expect((await service.getRun(deletedEarlier.runId)).lifecycleStage).toBe(
        'deleted',
      );
      await expect(service.restoreExperiment(id)).rejects.toThrow(InputError);
    });

    it('searches experiments by name, tag and time, with view types and pages', async () => {
      const prefix = uniqueName('search-exp');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock += 1000;
        const experiment = await service.createExperiment({
          name: `${prefix}-${i}`,
          tags: { parity: i % 2 === 0 ? 'even' : 'odd' },
        });
        ids.push(experiment.experimentId);
      }
      await service.deleteExperiment(ids[4]);

      const all = await service.searchExperiments({
        filter: `name LIKE '${prefix}-%'`,
      });
      // newest first by default; the deleted one is hidden
      expect(all.items.map(e => e.experimentId)).toEqual([
        ids[3],
        ids[2],
        ids[1],
        ids[0],
      ]);
      expect(all.nextPageToken).toBeUndefined();

      const even = await service.searchExperiments({
        filter: `name LIKE '${prefix}%' and tags.parity = 'even'`,
        orderBy: ['name ASC'],
        viewType: 'ALL',
      });
      expect(even.items.map(e => e.name)).toEqual([
        `${prefix}-0`,
        `${prefix}-2`,
        `${prefix}-4`,
      ]);
      expect(even.items[0].tags).toEqual({ parity: 'even' });

      const deleted = await service.searchExperiments({
        filter: `name LIKE '${prefix}%'`,
        viewType: 'DELETED_ONLY',
      });
      expect(deleted.items.map(e => e.experimentId)).toEqual([ids[4]]);

      const created1 = (await service.getExperiment(ids[1])).creationTime;
      const later = await service.searchExperiments({
        filter: `name LIKE '${prefix}%' and creation_time > ${created1 - 0.5}`,
        orderBy: ['creation_time ASC'],
      });
      expect(later.items.map(e => e.experimentId)).toEqual([
        ids[1],
        ids[2],
        ids[3],
      ]);

      // case: LIKE is case-sensitive, ILIKE is not, on both engines
      expect(
        (
          await service.searchExperiments({
            filter: `name LIKE '${prefix.toUpperCase()}%'`,
          })
        ).items,
      ).toEqual([]);
      expect(
        (
          await service.searchExperiments({
            filter: `name ILIKE '${prefix.toUpperCase()}%'`,
          })
        ).items.length,
      ).toBe(4);

      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await service.searchExperiments({
          filter: `name LIKE '${prefix}%'`,
          maxResults: 3,
          pageToken,
        });
        seen.push(...page.items.map(e => e.experimentId));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      expect(pages).toBe(2);
      expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0]]);

      await expect(
        service.searchExperiments({ filter: 'metrics.rmse < 1' }),
      ).rejects.toThrow(InputError);
      await expect(
        service.searchExperiments({ maxResults: 50001 }),
      ).rejects.toThrow(InputError);
    });
  });

  describe('runs', () => {
    it('creates a run the way MLflow does', async () => {
      clock += 1000;
      const experiment = await service.createExperiment({
        name: uniqueName('runs'),
      });
      const run = await service.createRun({
        experimentId: experiment.experimentId,
        userId: 'user:default/alice',
        tags: { 'mlflow.source.name': 'train.py' },
      });
      expect(run).toEqual({
        runId: expect.stringMatching(/^[0-9a-f]{32}$/),
        experimentId: experiment.experimentId,
        runName: expect.stringMatching(/^[a-z]+-[a-z]+-\d{1,3}$/),
        userId: 'user:default/alice',
        status: 'RUNNING',
        startTime: clock,
        artifactUri: `mlflow-artifacts:/${experiment.experimentId}/${run.runId}/artifacts`,
        lifecycleStage: 'active',
        metrics: [],
        params: {},
        tags: {
          'mlflow.runName': run.runName,
          'mlflow.user': 'user:default/alice',
          'mlflow.source.name': 'train.py',
        },
      });
      expect(run).not.toHaveProperty('endTime');

      const named = await service.createRun({
        experimentId: experiment.experimentId,
        userId: 'bob',
        startTime: 42,
        tags: { 'mlflow.runName': 'from-tag' },
      });
      expect(named.runName).toBe('from-tag');
      expect(named.startTime).toBe(42);

      const clash = await rejection(
        service.createRun({
          experimentId: experiment.experimentId,
          userId: 'bob',
          runName: 'a',
          tags: { 'mlflow.runName': 'b' },
        }),
      );
      expect(clash).toBeInstanceOf(InputError);

      const unknown = await rejection(
        service.createRun({ experimentId: '424242', userId: 'bob' }),
      );
      expect(unknown).toBeInstanceOf(NotFoundError);
      expect(unknown.message).toContain("'424242'");
    });

    it('updates status, end time and name; a deleted run cannot be written to', async () => {
      const run = await newRun({ runName: 'first-name' });
      const updated = await service.updateRun({
        runId: run.runId,
        status: 'FINISHED',
        endTime: 1_700_000_999_000,
        runName: 'second-name',
      });
      expect(updated).toMatchObject({
        status: 'FINISHED',
        endTime: 1_700_000_999_000,
        runName: 'second-name',
      });
      expect(updated.tags['mlflow.runName']).toBe('second-name');

      // logging to a FINISHED run is allowed
      await service.logMetric(run.runId, {
        key: 'late',
        value: 1,
        timestamp: 5,
      });

      // the name tag renames the run
      await service.setTag(run.runId, 'mlflow.runName', 'third-name');
      expect((await service.getRun(run.runId)).runName).toBe('third-name');

      await expect(
        service.updateRun({ runId: run.runId, status: 'DONE' as any }),
      ).rejects.toThrow(InputError);

      await service.deleteRun(run.runId);
      await service.deleteRun(run.runId); // idempotent
      const deleted = await service.getRun(run.runId);
      expect(deleted.lifecycleStage).toBe('deleted');
      const logDeleted = await rejection(
        service.logParam(run.runId, 'alpha', '1'),
      );
      expect(logDeleted).toBeInstanceOf(InputError);
      expect(logDeleted.message).toBe(
        `Cannot log to run '${run.runId}': it is deleted`,
      );
      await expect(
        service.updateRun({ runId: run.runId, status: 'KILLED' }),
      ).rejects.toThrow(InputError);
      await service.restoreRun(run.runId);
      await service.logParam(run.runId, 'alpha', '1');
      expect((await service.getRun(run.runId)).params).toEqual({ alpha: '1' });

      const missing = await rejection(service.getRun('0'.repeat(32)));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing.message).toBe(`Run '${'0'.repeat(32)}' not found`);
      await expect(
        service.logBatch({
          runId: 'nope',
          metrics: [{ key: 'a', value: 1, timestamp: 1 }],
        }),
      ).rejects.toThrow(NotFoundError);
    });
  });

  describe('logBatch', () => {
    it('writes params once, overwrites tags and appends metrics', async () => {
      const run = await newRun();
      await service.logBatch({
        runId: run.runId,
        params: [
          { key: 'alpha', value: '0.5' },
          { key: 'l1_ratio', value: '0.1' },
        ],
        tags: [{ key: 'stage', value: 'dev' }],
        metrics: [
          { key: 'rmse', value: 0.9, timestamp: 1000, step: 0 },
          { key: 'rmse', value: 0.8, timestamp: 2000, step: 1 },
        ],
      });
      // the same param value again is fine; a tag is overwritten
      await service.logBatch({
        runId: run.runId,
        params: [{ key: 'alpha', value: '0.5' }],
        tags: [{ key: 'stage', value: 'prod' }],
      });
      const stored = await service.getRun(run.runId);
      expect(stored.params).toEqual({ alpha: '0.5', l1_ratio: '0.1' });
      expect(stored.tags.stage).toBe('prod');
      expect(stored.metrics).toEqual([
        { key: 'rmse', value: 0.8, timestamp: 2000, step: 1 },
      ]);
    });

    it('rejects a changed param naming run, key, old and new value, and stores nothing of that batch', async () => {
      const run = await newRun();
      await service.logParam(run.runId, 'alpha', '0.5');
      const error = await rejection(
        service.logBatch({
          runId: run.runId,
          metrics: [{ key: 'rmse', value: 0.1, timestamp: 1 }],
          params: [
            { key: 'beta', value: '2' },
            { key: 'alpha', value: '0.7' },
          ],
          tags: [{ key: 'stage', value: 'dev' }],
        }),
      );
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toContain(`'${run.runId}'`);
      expect(error.message).toContain("'alpha'");
      expect(error.message).toContain("'0.5'");
      expect(error.message).toContain("'0.7'");

      const stored = await service.getRun(run.runId);
      expect(stored.params).toEqual({ alpha: '0.5' });
      expect(stored.tags).not.toHaveProperty('stage');
      expect(stored.metrics).toEqual([]);
      expect(
        (await service.getMetricHistory({ runId: run.runId, key: 'rmse' }))
          .items,
      ).toEqual([]);

      // two different values of one key in one batch
      const twice = await rejection(
        service.logBatch({
          runId: run.runId,
          params: [
            { key: 'gamma', value: '1' },
            { key: 'gamma', value: '2' },
          ],
        }),
      );
      expect(twice).toBeInstanceOf(InputError);
      expect(twice.message).toContain("'gamma'");
    });

    it('enforces MLflow limits with messages that name the run and key', async () => {
      const run = await newRun();
      const metrics = (n: number): MetricInput[] =>
        Array.from({ length: n }, (_, i) => ({
          key: `m${i}`,
          value: i,
          timestamp: i,
        }));
      const kv = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));

      const cases: Array<[Promise<unknown>, string]> = [
        [
          service.logBatch({ runId: run.runId, metrics: metrics(1001) }),
          '1001 metrics',
        ],
        [service.logBatch({ runId: run.runId, params: kv(101) }), '101 params'],
        [service.logBatch({ runId: run.runId, tags: kv(101) }), '101 tags'],
        [
          service.logBatch({
            runId: run.runId,
            metrics: metrics(950),
            params: kv(51),
          }),
          '1001 metrics, params and tags in total',
        ],
        [service.logParam(run.runId, 'k'.repeat(251), 'v'), 'at most 250'],
        [service.logParam(run.runId, 'big', 'v'.repeat(6001)), "param 'big'"],
        [service.setTag(run.runId, 'big', 'v'.repeat(8001)), "tag 'big'"],
        [service.logParam(run.runId, 'bad*key', 'v'), "'bad*key'"],
        [service.logParam(run.runId, '../escape', 'v'), "'../escape'"],
        [
          service.logMetric(run.runId, { key: 'm', value: 1, timestamp: 1.5 }),
          "timestamp of metric 'm'",
        ],
        [
          service.logMetric(run.runId, {
            key: 'm',
            value: '1' as any,
            timestamp: 1,
          }),
          "metric 'm'",
        ],
      ];
      for (const [promise, text] of cases) {
        const error = await rejection(promise);
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toContain(text);
        expect(error.message).toContain(run.runId);
      }
      // at the limits it works
      await service.logParam(run.runId, 'p'.repeat(250), 'v'.repeat(6000));
      await service.logBatch({ runId: run.runId, metrics: metrics(1000) });
      expect((await service.getRun(run.runId)).metrics).toHaveLength(1000);
    });

    it('keeps the latest point per key: latest timestamp, largest value on a tie; NaN and Infinity', async () => {
      const run = await newRun();
      await service.logBatch({
        runId: run.runId,
        metrics: [
          { key: 'a', value: 1, timestamp: 100, step: 5 },
          { key: 'a', value: 2, timestamp: 300, step: 1 },
          { key: 'a', value: 3, timestamp: 200, step: 9 },
          { key: 'tie', value: 1, timestamp: 100 },
          { key: 'tie', value: 7, timestamp: 100 },
          { key: 'tie', value: 4, timestamp: 100 },
          { key: 'nan', value: NaN, timestamp: 100 },
          { key: 'inf', value: Infinity, timestamp: 100 },
          { key: 'ninf', value: -Infinity, timestamp: 100 },
        ],
      });
      // an older point later does not replace it; a newer one does
      await service.logMetric(run.runId, {
        key: 'a',
        value: 10,
        timestamp: 250,
      });
      await service.logMetric(run.runId, {
        key: 'tie',
        value: 5,
        timestamp: 100,
      });
      await service.logMetric(run.runId, {
        key: 'tie',
        value: 8,
        timestamp: 100,
      });
      await service.logMetric(run.runId, {
        key: 'nan',
        value: 0,
        timestamp: 50,
      });

      const metrics = Object.fromEntries(
        (await service.getRun(run.runId)).metrics.map(m => [m.key, m]),
      );
      expect(metrics.a).toEqual({
        key: 'a',
        value: 2,
        timestamp: 300,
        step: 1,
      });
      expect(metrics.tie.value).toBe(8);
      expect(metrics.nan.value).toBeNaN();
      expect(metrics.inf.value).toBe(Infinity);
      expect(metrics.ninf.value).toBe(-Infinity);

      // a number at the same time beats NaN
      await service.logMetric(run.runId, {
        key: 'nan',
        value: -1,
        timestamp: 100,
      });
      expect(
        (await service.getRun(run.runId)).metrics.find(m => m.key === 'nan')!
          .value,
      ).toBe(-1);

      const history = await service.getMetricHistory({
        runId: run.runId,
        key: 'nan',
      });
      expect(history.items.map(p => p.value)).toEqual([0, -1, NaN]);
    });

    it('stores an identical point once (retries are idempotent)', async () => {
      const run = await newRun();
      const point = { key: 'loss', value: 0.25, timestamp: 10, step: 3 };
      await service.logBatch({ runId: run.runId, metrics: [point, point] });
      await service.logMetric(run.runId, point);
      await service.logMetric(run.runId, { ...point, value: 0.5 });
      const history = await service.getMetricHistory({
        runId: run.runId,
        key: 'loss',
      });
      expect(history.items.map(p => p.value)).toEqual([0.25, 0.5]);
    });

    it('deletes tags; an absent tag is not found', async () => {
      const run = await newRun();
      await service.setTag(run.runId, 'stage', 'dev');
      await service.deleteTag(run.runId, 'stage');
      expect((await service.getRun(run.runId)).tags).not.toHaveProperty(
        'stage',
      );
      const error = await rejection(service.deleteTag(run.runId, 'stage'));
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.message).toBe(
        `No tag with key 'stage' on run '${run.runId}'`,
      );
    });

    it('logs 1000 metrics in one batch and reads a 10,000-point history in order', async () => {
      const run = await newRun();
      // 10,000 points of one key, logged out of order in 10 batches of 1000
      const points: MetricInput[] = Array.from({ length: 10_000 }, (_, i) => ({
        key: 'loss',
        value: 1 / (i + 1),
        timestamp: 1_000_000 + (i % 7),
        step: Math.floor(i / 2),
      }));
      const shuffled = [...points];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      // Speed is measured by `npm run bench:registry`, not here.
      for (let b = 0; b < 10; b++) {
        await service.logBatch({
          runId: run.runId,
          metrics: shuffled.slice(b * 1000, (b + 1) * 1000),
        });
      }

      // 1000 different keys in one batch (latest table: 1000 upserts)
      const wide = Array.from({ length: 1000 }, (_, i) => ({
        key: `feature_${i}`,
        value: i,
        timestamp: 5,
      }));
      await service.logBatch({ runId: run.runId, metrics: wide });

      const history = await service.getMetricHistory({
        runId: run.runId,
        key: 'loss',
      });

      expect(history.items).toHaveLength(10_000);
      expect(history.nextPageToken).toBeUndefined();
      const expected = [...points].sort(
        (a, b) => a.step! - b.step! || a.timestamp - b.timestamp,
      );
      expect(history.items).toEqual(
        expected.map(p => ({
          key: 'loss',
          value: p.value,
          timestamp: p.timestamp,
          step: p.step,
        })),
      );
      expect((await service.getRun(run.runId)).metrics).toHaveLength(1001);

      // pages of a history
      const seen: number[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await service.getMetricHistory({
          runId: run.runId,
          key: 'loss',
          maxResults: 2500,
          pageToken,
        });
        seen.push(...page.items.map(p => p.value));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      expect(pages).toBe(4);
      expect(seen).toEqual(history.items.map(p => p.value));
    });

    it('reads a history from the primary key, without sorting', async () => {
      const run = await newRun();
      const sql = `SELECT * FROM tracking_metrics WHERE run_id = ? AND key = ? ORDER BY step, "timestamp", value, is_nan`;
      const isPostgres = knex.client.config.client === 'pg';
      // PostgreSQL: forbid sequential scans so that the plan shows whether the
      // index gives the order; SQLite: a sort would show as a TEMP B-TREE.
      const plan: string = isPostgres
        ? await knex.transaction(async trx => {
            await trx.raw('SET LOCAL enable_seqscan = off');
            const result = await trx.raw(`EXPLAIN ${sql}`, [run.runId, 'loss']);
            return result.rows.map((r: any) => r['QUERY PLAN']).join('\n');
          })
        : (await knex.raw(`EXPLAIN QUERY PLAN ${sql}`, [run.runId, 'loss']))
            .map((r: any) => r.detail)
            .join('\n');
      expect(plan).toMatch(
        /tracking_metrics_pk|sqlite_autoindex_tracking_metrics/,
      );
      expect(plan).not.toMatch(/Sort|TEMP B-TREE/);
    });

    it('applies concurrent batches to one run one after the other', async () => {
      const run = await newRun();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          service.logBatch({
            runId: run.runId,
            params: [{ key: 'seed', value: String(i) }],
            metrics: [{ key: 'acc', value: i, timestamp: 100 + i }],
          }),
        ),
      );
      const fulfilled = results.filter(r => r.status === 'fulfilled');
      const rejected = results.filter(
        (r): r is PromiseRejectedResult => r.status === 'rejected',
      );
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(7);
      for (const r of rejected) expect(r.reason).toBeInstanceOf(InputError);

      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          service.logMetric(run.runId, {
            key: 'loss',
            value: i,
            timestamp: 1000 + i,
          }),
        ),
      );
      const latest = (await service.getRun(run.runId)).metrics.find(
        m => m.key === 'loss',
      );
      expect(latest).toMatchObject({ value: 7, timestamp: 1007 });
      expect(
        (await service.getMetricHistory({ runId: run.runId, key: 'loss' }))
          .items,
      ).toHaveLength(8);
    });
  });

  describe('searchRuns', () => {
    let experimentId: string;
    let otherExperimentId: string;
    const runs: Record<string, string> = {};

    beforeAll(async () => {
      experimentId = (
        await service.createExperiment({ name: uniqueName('search-runs') })
      ).experimentId;
      otherExperimentId = (
        await service.createExperiment({
          name: uniqueName('search-runs-other'),
        })
      ).experimentId;
      const specs = [
        { name: 'ridge-a', start: 1000, rmse: 0.5, alpha: '0.5', team: 'Core' },
        { name: 'ridge-b', start: 2000, rmse: 0.9, alpha: '1.0', team: 'core' },
        { name: 'lasso-a', start: 3000, rmse: NaN, alpha: '0.5', team: 'edge' },
        {
          name: 'ols',
          start: 4000,
          rmse: undefined,
          alpha: undefined,
          team: undefined,
        },
        { name: 'ridge_c', start: 5000, rmse: 0.7, alpha: '2', team: 'CORE' },
      ];
      for (const spec of specs) {
        const run = await service.createRun({
          experimentId,
          userId: spec.name.startsWith('ridge') ? 'alice' : 'bob',
          runName: spec.name,
          startTime: spec.start,
        });
        runs[spec.name] = run.runId;
        await service.logBatch({
          runId: run.runId,
          metrics:
            spec.rmse !== undefined
              ? [{ key: 'rmse', value: spec.rmse, timestamp: 1 }]
              : [],
          params: spec.alpha ? [{ key: 'alpha', value: spec.alpha }] : [],
          tags: spec.team ? [{ key: 'team', value: spec.team }] : [],
        });
      }
      await service.updateRun({
        runId: runs['ridge-a'],
        status: 'FINISHED',
        endTime: 1500,
      });
      const other = await service.createRun({
        experimentId: otherExperimentId,
        userId: 'carol',
        runName: 'other',
        startTime: 6000,
      });
      runs.other = other.runId;
      const deleted = await service.createRun({
        experimentId,
        userId: 'dave',
        runName: 'deleted',
        startTime: 7000,
      });
      runs.deleted = deleted.runId;
      await service.deleteRun(deleted.runId);
    });

    async function names(request: {
      filter?: string;
      orderBy?: string[];
      runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
      experimentIds?: string[];
    }) {
      const page = await service.searchRuns({
        experimentIds: request.experimentIds ?? [experimentId],
        ...request,
      });
      return page.items.map(r => r.runName);
    }

    it('lists active runs newest first by default, across experiments', async () => {
      expect(await names({})).toEqual([
        'ridge_c',
        'ols',
        'lasso-a',
        'ridge-b',
        'ridge-a',
      ]);
      expect(
        await names({ experimentIds: [experimentId, otherExperimentId] }),
      ).toEqual(['other', 'ridge_c', 'ols', 'lasso-a', 'ridge-b', 'ridge-a']);
      expect(await names({ runViewType: 'DELETED_ONLY' })).toEqual(['deleted']);
      expect(await names({ runViewType: 'ALL' })).toHaveLength(6);
      expect(await names({ experimentIds: [] })).toEqual([]);
    });

    it('filters on metrics (NaN matches only !=), params, tags and attributes', async () => {
      expect(await names({ filter: 'metrics.rmse < 0.8' })).toEqual([
        'ridge_c',
        'ridge-a',
      ]);
      expect(
        await names({ filter: 'metrics.rmse >= 0.7 and metrics.rmse <= 0.9' }),
      ).toEqual(['ridge_c', 'ridge-b']);
      expect(await names({ filter: 'metrics.rmse != 0.5' })).toEqual([
        'ridge_c',
        'lasso-a',
        'ridge-b',
      ]);
      expect(await names({ filter: "params.alpha = '0.5'" })).toEqual([
        'lasso-a',
        'ridge-a',
      ]);
      expect(await names({ filter: "params.alpha != '0.5'" })).toEqual([
        'ridge_c',
        'ridge-b',
      ]);
      expect(await names({ filter: "tags.team = 'core'" })).toEqual([
        'ridge-b',
      ]);
      expect(await names({ filter: "tags.team LIKE 'c%'" })).toEqual([
        'ridge-b',
      ]);
      expect(await names({ filter: "tags.team ILIKE 'c%'" })).toEqual([
        'ridge_c',
        'ridge-b',
        'ridge-a',
      ]);
      expect(await names({ filter: "run_name LIKE 'ridge_%'" })).toEqual([
        'ridge_c',
        'ridge-b',
        'ridge-a',
      ]);
      expect(await names({ filter: "tags.`mlflow.runName` = 'ols'" })).toEqual([
        'ols',
      ]);
      expect(await names({ filter: "attributes.status = 'FINISHED'" })).toEqual(
        ['ridge-a'],
      );
      expect(await names({ filter: "attributes.user_id = 'bob'" })).toEqual([
        'ols',
        'lasso-a',
      ]);
      expect(await names({ filter: 'attributes.start_time > 2500.5' })).toEqual(
        ['ridge_c', 'ols', 'lasso-a'],
      );
      expect(
        await names({ filter: 'attributes.start_time <= 2000.5' }),
      ).toEqual(['ridge-b', 'ridge-a']);
      expect(await names({ filter: 'attributes.start_time = 2000.5' })).toEqual(
        [],
      );
      expect(await names({ filter: 'end_time < 2000' })).toEqual(['ridge-a']);
      expect(
        await names({
          filter: `attributes.run_id IN ('${runs.ols}', '${runs['ridge-a']}')`,
        }),
      ).toEqual(['ols', 'ridge-a']);
      expect(
        await names({
          filter: `run_id NOT IN ('${runs.ols}') and params.alpha = '0.5' and metrics.rmse < 1`,
        }),
      ).toEqual(['ridge-a']);
      await expect(names({ filter: 'metrics.rmse <' })).rejects.toThrow(
        InputError,
      );
    });

    it('orders by metrics (NaN, then missing last), params, tags and attributes', async () => {
      expect(await names({ orderBy: ['metrics.rmse ASC'] })).toEqual([
        'ridge-a',
        'ridge_c',
        'ridge-b',
        'lasso-a',
        'ols',
      ]);
      expect(await names({ orderBy: ['metrics.rmse DESC'] })).toEqual([
        'ridge-b',
        'ridge_c',
        'ridge-a',
        'lasso-a',
        'ols',
      ]);
      expect(
        await names({ orderBy: ['params.alpha DESC', 'start_time ASC'] }),
      ).toEqual(['ridge_c', 'ridge-b', 'ridge-a', 'lasso-a', 'ols']);
      expect(await names({ orderBy: ['attributes.start_time ASC'] })).toEqual([
        'ridge-a',
        'ridge-b',
        'lasso-a',
        'ols',
        'ridge_c',
      ]);
      // the order of 'Core', 'core' and 'CORE' follows the database's collation;
      // 'edge' comes after them and the run without the tag comes last
      const byTeam = await names({ orderBy: ['tags.team'] });
      expect(byTeam.slice(3)).toEqual(['lasso-a', 'ols']);
      expect(byTeam.slice(0, 3).sort()).toEqual([
        'ridge-a',
        'ridge-b',
        'ridge_c',
      ]);
      expect((await names({ orderBy: ['tags.team DESC'] }))[4]).toBe('ols');
      await expect(
        names({ orderBy: ['metrics.rmse SIDEWAYS'] }),
      ).rejects.toThrow(InputError);
    });

    it('pages with an opaque token; a bad token is an InputError', async () => {
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await service.searchRuns({
          experimentIds: [experimentId],
          maxResults: 2,
          pageToken,
        });
        seen.push(...page.items.map(r => r.runName));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      expect(pages).toBe(3);
      expect(seen).toEqual(['ridge_c', 'ols', 'lasso-a', 'ridge-b', 'ridge-a']);

      for (const token of ['not-a-token', encodePageToken(-1), 'eyJ4IjoxfQ']) {
        const error = await rejection(
          service.searchRuns({
            experimentIds: [experimentId],
            pageToken: token,
          }),
        );
        expect(error).toBeInstanceOf(InputError);
        expect(error.message).toBe(`Invalid page token '${token}'`);
      }
      await expect(
        service.searchRuns({ experimentIds: ['x'] }),
      ).rejects.toThrow(InputError);
      await expect(
        service.searchRuns({ experimentIds: [experimentId], maxResults: 0 }),
      ).rejects.toThrow(InputError);
    });

    it('returns full runs, and run lookups for the UI and the registry', async () => {
      const [run] = (
        await service.searchRuns({
          experimentIds: [experimentId],
          filter: "run_name = 'ridge-a'",
        })
      ).items;
      expect(run).toMatchObject({
        runName: 'ridge-a',
        status: 'FINISHED',
        endTime: 1500,
        params: { alpha: '0.5' },
        metrics: [{ key: 'rmse', value: 0.5, timestamp: 1, step: 0 }],
      });
      expect(run.tags).toMatchObject({ team: 'Core', 'mlflow.user': 'alice' });

      const listed = await service.listRunsByIds([
        runs['ridge-a'],
        runs.other,
        'unknown',
        runs.deleted,
      ]);
      expect(listed.map(r => r.runName)).toEqual([
        'deleted',
        'other',
        'ridge-a',
      ]);

      const summaries = await service.lookupRunSummaries([
        runs['ridge-b'],
        runs.ols,
        'x',
      ]);
      expect([...summaries.keys()].sort()).toEqual(
        [runs['ridge-b'], runs.ols].sort(),
      );
      expect(summaries.get(runs['ridge-b'])).toEqual({
        metrics: { rmse: 0.9 },
        params: { alpha: '1.0' },
      });
      expect(summaries.get(runs.ols)).toEqual({ metrics: {}, params: {} });
    });
  });

  describe('for the UI and the registry', () => {
    it('lists the runs of a model: its experiments by name or tag, and source runs', async () => {
      const model = uniqueName('churn-model');
      const byName = await service.createExperiment({ name: model });
      const byTag = await service.createExperiment({
        name: uniqueName('churn-tuning'),
        tags: { 'loopline.dev/model': model },
      });
      const unrelated = await service.createExperiment({
        name: uniqueName('other'),
      });
      const a = await newRun({
        experimentId: byName.experimentId,
        startTime: 10,
      });
      const b = await newRun({
        experimentId: byTag.experimentId,
        startTime: 30,
      });
      const gone = await newRun({
        experimentId: byName.experimentId,
        startTime: 40,
      });
      await service.deleteRun(gone.runId);
      const source = await newRun({
        experimentId: unrelated.experimentId,
        startTime: 20,
      });
      await newRun({ experimentId: unrelated.experimentId, startTime: 50 });

      const runs = await service.listRunsOfModel({
        modelName: model,
        runIds: [source.runId, a.runId, 'f'.repeat(32)],
      });
      expect(runs.map(r => r.runId)).toEqual([b.runId, source.runId, a.runId]);
      expect(runs[0].tags['mlflow.user']).toBe('user:default/alice');
      expect(
        await service.listRunsOfModel({ modelName: uniqueName('none') }),
      ).toEqual([]);
    });

    it('reads a whole metric history; an unknown run is not found', async () => {
      const run = await newRun();
      await service.logBatch({
        runId: run.runId,
        metrics: [
          { key: 'acc', value: 0.2, timestamp: 5, step: 2 },
          { key: 'acc', value: 0.1, timestamp: 9, step: 1 },
          { key: 'acc', value: 0.3, timestamp: 1, step: 2 },
        ],
      });
      expect(await service.getFullMetricHistory(run.runId, 'acc')).toEqual([
        { key: 'acc', value: 0.1, timestamp: 9, step: 1 },
        { key: 'acc', value: 0.3, timestamp: 1, step: 2 },
        { key: 'acc', value: 0.2, timestamp: 5, step: 2 },
      ]);
      expect(await service.getFullMetricHistory(run.runId, 'nothing')).toEqual(
        [],
      );
      const error = await rejection(
        service.getFullMetricHistory('a'.repeat(32), 'acc'),
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.message).toContain('a'.repeat(32));
    });
  });
});
