import { Knex } from 'knex';
import { isUniqueViolation } from '../lib/database';
import type {
  Experiment,
  LifecycleStage,
  MetricPoint,
  Run,
  RunStatus,
} from '@loopline/mlops-common';
import type {
  FilterClause,
  NumericComparator,
  OrderByClause,
  StringComparator,
} from '../lib/searchFilter';

const EXPERIMENTS = 'tracking_experiments';
const EXPERIMENT_TAGS = 'tracking_experiment_tags';
const RUNS = 'tracking_runs';
const PARAMS = 'tracking_params';
const TAGS = 'tracking_tags';
const METRICS = 'tracking_metrics';
const LATEST_METRICS = 'tracking_latest_metrics';

/**
 * Rows per INSERT statement. SQLite before 3.32 allows 999 bound variables
 * per statement; 100 rows of at most 6 columns stays well under it.
 * PostgreSQL allows 65535, so a whole batch of 1000 goes in one statement.
 */
const SQLITE_INSERT_CHUNK = 100;
const POSTGRES_INSERT_CHUNK = 1000;
/** Values per `IN (...)` list, under the same limit. */
const IN_CHUNK = 500;

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

interface ExperimentRow {
  experiment_id: number | string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number | string;
  last_update_time: number | string;
  deleted_time: number | string | null;
}

interface RunRow {
  run_id: string;
  experiment_id: number | string;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number | string;
  end_time: number | string | null;
  artifact_uri: string;
  lifecycle_stage: string;
  deleted_time: number | string | null;
}

interface MetricRow {
  run_id: string;
  key: string;
  step: number | string;
  timestamp: number | string;
  value: number | string;
  is_nan: boolean | number;
}

interface KeyValueRow {
  run_id: string;
  key: string;
  value: string;
}

/** A run without its params, tags and metrics. */
export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  deletedTime?: number;
}

export interface ExperimentInfo extends Omit<Experiment, 'tags'> {
  deletedTime?: number;
}

export interface NewRun {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  artifactUri: string;
}

export interface RunPatch {
  runName?: string;
  status?: RunStatus;
  endTime?: number;
  lifecycleStage?: LifecycleStage;
  deletedTime?: number | null;
}

export interface ExperimentPatch {
  name?: string;
  artifactLocation?: string;
  lifecycleStage?: LifecycleStage;
  lastUpdateTime?: number;
  deletedTime?: number | null;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** Thrown by inserts that hit a unique key; the service turns it into a ConflictError. */
export class UniqueViolationError extends Error {
  constructor(cause: unknown) {
    super(String((cause as Error)?.message ?? cause));
    this.name = 'UniqueViolationError';
  }
}

/**
 * Experiments, runs, params, tags and metrics in the database (knex only; the
 * rules live in TrackingService). `transaction` hands out a store bound to one
 * transaction.
 */
export class TrackingStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** Runs `fn` in one transaction; everything it does commits or rolls back together. */
  async transaction<T>(fn: (store: TrackingStore) => Promise<T>): Promise<T> {
    return this.db.transaction(trx => fn(new TrackingStore(trx)));
  }

  private get isPostgres(): boolean {
    return String(this.db.client.config.client).startsWith('pg');
  }

  private get insertChunk(): number {
    return this.isPostgres ? POSTGRES_INSERT_CHUNK : SQLITE_INSERT_CHUNK;
  }

  // -------------------------------------------------------------------------
  // Experiments

  /** Inserts an experiment and returns its id. */
  async insertExperiment(experiment: {
    name: string;
    artifactLocation: string;
    time: number;
  }): Promise<string> {
    try {
      const [row] = await this.db<ExperimentRow>(EXPERIMENTS)
        .insert({
          name: experiment.name,
          artifact_location: experiment.artifactLocation,
          lifecycle_stage: 'active',
          creation_time: experiment.time,
          last_update_time: experiment.time,
        })
        .returning('experiment_id');
      const id =
        typeof row === 'object' ? (row as ExperimentRow).experiment_id : row;
      return String(id);
    } catch (error) {
      throw isUniqueViolation(error) ? new UniqueViolationError(error) : error;
    }
  }

