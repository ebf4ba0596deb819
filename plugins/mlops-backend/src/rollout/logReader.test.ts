import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { applyMigrations } from '../database/migrations';
import { InferenceLogStore } from '../serving/log/InferenceLogStore';
import { NewInferenceLogRow } from '../serving/log/types';
import {
  REFERENCE_ALL,
  REFERENCE_LATENCIES,
} from '../serving/log/__testUtils__/latencies';
import { InferenceLogRolloutReader } from './logReader';

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const NOW = 1_800_000_000_000;
const SINCE = NOW - 60_000;

/** OIP output tensors as the log stores them. */
function outputs(
  ...tensors: Array<{ name: string; data: unknown[]; datatype?: string }>
): string {
  return JSON.stringify(
    tensors.map(({ name, data, datatype }) => ({
      name,
      datatype: datatype ?? 'FP32',
      shape: [data.length],
      data,
    })),
  );
}

/** A classifier's outputs: the label and its probabilities (listed first, so the name decides). */
function classified(...labels: unknown[]): string {
  return outputs(
    { name: 'probabilities', data: labels.map(() => 0.9) },
    { name: 'output_label', data: labels, datatype: 'INT64' },
  );
}

function row(overrides: Partial<NewInferenceLogRow> = {}): NewInferenceLogRow {
  return {
    requestId: 'r',
    modelName: 'wine-quality',
    version: 2,
    route: 'oip',
    source: 'embedded',
    endpoint: 'candidate',
    status: 'ok',
    httpStatus: 200,
    latencyMs: 1,
    sampleRate: 1,
    inputs: '[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]',
    outputs: outputs({ name: 'variable', data: [5.5] }),
    createdAt: NOW - 1000,
    ...overrides,
  };
}

