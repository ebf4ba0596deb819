import { Knex } from 'knex';
import { ServingStats } from '@loopline/mlops-common';
import { latencyPercentiles } from './percentiles';
import {
  InferenceLogBatch,
  InferenceLogRecord,
  InferenceLogWriter,
  InferenceSource,
  KServeLogPartRow,
  LogWindowQuery,
  LogWindowSummary,
  NewInferenceLogRow,
} from './types';

const LOG = 'serving_inference_log';
/** The key of the all-versions percentiles. */
const ALL = Symbol('all');
type Percentiles = { p50?: number; p95?: number; p99?: number };
const GROUND_TRUTH = 'serving_ground_truth';

/** Rows per INSERT: 15 columns × 200 rows stays far below SQLite's and PostgreSQL's bind limits. */
const DEFAULT_INSERT_CHUNK = 200;
/** Rows per DELETE statement of the retention purge, so no statement holds locks for long. */
const DEFAULT_DELETE_CHUNK = 5000;

interface LogRow {
  id: number | string;
  request_id: string;
  model_name: string;
  version: number | null;
  route: string;
  source: string;
  endpoint: string | null;
  status: string;
  http_status: number | null;
  latency_ms: number | string | null;
  sample_rate: number | string;
  inputs: string | null;
  outputs: string | null;
  error: string | null;
  created_at: number | string;
}

interface JoinedRow extends LogRow {
  gt_value: string | null;
  gt_created_at: number | string | null;
}

/** A ground truth as stored. */
export interface GroundTruthRecord {
  requestId: string;
  modelName?: string;
  value: unknown;
  createdAt: number;
}

/**
 * The inference log and the ground truth (knex only). Writes come in batches
 * from the InferenceLogger; reads serve the stats route, drift and rollout
 * analysis.
 */
export class InferenceLogStore implements InferenceLogWriter {
  private readonly insertChunk: number;
  private readonly deleteChunk: number;

  constructor(
    private readonly db: Knex,
    options: { insertChunkSize?: number; deleteChunkSize?: number } = {},
  ) {
    this.insertChunk = options.insertChunkSize ?? DEFAULT_INSERT_CHUNK;
    this.deleteChunk = options.deleteChunkSize ?? DEFAULT_DELETE_CHUNK;
  }

  /** Inserts rows, in chunks, in one transaction (all or nothing, so a failed batch can be retried). */
  async insertBatch(rows: NewInferenceLogRow[]): Promise<void> {
    if (rows.length === 0) {
      return;
    }
    await this.db.transaction(trx => this.insertRows(trx, rows));
  }

  /**
   * Writes one flush of the logger in one transaction: complete rows, then
   * KServe halves merged with their partner already in the log (either order;
   * a half that is already there is a redelivery and is skipped).
   */
  async writeBatch(batch: InferenceLogBatch): Promise<void> {
    if (batch.rows.length === 0 && batch.kserveParts.length === 0) {
      return;
    }
    await this.db.transaction(async trx => {
      await this.insertRows(trx, batch.rows);
      for (const part of batch.kserveParts) {
        await this.mergeKServePart(trx, part);
      }
    });
  }

  private async insertRows(trx: Knex.Transaction, rows: NewInferenceLogRow[]) {
    for (let start = 0; start < rows.length; start += this.insertChunk) {
      await trx(LOG).insert(
        rows.slice(start, start + this.insertChunk).map(toDbRow),
      );
    }
  }

  private async mergeKServePart(trx: Knex.Transaction, part: KServeLogPartRow) {
    const candidates = await trx<LogRow>(LOG)
      .select('id', 'inputs', 'outputs', 'created_at')
      .where({
        source: 'kserve',
        request_id: part.requestId,
        model_name: part.modelName,
      })
      .orderBy('id')
      .limit(10);
    const isRequest = part.kind === 'request';
    const hasHalf = (row: Pick<LogRow, 'inputs' | 'outputs'>) =>
      isRequest ? row.inputs !== null : row.outputs !== null;
    if (candidates.some(hasHalf) && !candidates.some(row => !hasHalf(row))) {
      return; // redelivered
    }
    const partner = candidates.find(row => !hasHalf(row));
    if (!partner) {
      await trx(LOG).insert(toDbRow(partRow(part)));
      return;
    }
    const partnerTime = Number(partner.created_at);
    if (isRequest) {
      // The partner holds the response: its time is the response's.
      await trx(LOG)
        .where('id', partner.id)
        .update({
          inputs: part.payload ?? 'null',
          created_at: part.timestamp,
          latency_ms: Math.max(0, partnerTime - part.timestamp),
          endpoint: this.db.raw('coalesce(endpoint, ?)', [
            part.endpoint ?? null,
          ]),
        });
    } else {
      await trx(LOG)
        .where('id', partner.id)
        .update({
          outputs: part.payload ?? 'null',
          status: part.error !== undefined ? 'error' : 'ok',
          error: part.error ?? null,
          latency_ms: Math.max(0, part.timestamp - partnerTime),
          ...(part.version !== undefined ? { version: part.version } : {}),
        });
    }
  }