  async getExperiment(
    experimentId: string,
    options?: { forUpdate?: boolean },
  ): Promise<ExperimentInfo | undefined> {
    const query = this.db<ExperimentRow>(EXPERIMENTS)
      .where('experiment_id', Number(experimentId))
      .first();
    if (options?.forUpdate) query.forUpdate();
    const row = await query;
    return row ? toExperimentInfo(row) : undefined;
  }

  async getExperimentByName(name: string): Promise<ExperimentInfo | undefined> {
    const row = await this.db<ExperimentRow>(EXPERIMENTS)
      .where('name', name)
      .first();
    return row ? toExperimentInfo(row) : undefined;
  }

  async updateExperiment(
    experimentId: string,
    patch: ExperimentPatch,
  ): Promise<void> {
    const update: Partial<ExperimentRow> = {};
    if (patch.name !== undefined) update.name = patch.name;
    if (patch.artifactLocation !== undefined)
      update.artifact_location = patch.artifactLocation;
    if (patch.lifecycleStage !== undefined)
      update.lifecycle_stage = patch.lifecycleStage;
    if (patch.lastUpdateTime !== undefined)
      update.last_update_time = patch.lastUpdateTime;
    if (patch.deletedTime !== undefined)
      update.deleted_time = patch.deletedTime;
    try {
      await this.db<ExperimentRow>(EXPERIMENTS)
        .where('experiment_id', Number(experimentId))
        .update(update);
    } catch (error) {
      throw isUniqueViolation(error) ? new UniqueViolationError(error) : error;
    }
  }

  /** Tags per experiment id. */
  async getExperimentTags(
    experimentIds: string[],
  ): Promise<Map<string, Record<string, string>>> {
    const result = new Map<string, Record<string, string>>(
      experimentIds.map(id => [id, {}]),
    );
    for (const ids of chunk(experimentIds, IN_CHUNK)) {
      const rows = await this.db(EXPERIMENT_TAGS)
        .whereIn('experiment_id', ids.map(Number))
        .orderBy('key');
      for (const row of rows) {
        result.get(String(row.experiment_id))![row.key] = row.value;
      }
    }
    return result;
  }

  async upsertExperimentTags(
    experimentId: string,
    tags: KeyValue[],
  ): Promise<void> {
    for (const rows of chunk(tags, this.insertChunk)) {
      await this.db(EXPERIMENT_TAGS)
        .insert(
          rows.map(tag => ({
            experiment_id: Number(experimentId),
            key: tag.key,
            value: tag.value,
          })),
        )
        .onConflict(['experiment_id', 'key'])
        .merge(['value']);
    }
  }

  /**
   * Ids of the active experiments named `name`, or tagged `tagKey` = `name`.
   */
  async findExperimentIdsByNameOrTag(
    name: string,
    tagKey: string,
  ): Promise<string[]> {
    const rows = await this.db<ExperimentRow>(`${EXPERIMENTS} as e`)
      .select('e.experiment_id')
      .where('e.lifecycle_stage', 'active')
      .where(q =>
        q
          .where('e.name', name)
          .orWhereExists(sub =>
            sub
              .select(this.db.raw('1'))
              .from(`${EXPERIMENT_TAGS} as t`)
              .whereRaw('?? = ??', ['t.experiment_id', 'e.experiment_id'])
              .where('t.key', tagKey)
              .where('t.value', name),
          ),
      )
      .orderBy('e.experiment_id');
    return rows.map(row => String(row.experiment_id));
  }