describe.each(databaseIds)(
  'The rollout reader of the inference log on %s',
  id => {
    let knex: Knex;
    let store: InferenceLogStore;
    let reader: InferenceLogRolloutReader;

    beforeEach(async () => {
      knex = await databases.init(id);
      await applyMigrations(knex);
      store = new InferenceLogStore(knex, { insertChunkSize: 7 });
      reader = new InferenceLogRolloutReader(store);
    });

    describe('armMetrics', () => {
      it("counts an arm's requests in the window, weighted, with numpy's percentiles", async () => {
        const rows = REFERENCE_LATENCIES.map((latencyMs, i) =>
          row({ requestId: `c${i}`, latencyMs, createdAt: SINCE + i }),
        );
        rows.push(
          // Errors count, sampled rows weigh 1/rate, neither enters the percentiles.
          row({
            requestId: 'e1',
            status: 'error',
            httpStatus: 500,
            latencyMs: 9999,
          }),
          row({
            requestId: 'e2',
            status: 'error',
            httpStatus: 500,
            latencyMs: 9999,
          }),
          row({ requestId: 's1', sampleRate: 0.25, latencyMs: undefined }),
          // Both window ends are inclusive.
          row({ requestId: 'first', createdAt: SINCE, latencyMs: undefined }),
          row({ requestId: 'last', createdAt: NOW, latencyMs: undefined }),
          // Not this arm: another endpoint, no endpoint, another model, outside the window.
          row({ requestId: 'x1', endpoint: 'stable', latencyMs: 1e6 }),
          row({ requestId: 'x2', endpoint: undefined, latencyMs: 1e6 }),
          row({ requestId: 'x3', modelName: 'churn', latencyMs: 1e6 }),
          row({ requestId: 'x4', createdAt: SINCE - 1, latencyMs: 1e6 }),
          row({ requestId: 'x5', createdAt: NOW + 1, latencyMs: 1e6 }),
        );
        await store.insertBatch(rows);

        const metrics = await reader.armMetrics({
          modelName: 'wine-quality',
          endpoints: ['candidate'],
          since: SINCE,
          until: NOW,
        });
        // 37 + 2 errors + 4 (one row at rate 0.25) + 2 at the ends.
        expect(metrics).toEqual({
          requests: 45,
          errors: 2,
          errorRate: expect.closeTo(2 / 45, 12),
          latencyP50Ms: expect.closeTo(REFERENCE_ALL.p50, 9),
          latencyP95Ms: expect.closeTo(REFERENCE_ALL.p95, 9),
          latencyP99Ms: expect.closeTo(REFERENCE_ALL.p99, 9),
        });
        expect(metrics).not.toHaveProperty('quality');
        expect(metrics).not.toHaveProperty('conversions');
      });

      it('takes the rows of several endpoints together (KServe names)', async () => {
        await store.insertBatch([
          row({ requestId: 'a', endpoint: 'default', latencyMs: 10 }),
          row({ requestId: 'b', endpoint: 'canary', latencyMs: 20 }),
          // KServe reports no HTTP status: its errors count.
          row({
            requestId: 'c',
            endpoint: 'canary',
            status: 'error',
            httpStatus: undefined,
          }),
          row({ requestId: 'd', endpoint: 'candidate', latencyMs: 1000 }),
        ]);
        const metrics = await reader.armMetrics({
          modelName: 'wine-quality',
          endpoints: ['default', 'canary'],
          since: SINCE,
          until: NOW,
        });
        expect(metrics).toMatchObject({
          requests: 3,
          errors: 1,
          latencyP50Ms: 15,
          latencyP99Ms: expect.closeTo(19.9, 9),
        });
      });

      it("counts the server's errors, not the caller's", async () => {
        await store.insertBatch([
          row({ requestId: 'ok', latencyMs: 5 }),
          row({ requestId: 'bad-shape', status: 'error', httpStatus: 400 }),
          row({ requestId: 'refused', status: 'error', httpStatus: 403 }),
          row({ requestId: 'crashed', status: 'error', httpStatus: 500 }),
          row({ requestId: 'unready', status: 'error', httpStatus: 503 }),
        ]);
        expect(
          await reader.armMetrics({
            modelName: 'wine-quality',
            endpoints: ['candidate'],
            since: SINCE,
            until: NOW,
          }),
        ).toMatchObject({ requests: 5, errors: 2, errorRate: 0.4 });
      });

      it('reports an empty window as zeros without latency or NaN', async () => {
        await store.insertBatch([row({ requestId: 'elsewhere' })]);
        for (const endpoints of [['stable'], []]) {
          expect(
            await reader.armMetrics({
              modelName: 'wine-quality',
              endpoints,
              since: SINCE,
              until: NOW,
              quality: 'accuracy',
            }),
          ).toEqual({ requests: 0, errors: 0, errorRate: 0 });
        }
      });

      it('computes accuracy over requests with ground truth, in every posted form', async () => {
        await store.insertBatch([
          // Label outputs (named output_label, though not listed first).
          row({ requestId: 'n1', outputs: classified(6) }),
          row({ requestId: 'n2', outputs: classified(5) }),
          // INT64 logged as a string compares numerically with a number.
          row({ requestId: 's1', outputs: classified('7') }),
          row({ requestId: 's2', outputs: classified('red') }),
          row({ requestId: 'b1', outputs: classified(true) }),
          row({ requestId: 'o1', outputs: classified(6) }),
          row({ requestId: 'o2', outputs: classified(3) }),
          // A model without a known name: its first output is the prediction.
          row({
            requestId: 'f1',
            outputs: outputs(
              { name: 'score', data: [4] },
              { name: 'other', data: [9] },
            ),
          }),
          // Not scored: an error, no ground truth, another arm, outside the window,
          // unreadable outputs.
          row({ requestId: 'err', status: 'error', outputs: classified(1) }),
          row({ requestId: 'nogt', outputs: classified(1) }),
          row({ requestId: 'arm', endpoint: 'stable', outputs: classified(1) }),
          row({
            requestId: 'old',
            createdAt: SINCE - 1,
            outputs: classified(1),
          }),
          row({ requestId: 'cut', outputs: '{"truncated":true,"length":9}' }),
        ]);
        await store.upsertGroundTruth(
          [
            { requestId: 'n1', value: 6 }, // right
            { requestId: 'n2', value: 6 }, // wrong
            { requestId: 's1', value: 7 }, // right
            { requestId: 's2', value: 'red' }, // right
            { requestId: 'b1', value: 'true' }, // right (string form)
            { requestId: 'o1', value: { value: 6 } }, // right
            { requestId: 'o2', value: { quality: 4 } }, // wrong
            { requestId: 'f1', value: 4 }, // right
            { requestId: 'err', value: 2 },
            { requestId: 'arm', value: 2 },
            { requestId: 'old', value: 2 },
            { requestId: 'cut', value: 2 },
          ],
          NOW,
        );
        const metrics = await reader.armMetrics({
          modelName: 'wine-quality',
          endpoints: ['candidate'],
          since: SINCE,
          until: NOW,
          quality: 'accuracy',
        });
        expect(metrics.quality).toEqual({
          metric: 'accuracy',
          value: 6 / 8,
          samples: 8,
        });
        // Only the quality figure ignores the unscored rows.
        expect(metrics.requests).toBe(11);
      });

      it('scores a batch elementwise against an array of ground truth', async () => {
        await store.insertBatch([
          row({ requestId: 'batch', outputs: classified(1, 2, 3, 4) }),
          row({ requestId: 'single', outputs: classified(8, 9) }),
          row({ requestId: 'short', outputs: classified(1) }),
        ]);
        await store.upsertGroundTruth(
          [
            // The first three outputs against three truths: 2 right.
            { requestId: 'batch', value: [1, 0, 3] },
            // A scalar is compared with the first output.
            { requestId: 'single', value: 8 },
            // More truths than outputs: only the outputs there are.
            { requestId: 'short', value: [[1], [2]] },
          ],
          NOW,
        );
        expect(
          (
            await reader.armMetrics({
              modelName: 'wine-quality',
              endpoints: ['candidate'],
              since: SINCE,
              until: NOW,
              quality: 'accuracy',
            })
          ).quality,
        ).toEqual({ metric: 'accuracy', value: 4 / 5, samples: 5 });
      });

      it('computes mae and rmse over numeric predictions, KServe V1 bodies included', async () => {
        await store.insertBatch([
          row({
            requestId: 'a',
            outputs: outputs({ name: 'variable', data: [[5.5]] }),
          }),
          row({
            requestId: 'b',
            outputs: outputs({ name: 'variable', data: [7] }),
          }),
          row({
            requestId: 'c',
            endpoint: 'canary',
            source: 'kserve',
            outputs: JSON.stringify({ predictions: [4] }),
          }),
          // Not numeric: not scored for a regression metric.
          row({ requestId: 'd', outputs: classified('red') }),
        ]);
        await store.upsertGroundTruth(
          [
            { requestId: 'a', value: 6 }, // error 0.5
            { requestId: 'b', value: '4' }, // error 3
            { requestId: 'c', value: { quality: 5 } }, // error 1
            { requestId: 'd', value: 5 },
          ],
          NOW,
        );
        const query = {
          modelName: 'wine-quality',
          endpoints: ['candidate', 'canary'],
          since: SINCE,
          until: NOW,
        };
        expect(
          (await reader.armMetrics({ ...query, quality: 'mae' })).quality,
        ).toEqual({ metric: 'mae', value: 4.5 / 3, samples: 3 });
        const rmse = (await reader.armMetrics({ ...query, quality: 'rmse' }))
          .quality;
        expect(rmse).toEqual({
          metric: 'rmse',
          value: expect.closeTo(Math.sqrt((0.25 + 9 + 1) / 3), 12),
          samples: 3,
        });
      });

      it('leaves quality out when no request has usable ground truth', async () => {
        await store.insertBatch([
          row({ requestId: 'a', outputs: classified('red') }),
          row({ requestId: 'b' }),
        ]);
        await store.upsertGroundTruth(
          [
            { requestId: 'a', value: 3 },
            { requestId: 'b', value: { two: 1, fields: 2 } },
          ],
          NOW,
        );
        const metrics = await reader.armMetrics({
          modelName: 'wine-quality',
          endpoints: ['candidate'],
          since: SINCE,
          until: NOW,
          quality: 'mae',
        });
        expect(metrics).toEqual({
          requests: 2,
          errors: 0,
          errorRate: 0,
          latencyP50Ms: 1,
          latencyP95Ms: 1,
          latencyP99Ms: 1,
        });
      });
    });

    describe('outputAgreement', () => {
      const query = {
        modelName: 'wine-quality',
        stableEndpoint: 'stable',
        shadowEndpoint: 'shadow',
        since: SINCE,
        until: NOW,
      };

      /** A stable row and its mirrored shadow row, answered with these outputs. */
      function pair(
        requestId: string,
        stable: string,
        shadow: string,
        overrides: Partial<NewInferenceLogRow> = {},
      ): NewInferenceLogRow[] {
        return [
          row({ requestId, endpoint: 'stable', outputs: stable, ...overrides }),
          row({
            requestId,
            endpoint: 'shadow',
            outputs: shadow,
            ...overrides,
            createdAt: (overrides.createdAt ?? NOW - 1000) + 3,
          }),
        ];
      }

      it('compares labels and numbers of mirrored requests', async () => {
        const value = (v: number) => outputs({ name: 'variable', data: [v] });
        await store.insertBatch([
          ...pair('l1', classified(6), classified(6)), // agree
          ...pair('l2', classified(6), classified(5)), // disagree
          ...pair('l3', classified('red', 'blue'), classified('red', 'blue')), // agree
          ...pair('l4', classified('red', 'blue'), classified('red')), // disagree: length
          ...pair('v1', value(100), value(100.00005)), // agree: 5e-7 relative
          ...pair('v2', value(100), value(100.001)), // disagree: 1e-5 relative
          ...pair('v3', value(0), value(0)), // agree
          // Not compared: a lone stable row, a failed shadow, unreadable outputs,
          // outside the window, another model.
          row({ requestId: 'lone', endpoint: 'stable' }),
          row({ requestId: 'e1', endpoint: 'stable' }),
          row({ requestId: 'e1', endpoint: 'shadow', status: 'error' }),
          ...pair('t1', classified(1), '{"truncated":true,"length":9}'),
          ...pair('old', classified(1), classified(2), {
            createdAt: SINCE - 100,
          }),
          ...pair('m1', classified(1), classified(2), { modelName: 'churn' }),
        ]);
        expect(await reader.outputAgreement(query)).toEqual({
          rate: 4 / 7,
          samples: 7,
        });
        // An absolute tolerance replaces the relative one.
        expect(
          await reader.outputAgreement({ ...query, tolerance: 0.01 }),
        ).toEqual({ rate: 5 / 7, samples: 7 });
        expect(
          await reader.outputAgreement({ ...query, tolerance: 0 }),
        ).toEqual({
          rate: 3 / 7,
          samples: 7,
        });
      });

      it('takes the newest pairs up to the limit', async () => {
        const rows: NewInferenceLogRow[] = [];
        for (let i = 0; i < 10; i++) {
          // The five newest agree, the five oldest do not.
          rows.push(
            ...pair(`p${i}`, classified(1), classified(i >= 5 ? 1 : 2), {
              createdAt: SINCE + i * 100,
            }),
          );
        }
        await store.insertBatch(rows);
        expect(await reader.outputAgreement({ ...query, limit: 5 })).toEqual({
          rate: 1,
          samples: 5,
        });
        expect(await reader.outputAgreement({ ...query, limit: 8 })).toEqual({
          rate: 5 / 8,
          samples: 8,
        });
        expect(await reader.outputAgreement(query)).toEqual({
          rate: 0.5,
          samples: 10,
        });
      });

      it('reports nothing compared as rate 0 of 0 samples', async () => {
        await store.insertBatch([
          row({ requestId: 'lone', endpoint: 'stable' }),
        ]);
        expect(await reader.outputAgreement(query)).toEqual({
          rate: 0,
          samples: 0,
        });
        expect(await reader.outputAgreement({ ...query, limit: 0 })).toEqual({
          rate: 0,
          samples: 0,
        });
      });
    });
  },
);