  /**
   * Deletes log rows and ground truth older than `cutoffMs`, a chunk per
   * statement; returns how many log rows went.
   */
  async deleteOlderThan(cutoffMs: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const count = await this.db(LOG)
        .whereIn(
          'id',
          this.db(LOG)
            .select('id')
            .where('created_at', '<', cutoffMs)
            .limit(this.deleteChunk),
        )
        .delete();
      deleted += count;
      if (count < this.deleteChunk) {
        break;
      }
    }
    for (;;) {
      const count = await this.db(GROUND_TRUTH)
        .whereIn(
          'request_id',
          this.db(GROUND_TRUTH)
            .select('request_id')
            .where('created_at', '<', cutoffMs)
            .limit(this.deleteChunk),
        )
        .delete();
      if (count < this.deleteChunk) {
        break;
      }
    }
    return deleted;
  }

  /**
   * A model's logged requests, newest first, each with its ground truth when
   * reported. `since` is inclusive (ms since the epoch).
   */
  async listRecent(options: {
    modelName: string;
    since?: number;
    until?: number;
    version?: number;
    source?: InferenceSource;
    limit: number;
  }): Promise<InferenceLogRecord[]> {
    const query = this.joined()
      .where('l.model_name', options.modelName)
      .orderBy('l.created_at', 'desc')
      .orderBy('l.id', 'desc')
      .limit(options.limit);
    if (options.since !== undefined) {
      query.where('l.created_at', '>=', options.since);
    }
    if (options.until !== undefined) {
      query.where('l.created_at', '<', options.until);
    }
    if (options.version !== undefined) {
      query.where('l.version', options.version);
    }
    if (options.source !== undefined) {
      query.where('l.source', options.source);
    }
    return (await query).map(toRecord);
  }

  /**
   * A model's successful requests whose ground truth arrived after `after`
   * (and at or before `until`), in the order it arrived (the ground truth's
   * `created_at`, then the log row's id): however late a label comes, a
   * reader keeping the last row's cursor sees it once.
   */
  async labelledSince(options: {
    modelName: string;
    after?: { at: number; logId: number };
    until?: number;
    version?: number;
    limit: number;
  }): Promise<
    Array<
      InferenceLogRecord & {
        groundTruth: { value: unknown; createdAt: number };
      }
    >
  > {
    const query = this.db<JoinedRow>({ l: LOG })
      .join({ g: GROUND_TRUTH }, 'g.request_id', 'l.request_id')
      .select('l.*', { gt_value: 'g.value', gt_created_at: 'g.created_at' })
      .where('l.model_name', options.modelName)
      .where('l.status', 'ok')
      .orderBy('g.created_at', 'asc')
      .orderBy('l.id', 'asc')
      .limit(options.limit);
    const after = options.after;
    if (after) {
      query.where(q =>
        q
          .where('g.created_at', '>', after.at)
          .orWhere(q2 =>
            q2.where('g.created_at', after.at).where('l.id', '>', after.logId),
          ),
      );
    }
    if (options.until !== undefined) {
      query.where('g.created_at', '<=', options.until);
    }
    if (options.version !== undefined) {
      query.where('l.version', options.version);
    }
    return (await query).map(
      row =>
        toRecord(row) as InferenceLogRecord & {
          groundTruth: { value: unknown; createdAt: number };
        },
    );
  }

  /** The logged rows of one request id (usually one), with its ground truth. */
  async getRequest(requestId: string): Promise<InferenceLogRecord[]> {
    const rows = await this.joined()
      .where('l.request_id', requestId)
      .orderBy('l.id');
    return rows.map(toRecord);
  }

  private joined() {
    return this.db<JoinedRow>({ l: LOG })
      .leftJoin({ g: GROUND_TRUTH }, 'g.request_id', 'l.request_id')
      .select('l.*', {
        gt_value: 'g.value',
        gt_created_at: 'g.created_at',
      });
  }

  /**
   * Records (or replaces) the ground truth of requests. The model name is
   * taken from the log when the request is already there; ground truth may
   * arrive before the request's row is flushed, and the join still finds it.
   */
  async upsertGroundTruth(
    items: Array<{ requestId: string; value: unknown }>,
    now: number,
  ): Promise<void> {
    if (items.length === 0) {
      return;
    }
    await this.db.transaction(async trx => {
      for (let start = 0; start < items.length; start += this.insertChunk) {
        const chunk = items.slice(start, start + this.insertChunk);
        const known = await trx<LogRow>(LOG)
          .select('request_id', 'model_name')
          .whereIn(
            'request_id',
            chunk.map(item => item.requestId),
          );
        const modelOf = new Map(known.map(r => [r.request_id, r.model_name]));
        const rows = dedupeLast(chunk).map(item => ({
          request_id: item.requestId,
          model_name: modelOf.get(item.requestId) ?? null,
          value: JSON.stringify(item.value),
          created_at: now,
        }));
        await trx(GROUND_TRUTH)
          .insert(rows)
          .onConflict('request_id')
          .merge({
            value: trx.raw('excluded.value'),
            created_at: trx.raw('excluded.created_at'),
            model_name: trx.raw(
              `coalesce(excluded.model_name, ${GROUND_TRUTH}.model_name)`,
            ),
          });
      }
    });
  }

  async getGroundTruth(
    requestId: string,
  ): Promise<GroundTruthRecord | undefined> {
    const row = await this.db(GROUND_TRUTH)
      .where('request_id', requestId)
      .first();
    if (!row) {
      return undefined;
    }
    return {
      requestId: row.request_id,
      ...(row.model_name !== null ? { modelName: row.model_name } : {}),
      value: JSON.parse(row.value),
      createdAt: Number(row.created_at),
    };
  }

  /**
   * Live figures of a model over [since, until]: requests and errors weighted
   * by 1/sample_rate (estimates of the true counts when the log is sampled),
   * latency percentiles of the successful requests with a known latency
   * (uniformly sampled, so unbiased). PostgreSQL computes the percentiles
   * with percentile_cont, other engines in JS with the same definition.
   */
  async stats(options: {
    modelName: string;
    since: number;
    until: number;
  }): Promise<ServingStats> {
    const windowSeconds = Math.max(
      (options.until - options.since) / 1000,
      Number.EPSILON,
    );
    const window = () =>
      this.db(LOG)
        .where('model_name', options.modelName)
        .where('created_at', '>=', options.since)
        .where('created_at', '<=', options.until);

    const counts: Array<{
      version: number | string | null;
      status: string;
      weight: number | string | null;
    }> = await window()
      .select(
        'version',
        'status',
        this.db.raw('sum(1.0 / sample_rate) as weight'),
      )
      .groupBy('version', 'status');

    const percentiles = await this.latencyPercentilesByVersion(window);

    const total = { requests: 0, errors: 0 };
    const byVersion = new Map<number, { requests: number; errors: number }>();
    for (const row of counts) {
      const weight = Number(row.weight ?? 0);
      const isError = row.status === 'error';
      total.requests += weight;
      total.errors += isError ? weight : 0;
      if (row.version !== null) {
        const version = Number(row.version);
        const entry = byVersion.get(version) ?? { requests: 0, errors: 0 };
        entry.requests += weight;
        entry.errors += isError ? weight : 0;
        byVersion.set(version, entry);
      }
    }
    const requests = Math.round(total.requests);
    const errors = Math.round(total.errors);
    return {
      model: options.modelName,
      windowSeconds,
      requests,
      errors,
      requestsPerSecond: total.requests / windowSeconds,
      errorRate: total.requests > 0 ? total.errors / total.requests : 0,
      latencyMs: percentiles.get(ALL) ?? {},
      byVersion: [...byVersion.entries()]
        .sort(([a], [b]) => a - b)
        .map(([version, entry]) => ({
          version,
          requests: Math.round(entry.requests),
          errors: Math.round(entry.errors),
          latencyMs: percentiles.get(version) ?? {},
        })),
    };
  }

  private async latencyPercentilesByVersion(
    window: () => Knex.QueryBuilder,
  ): Promise<Map<number | typeof ALL, Percentiles>> {
    const result = new Map<number | typeof ALL, Percentiles>();
    const okLatencies = () =>
      window().where('status', 'ok').whereNotNull('latency_ms');

    if (this.db.client.dialect === 'postgresql') {
      const select = this.db.raw(
        [0.5, 0.95, 0.99]
          .map(
            (p, i) =>
              `percentile_cont(${p}) within group (order by latency_ms) as ${
                ['p50', 'p95', 'p99'][i]
              }`,
          )
          .join(', '),
      );
      const [all] = await okLatencies().select(select);
      const versions = await okLatencies()
        .whereNotNull('version')
        .select('version', select)
        .groupBy('version');
      const toPercentiles = (row: any): Percentiles =>
        row && row.p50 !== null
          ? { p50: Number(row.p50), p95: Number(row.p95), p99: Number(row.p99) }
          : {};
      result.set(ALL, toPercentiles(all));
      for (const row of versions) {
        result.set(Number(row.version), toPercentiles(row));
      }
      return result;
    }

    const rows: Array<{ version: number | null; latency_ms: number | string }> =
      await okLatencies().select('version', 'latency_ms');
    const byVersion = new Map<number, number[]>();
    const all: number[] = [];
    for (const row of rows) {
      const latency = Number(row.latency_ms);
      all.push(latency);
      if (row.version !== null) {
        const version = Number(row.version);
        let list = byVersion.get(version);
        if (!list) {
          list = [];
          byVersion.set(version, list);
        }
        list.push(latency);
      }
    }
    result.set(ALL, latencyPercentiles(all));
    for (const [version, list] of byVersion) {
      result.set(version, latencyPercentiles(list));
    }
    return result;
  }

  /**
   * The requests of a window (see `LogWindowQuery`) over [since, until],
   * both inclusive, counted and timed as `stats()` does.
   */
  async windowSummary(query: LogWindowQuery): Promise<LogWindowSummary> {
    const window = () =>
      windowRows(this.db(LOG), query, '')
        .where('created_at', '>=', query.since)
        .where('created_at', '<=', query.until);

    // Errors are the server's (5xx, or unknown for KServe): a request the
    // caller got wrong (4xx) says nothing about the version that refused it.
    const [totals]: Array<{
      weight: number | string | null;
      errors: number | string | null;
    }> = await window().select(
      this.db.raw('sum(1.0 / sample_rate) as weight'),
      this.db.raw(
        "sum(case when status = 'error' and (http_status is null or http_status >= 500) then 1.0 / sample_rate else 0 end) as errors",
      ),
    );
    return {
      requests: Number(totals?.weight ?? 0),
      errors: Number(totals?.errors ?? 0),
      latencyMs:
        (await this.latencyPercentilesByVersion(window)).get(ALL) ?? {},
    };
  }

  /**
   * The newest `limit` successful requests of a window that have ground
   * truth: their logged outputs and the truth, both parsed.
   */
  async outputsWithGroundTruth(
    query: LogWindowQuery,
    options: { limit: number },
  ): Promise<Array<{ outputs: unknown; groundTruth: unknown }>> {
    const rows: Array<{ outputs: string; gt_value: string }> = await this.db({
      l: LOG,
    })
      .join({ g: GROUND_TRUTH }, 'g.request_id', 'l.request_id')
      .modify(q => windowRows(q, query, 'l.'))
      .where('l.created_at', '>=', query.since)
      .where('l.created_at', '<=', query.until)
      .where('l.status', 'ok')
      .whereNotNull('l.outputs')
      .select('l.outputs', { gt_value: 'g.value' })
      .orderBy('l.created_at', 'desc')
      .orderBy('l.id', 'desc')
      .limit(options.limit);
    return rows.map(row => ({
      outputs: parseJson(row.outputs),
      groundTruth: parseJson(row.gt_value),
    }));
  }

  /**
   * Requests logged, both successfully, on two endpoints of a model within
   * [since, until] (e.g. stable and its shadow copy): the newest `limit`
   * pairs of their parsed outputs, in the order of `endpoints`.
   */
  async pairedOutputs(query: {
    modelName: string;
    endpoints: [string, string];
    since: number;
    until: number;
    limit: number;
  }): Promise<Array<[unknown, unknown]>> {
    const [first, second] = query.endpoints;
    const rows: Array<{ first_outputs: string; second_outputs: string }> =
      await this.db({ s: LOG })
        .join({ h: LOG }, join =>
          join
            .on('h.request_id', '=', 's.request_id')
            .andOn('h.model_name', '=', 's.model_name'),
        )
        .where('s.model_name', query.modelName)
        .where('s.endpoint', first)
        .where('h.endpoint', second)
        .where('s.status', 'ok')
        .where('h.status', 'ok')
        .whereNotNull('s.outputs')
        .whereNotNull('h.outputs')
        .whereBetween('s.created_at', [query.since, query.until])
        .whereBetween('h.created_at', [query.since, query.until])
        .select({ first_outputs: 's.outputs', second_outputs: 'h.outputs' })
        .orderBy('s.created_at', 'desc')
        .orderBy('s.id', 'desc')
        .limit(query.limit);
    return rows.map(row => [
      parseJson(row.first_outputs),
      parseJson(row.second_outputs),
    ]);
  }
}