  /** One page of experiments (`limit + 1` rows are read to tell whether more follow). */
  async searchExperiments(options: {
    clauses: FilterClause[];
    orderBy: OrderByClause[];
    viewType: ViewType;
    offset: number;
    limit: number;
  }): Promise<ExperimentInfo[]> {
    const query = this.db<ExperimentRow>(`${EXPERIMENTS} as e`).select('e.*');
    applyViewType(query, 'e', options.viewType);

    for (const clause of options.clauses) {
      if (clause.type === 'attribute') {
        this.applyAttributeClause(query, `e.${clause.key}`, clause);
      } else if (clause.type === 'tag' && clause.valueType === 'string') {
        const { key, comparator, value } = clause;
        query.whereExists(sub => {
          sub
            .select(this.db.raw('1'))
            .from(`${EXPERIMENT_TAGS} as t`)
            .whereRaw('?? = ??', ['t.experiment_id', 'e.experiment_id'])
            .where('t.key', key);
          this.applyStringComparison(sub, 't.value', comparator, value);
        });
      }
    }

    let orderedById = false;
    options.orderBy.forEach((clause, index) => {
      const direction = clause.ascending ? 'asc' : 'desc';
      if (clause.type === 'attribute') {
        query.orderBy(`e.${clause.key}`, direction);
        orderedById ||= clause.key === 'experiment_id';
      } else {
        const alias = `ot${index}`;
        query.leftJoin(`${EXPERIMENT_TAGS} as ${alias}`, join =>
          join
            .on(`${alias}.experiment_id`, 'e.experiment_id')
            .andOnVal(`${alias}.key`, '=', clause.key),
        );
        query.orderByRaw(`CASE WHEN ?? IS NULL THEN 1 ELSE 0 END`, [
          `${alias}.value`,
        ]);
        query.orderBy(`${alias}.value`, direction);
      }
    });
    if (!orderedById) query.orderBy('e.experiment_id', 'asc');

    const rows = await query.offset(options.offset).limit(options.limit);
    return rows.map(toExperimentInfo);
  }

  // -------------------------------------------------------------------------
  // Runs

  async insertRun(run: NewRun): Promise<void> {
    try {
      await this.db<RunRow>(RUNS).insert({
        run_id: run.runId,
        experiment_id: Number(run.experimentId),
        run_name: run.runName,
        user_id: run.userId,
        status: run.status,
        start_time: run.startTime,
        end_time: null,
        artifact_uri: run.artifactUri,
        lifecycle_stage: 'active',
        deleted_time: null,
      });
    } catch (error) {
      throw isUniqueViolation(error) ? new UniqueViolationError(error) : error;
    }
  }

  /**
   * A run's row; with `forUpdate`, locked until the transaction ends (on
   * PostgreSQL; SQLite serialises writers anyway), so that concurrent batches
   * to one run apply one after the other.
   */
  async getRunInfo(
    runId: string,
    options?: { forUpdate?: boolean },
  ): Promise<RunInfo | undefined> {
    const query = this.db<RunRow>(RUNS).where('run_id', runId).first();
    if (options?.forUpdate) query.forUpdate();
    const row = await query;
    return row ? toRunInfo(row) : undefined;
  }

  /** Rows of the given runs that exist, in no particular order. */
  async getRunInfos(runIds: string[]): Promise<RunInfo[]> {
    const result: RunInfo[] = [];
    for (const ids of chunk(unique(runIds), IN_CHUNK)) {
      const rows = await this.db<RunRow>(RUNS).whereIn('run_id', ids);
      result.push(...rows.map(toRunInfo));
    }
    return result;
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    const update: Partial<RunRow> = {};
    if (patch.runName !== undefined) update.run_name = patch.runName;
    if (patch.status !== undefined) update.status = patch.status;
    if (patch.endTime !== undefined) update.end_time = patch.endTime;
    if (patch.lifecycleStage !== undefined)
      update.lifecycle_stage = patch.lifecycleStage;
    if (patch.deletedTime !== undefined)
      update.deleted_time = patch.deletedTime;
    if (Object.keys(update).length === 0) return;
    await this.db<RunRow>(RUNS).where('run_id', runId).update(update);
  }

  /** Marks the active runs of an experiment deleted at `time`. */
  async deleteRunsOfExperiment(experimentId: string, time: number) {
    await this.db<RunRow>(RUNS)
      .where('experiment_id', Number(experimentId))
      .where('lifecycle_stage', 'active')
      .update({ lifecycle_stage: 'deleted', deleted_time: time });
  }

  /** Restores the runs of an experiment deleted at or after `since`. */
  async restoreRunsOfExperiment(experimentId: string, since: number) {
    await this.db<RunRow>(RUNS)
      .where('experiment_id', Number(experimentId))
      .where('lifecycle_stage', 'deleted')
      .where('deleted_time', '>=', since)
      .update({ lifecycle_stage: 'active', deleted_time: null });
  }

  /** Full runs (latest metrics, params, tags) for the given infos, in the same order. */
  async withDetails(infos: RunInfo[]): Promise<Run[]> {
    const runIds = infos.map(info => info.runId);
    const params = new Map<string, Record<string, string>>();
    const tags = new Map<string, Record<string, string>>();
    const metrics = new Map<string, MetricPoint[]>();
    for (const id of runIds) {
      params.set(id, {});
      tags.set(id, {});
      metrics.set(id, []);
    }
    for (const ids of chunk(runIds, IN_CHUNK)) {
      const [paramRows, tagRows, metricRows] = await Promise.all([
        this.db<KeyValueRow>(PARAMS).whereIn('run_id', ids).orderBy('key'),
        this.db<KeyValueRow>(TAGS).whereIn('run_id', ids).orderBy('key'),
        this.db<MetricRow>(LATEST_METRICS)
          .whereIn('run_id', ids)
          .orderBy('key'),
      ]);
      for (const row of paramRows) params.get(row.run_id)![row.key] = row.value;
      for (const row of tagRows) tags.get(row.run_id)![row.key] = row.value;
      for (const row of metricRows)
        metrics.get(row.run_id)!.push(toMetricPoint(row));
    }
    return infos.map(info => {
      const { deletedTime: _deletedTime, ...run } = info;
      return {
        ...run,
        metrics: metrics.get(info.runId)!,
        params: params.get(info.runId)!,
        tags: tags.get(info.runId)!,
      };
    });
  }

  /** One page of runs (`limit + 1` rows are read to tell whether more follow). */
  async searchRuns(options: {
    experimentIds: string[];
    clauses: FilterClause[];
    orderBy: OrderByClause[];
    viewType: ViewType;
    offset: number;
    limit: number;
  }): Promise<RunInfo[]> {
    const db = this.db;
    const query = db<RunRow>(`${RUNS} as r`)
      .select('r.*')
      .whereIn('r.experiment_id', options.experimentIds.map(Number));
    applyViewType(query, 'r', options.viewType);

    for (const clause of options.clauses) {
      if (clause.type === 'attribute') {
        this.applyAttributeClause(query, `r.${clause.key}`, clause);
      } else if (clause.type === 'metric' && clause.valueType === 'numeric') {
        const { key, comparator, value } = clause;
        query.whereExists(sub => {
          sub
            .select(db.raw('1'))
            .from(`${LATEST_METRICS} as m`)
            .whereRaw('?? = ??', ['m.run_id', 'r.run_id'])
            .where('m.key', key);
          if (comparator === '!=') {
            // NaN differs from every number.
            sub.where(b =>
              b.where('m.is_nan', true).orWhere('m.value', '<>', value),
            );
          } else {
            sub.where('m.is_nan', false).where('m.value', comparator, value);
          }
        });
      } else if (clause.valueType === 'string') {
        const table = clause.type === 'param' ? PARAMS : TAGS;
        const { key, comparator, value } = clause;
        query.whereExists(sub => {
          sub
            .select(db.raw('1'))
            .from(`${table} as kv`)
            .whereRaw('?? = ??', ['kv.run_id', 'r.run_id'])
            .where('kv.key', key);
          this.applyStringComparison(sub, 'kv.value', comparator, value);
        });
      }
    }

    let orderedByStartTime = false;
    options.orderBy.forEach((clause, index) => {
      const direction = clause.ascending ? 'asc' : 'desc';
      if (clause.type === 'attribute') {
        const column = `r.${clause.key}`;
        if (clause.key === 'end_time') {
          query.orderByRaw('CASE WHEN ?? IS NULL THEN 1 ELSE 0 END', [column]);
        }
        query.orderBy(column, direction);
        orderedByStartTime ||= clause.key === 'start_time';
        return;
      }
      const alias = `o${index}`;
      const table = {
        metric: LATEST_METRICS,
        param: PARAMS,
        tag: TAGS,
      }[clause.type];
      query.leftJoin(`${table} as ${alias}`, join =>
        join
          .on(`${alias}.run_id`, 'r.run_id')
          .andOnVal(`${alias}.key`, '=', clause.key),
      );
      if (clause.type === 'metric') {
        // numbers first, then NaN, then runs without the metric
        query.orderByRaw(
          `CASE WHEN ?? IS NULL THEN 2 WHEN ?? THEN 1 ELSE 0 END`,
          [`${alias}.run_id`, `${alias}.is_nan`],
        );
      } else {
        query.orderByRaw('CASE WHEN ?? IS NULL THEN 1 ELSE 0 END', [
          `${alias}.run_id`,
        ]);
      }
      query.orderBy(`${alias}.value`, direction);
    });
    if (!orderedByStartTime) query.orderBy('r.start_time', 'desc');
    query.orderBy('r.run_id', 'asc');

    const rows = await query.offset(options.offset).limit(options.limit);
    return rows.map(toRunInfo);
  }