/** A window's rows: the model's, by endpoint, version and source. */
function windowRows(
  query: Knex.QueryBuilder,
  window: LogWindowQuery,
  prefix: '' | 'l.',
): Knex.QueryBuilder {
  query.where(`${prefix}model_name`, window.modelName);
  if (window.endpoints) query.whereIn(`${prefix}endpoint`, window.endpoints);
  if (window.versions) query.whereIn(`${prefix}version`, window.versions);
  if (window.source) query.where(`${prefix}source`, window.source);
  return query;
}

function dedupeLast<T extends { requestId: string }>(items: T[]): T[] {
  const byId = new Map<string, T>();
  for (const item of items) {
    byId.set(item.requestId, item);
  }
  return [...byId.values()];
}

function partRow(part: KServeLogPartRow): NewInferenceLogRow {
  const isRequest = part.kind === 'request';
  return {
    requestId: part.requestId,
    modelName: part.modelName,
    version: part.version,
    route: part.route,
    source: 'kserve',
    endpoint: part.endpoint,
    status: part.error !== undefined ? 'error' : 'ok',
    sampleRate: part.sampleRate,
    inputs: isRequest ? part.payload ?? 'null' : undefined,
    outputs: isRequest ? undefined : part.payload ?? 'null',
    error: part.error,
    createdAt: part.timestamp,
  };
}

function toDbRow(row: NewInferenceLogRow) {
  return {
    request_id: row.requestId,
    model_name: row.modelName,
    version: row.version ?? null,
    route: row.route,
    source: row.source,
    endpoint: row.endpoint ?? null,
    status: row.status,
    http_status: row.httpStatus ?? null,
    latency_ms: row.latencyMs ?? null,
    sample_rate: row.sampleRate,
    inputs: row.inputs ?? null,
    outputs: row.outputs ?? null,
    error: row.error ?? null,
    created_at: row.createdAt,
  };
}

function parseJson(text: string | null): unknown {
  if (text === null) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toRecord(row: JoinedRow): InferenceLogRecord {
  const optional = <K extends string, V>(key: K, value: V | null | undefined) =>
    value === null || value === undefined
      ? {}
      : ({ [key]: value } as Record<K, V>);
  return {
    id: Number(row.id),
    requestId: row.request_id,
    modelName: row.model_name,
    ...optional('version', row.version === null ? null : Number(row.version)),
    route: row.route,
    source: row.source as InferenceSource,
    ...optional('endpoint', row.endpoint),
    status: row.status as 'ok' | 'error',
    ...optional(
      'httpStatus',
      row.http_status === null ? null : Number(row.http_status),
    ),
    ...optional(
      'latencyMs',
      row.latency_ms === null ? null : Number(row.latency_ms),
    ),
    sampleRate: Number(row.sample_rate),
    ...optional('inputs', parseJson(row.inputs)),
    ...optional('outputs', parseJson(row.outputs)),
    ...optional('error', row.error),
    createdAt: Number(row.created_at),
    ...(row.gt_value !== null && row.gt_value !== undefined
      ? {
          groundTruth: {
            value: JSON.parse(row.gt_value),
            createdAt: Number(row.gt_created_at),
          },
        }
      : {}),
  };
}