  // -------------------------------------------------------------------------
  // Params, tags, metrics

  async getParams(runId: string, keys: string[]): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    for (const part of chunk(unique(keys), IN_CHUNK)) {
      const rows = await this.db<KeyValueRow>(PARAMS)
        .where('run_id', runId)
        .whereIn('key', part);
      for (const row of rows) result.set(row.key, row.value);
    }
    return result;
  }

  async insertParams(runId: string, params: KeyValue[]): Promise<void> {
    for (const rows of chunk(params, this.insertChunk)) {
      try {
        await this.db(PARAMS).insert(
          rows.map(p => ({ run_id: runId, key: p.key, value: p.value })),
        );
      } catch (error) {
        throw isUniqueViolation(error)
          ? new UniqueViolationError(error)
          : error;
      }
    }
  }

  async upsertTags(runId: string, tags: KeyValue[]): Promise<void> {
    for (const rows of chunk(tags, this.insertChunk)) {
      await this.db(TAGS)
        .insert(rows.map(t => ({ run_id: runId, key: t.key, value: t.value })))
        .onConflict(['run_id', 'key'])
        .merge(['value']);
    }
  }

  /** Deletes a run tag; false when there was none. */
  async deleteTag(runId: string, key: string): Promise<boolean> {
    const count = await this.db(TAGS).where({ run_id: runId, key }).delete();
    return count > 0;
  }

  /** Appends points to the history; a point identical to a stored one is skipped. */
  async insertMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    for (const rows of chunk(points, this.insertChunk)) {
      await this.db(METRICS)
        .insert(rows.map(point => toMetricRow(runId, point)))
        .onConflict(['run_id', 'key', 'step', 'timestamp', 'value', 'is_nan'])
        .ignore();
    }
  }

  /** The stored latest point of each of `keys` that has one. */
  async getLatestMetrics(
    runId: string,
    keys: string[],
  ): Promise<Map<string, MetricPoint>> {
    const result = new Map<string, MetricPoint>();
    for (const part of chunk(unique(keys), IN_CHUNK)) {
      const rows = await this.db<MetricRow>(LATEST_METRICS)
        .where('run_id', runId)
        .whereIn('key', part);
      for (const row of rows) result.set(row.key, toMetricPoint(row));
    }
    return result;
  }

  async upsertLatestMetrics(
    runId: string,
    points: MetricPoint[],
  ): Promise<void> {
    for (const rows of chunk(points, this.insertChunk)) {
      await this.db(LATEST_METRICS)
        .insert(rows.map(point => toMetricRow(runId, point)))
        .onConflict(['run_id', 'key'])
        .merge(['step', 'timestamp', 'value', 'is_nan']);
    }
  }

  /** History of one metric by step, then timestamp (then value), straight from the primary key. */
  async getMetricHistory(options: {
    runId: string;
    key: string;
    offset: number;
    limit?: number;
  }): Promise<MetricPoint[]> {
    const query = this.db<MetricRow>(METRICS)
      .where('run_id', options.runId)
      .where('key', options.key)
      .orderBy([
        { column: 'step', order: 'asc' },
        { column: 'timestamp', order: 'asc' },
        { column: 'value', order: 'asc' },
        { column: 'is_nan', order: 'asc' },
      ]);
    if (options.offset > 0) query.offset(options.offset);
    if (options.limit !== undefined) query.limit(options.limit);
    const rows = await query;
    return rows.map(toMetricPoint);
  }

  // -------------------------------------------------------------------------
  // Filter helpers

  /** One filter clause on `column` (the logged-model store shares it). */
  applyAttributeClause(
    query: Knex.QueryBuilder,
    column: string,
    clause: FilterClause,
  ) {
    if (clause.valueType === 'numeric') {
      applyIntegerComparison(query, column, clause.comparator, clause.value);
    } else if (clause.valueType === 'list') {
      if (clause.comparator === 'IN') {
        query.whereIn(column, clause.value);
      } else {
        query.whereNotIn(column, clause.value);
      }
    } else {
      this.applyStringComparison(
        query,
        column,
        clause.comparator,
        clause.value,
      );
    }
  }

  /**
   * `=`, `!=`, LIKE (case-sensitive) and ILIKE (case-insensitive); `%` and `_`
   * are the wildcards, with no escape character, on both engines.
   */
  private applyStringComparison(
    query: Knex.QueryBuilder,
    column: string,
    comparator: StringComparator,
    value: string,
  ) {
    switch (comparator) {
      case '=':
        query.where(column, value);
        return;
      case '!=':
        query.where(column, '<>', value);
        return;
      case 'LIKE':
        if (this.isPostgres) {
          query.whereRaw(`?? LIKE ? ESCAPE ''`, [column, value]);
        } else {
          // SQLite's LIKE ignores case; GLOB does not.
          query.whereRaw('?? GLOB ?', [column, likeToGlob(value)]);
        }
        return;
      case 'ILIKE':
        if (this.isPostgres) {
          query.whereRaw(`?? ILIKE ? ESCAPE ''`, [column, value]);
        } else {
          query.whereRaw('?? LIKE ?', [column, value]);
        }
        return;
      default:
        throw new Error(`unknown comparator ${comparator}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * Compares a bigint column with any number. PostgreSQL would reject a
 * fractional value bound to a bigint, so the comparison is rewritten to an
 * equivalent one with an integer.
 */
function applyIntegerComparison(
  query: Knex.QueryBuilder,
  column: string,
  comparator: NumericComparator,
  value: number,
) {
  if (Number.isInteger(value)) {
    query.where(column, comparator === '!=' ? '<>' : comparator, value);
    return;
  }
  switch (comparator) {
    case '=':
      query.whereRaw('1 = 0');
      return;
    case '!=':
      query.whereNotNull(column);
      return;
    case '<':
    case '<=':
      // c < 1.5  <=>  c <= 1
      query.where(column, '<=', Math.floor(value));
      return;
    default:
      // c > 1.5  <=>  c >= 2
      query.where(column, '>=', Math.ceil(value));
  }
}

function applyViewType(
  query: Knex.QueryBuilder,
  alias: string,
  viewType: ViewType,
) {
  if (viewType === 'ACTIVE_ONLY') {
    query.where(`${alias}.lifecycle_stage`, 'active');
  } else if (viewType === 'DELETED_ONLY') {
    query.where(`${alias}.lifecycle_stage`, 'deleted');
  }
}

/** A LIKE pattern as a GLOB pattern: % -> *, _ -> ?, GLOB's own wildcards literal. */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (const c of pattern) {
    if (c === '%') glob += '*';
    else if (c === '_') glob += '?';
    else if (c === '*' || c === '?' || c === '[') glob += `[${c}]`;
    else glob += c;
  }
  return glob;
}

function chunk<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    result.push(items.slice(i, i + size));
  }
  return result;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function optionalNumber(value: number | string | null): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

function toExperimentInfo(row: ExperimentRow): ExperimentInfo {
  const deletedTime = optionalNumber(row.deleted_time);
  return {
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
    ...(deletedTime !== undefined ? { deletedTime } : {}),
  };
}

function toRunInfo(row: RunRow): RunInfo {
  const endTime = optionalNumber(row.end_time);
  const deletedTime = optionalNumber(row.deleted_time);
  return {
    runId: row.run_id,
    experimentId: String(row.experiment_id),
    runName: row.run_name,
    userId: row.user_id,
    status: row.status as RunStatus,
    startTime: Number(row.start_time),
    ...(endTime !== undefined ? { endTime } : {}),
    artifactUri: row.artifact_uri,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    ...(deletedTime !== undefined ? { deletedTime } : {}),
  };
}

function toMetricRow(runId: string, point: MetricPoint): MetricRow {
  const isNan = Number.isNaN(point.value);
  return {
    run_id: runId,
    key: point.key,
    step: point.step,
    timestamp: point.timestamp,
    value: isNan ? 0 : point.value,
    is_nan: isNan,
  };
}

function toMetricPoint(row: MetricRow): MetricPoint {
  return {
    key: row.key,
    value: row.is_nan ? NaN : Number(row.value),
    timestamp: Number(row.timestamp),
    step: Number(row.step),
  };
}
