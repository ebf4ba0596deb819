import { Knex } from 'knex';
import { isUniqueViolation } from '../lib/database';
import type { FilterClause, OrderByClause } from '../lib/searchFilter';
import { TrackingStore } from './TrackingStore';

const MODELS = 'tracking_logged_models';
const TAGS = 'tracking_logged_model_tags';
const PARAMS = 'tracking_logged_model_params';
const OUTPUTS = 'tracking_run_outputs';
const IN_CHUNK = 500;

export const LOGGED_MODEL_STATUSES = [
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** An MLflow 3 logged model, as stored and as the service returns it. */
export interface LoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  modelType?: string;
  sourceRunId?: string;
  status: LoggedModelStatus;
  statusMessage?: string;
  artifactLocation: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  tags: Record<string, string>;
  params: Record<string, string>;
}

interface ModelRow {
  model_id: string;
  experiment_id: number | string;
  name: string;
  model_type: string | null;
  source_run_id: string | null;
  status: string;
  status_message: string | null;
  artifact_location: string;
  creation_timestamp: number | string;
  last_updated_timestamp: number | string;
}

/** Columns a logged-model search may name, by attribute. */
const COLUMNS: Record<string, string> = {
  model_id: 'm.model_id',
  name: 'm.name',
  model_type: 'm.model_type',
  status: 'm.status',
  source_run_id: 'm.source_run_id',
  creation_timestamp: 'm.creation_timestamp',
  creation_time: 'm.creation_timestamp',
  last_updated_timestamp: 'm.last_updated_timestamp',
};

/** Logged models, their tags and params, and run outputs (knex only here). */
export class LoggedModelStore {
  /** Filter clauses become SQL as in run searches. */
  private readonly clauses: TrackingStore;

  constructor(private readonly db: Knex | Knex.Transaction) {
    this.clauses = new TrackingStore(db);
  }

  async transaction<T>(fn: (store: LoggedModelStore) => Promise<T>) {
    return this.db.transaction(trx => fn(new LoggedModelStore(trx)));
  }

  private get postgres(): boolean {
    return String(this.db.client.config.client).startsWith('pg');
  }

  async insert(model: LoggedModel): Promise<void> {
    await this.db<ModelRow>(MODELS).insert({
      model_id: model.modelId,
      experiment_id: Number(model.experimentId),
      name: model.name,
      model_type: model.modelType ?? null,
      source_run_id: model.sourceRunId ?? null,
      status: model.status,
      status_message: model.statusMessage ?? null,
      artifact_location: model.artifactLocation,
      creation_timestamp: model.creationTimestamp,
      last_updated_timestamp: model.lastUpdatedTimestamp,
    });
    await this.upsertTags(model.modelId, model.tags);
    await this.insertParams(model.modelId, model.params);
  }

  async get(
    modelId: string,
    options?: { forUpdate?: boolean },
  ): Promise<LoggedModel | undefined> {
    const query = this.db<ModelRow>(MODELS)
      .where({ model_id: modelId })
      .first();
    if (options?.forUpdate && this.postgres) query.forUpdate();
    const row = await query;
    if (!row) return undefined;
    return (await this.withDetails([row]))[0];
  }

  async update(
    modelId: string,
    patch: { status?: LoggedModelStatus; updatedAt: number },
  ): Promise<void> {
    await this.db(MODELS)
      .where({ model_id: modelId })
      .update({
        ...(patch.status ? { status: patch.status } : {}),
        last_updated_timestamp: patch.updatedAt,
      });
  }

  async delete(modelId: string): Promise<void> {
    // Children first: SQLite enforces the foreign keys only when asked to.
    await this.db(OUTPUTS).where({ model_id: modelId }).delete();
    await this.db(TAGS).where({ model_id: modelId }).delete();
    await this.db(PARAMS).where({ model_id: modelId }).delete();
    await this.db(MODELS).where({ model_id: modelId }).delete();
  }

  async upsertTags(modelId: string, tags: Record<string, string>) {
    const rows = Object.entries(tags).map(([key, value]) => ({
      model_id: modelId,
      key,
      value,
    }));
    if (rows.length === 0) return;
    await this.db(TAGS).insert(rows).onConflict(['model_id', 'key']).merge();
  }

  /** Whether the tag existed. */
  async deleteTag(modelId: string, key: string): Promise<boolean> {
    return (await this.db(TAGS).where({ model_id: modelId, key }).delete()) > 0;
  }

  async getParams(modelId: string): Promise<Record<string, string>> {
    const rows = await this.db(PARAMS).where({ model_id: modelId });
    return Object.fromEntries(rows.map(r => [r.key, r.value]));
  }

  /** New params only; the caller has checked existing keys keep their values. */
  async insertParams(modelId: string, params: Record<string, string>) {
    const rows = Object.entries(params).map(([key, value]) => ({
      model_id: modelId,
      key,
      value,
    }));
    if (rows.length === 0) return;
    await this.db(PARAMS).insert(rows).onConflict(['model_id', 'key']).ignore();
  }

  async addRunOutputs(
    runId: string,
    outputs: Array<{ modelId: string; step: number }>,
  ): Promise<void> {
    const rows = outputs.map(o => ({
      run_id: runId,
      model_id: o.modelId,
      step: o.step,
    }));
    if (rows.length === 0) return;
    try {
      await this.db(OUTPUTS)
        .insert(rows)
        .onConflict(['run_id', 'model_id'])
        .merge();
    } catch (error) {
      if (isUniqueViolation(error)) return;
      throw error;
    }
  }

  async runOutputs(
    runId: string,
  ): Promise<Array<{ modelId: string; step: number }>> {
    const rows = await this.db(OUTPUTS)
      .where({ run_id: runId })
      .orderBy('model_id');
    return rows.map(r => ({ modelId: r.model_id, step: Number(r.step) }));
  }

  async search(query: {
    experimentIds: string[];
    clauses: FilterClause[];
    orderBy: OrderByClause[];
    offset: number;
    limit: number;
  }): Promise<LoggedModel[]> {
    const builder = this.db<ModelRow>(`${MODELS} as m`)
      .select('m.*')
      .whereIn('m.experiment_id', query.experimentIds.map(Number));
    for (const clause of query.clauses) {
      if (clause.type === 'attribute') {
        this.clauses.applyAttributeClause(builder, COLUMNS[clause.key], clause);
      } else {
        const table = clause.type === 'param' ? PARAMS : TAGS;
        builder.whereExists(sub => {
          sub
            .select(this.db.raw('1'))
            .from(`${table} as t`)
            .whereRaw('?? = ??', ['t.model_id', 'm.model_id'])
            .andWhere('t.key', clause.key);
          this.clauses.applyAttributeClause(sub, 't.value', clause);
        });
      }
    }
    for (const order of query.orderBy) {
      builder.orderBy(COLUMNS[order.key], order.ascending ? 'asc' : 'desc');
    }
    builder.orderBy('m.creation_timestamp', 'desc').orderBy('m.model_id');
    const rows = await builder.offset(query.offset).limit(query.limit);
    return this.withDetails(rows);
  }

  private async withDetails(rows: ModelRow[]): Promise<LoggedModel[]> {
    const ids = rows.map(r => r.model_id);
    const tags = new Map<string, Record<string, string>>();
    const params = new Map<string, Record<string, string>>();
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      for (const [table, into] of [
        [TAGS, tags],
        [PARAMS, params],
      ] as const) {
        for (const row of await this.db(table).whereIn('model_id', chunk)) {
          const record = into.get(row.model_id) ?? {};
          record[row.key] = row.value;
          into.set(row.model_id, record);
        }
      }
    }
    return rows.map(row => ({
      modelId: row.model_id,
      experimentId: String(row.experiment_id),
      name: row.name,
      ...(row.model_type !== null ? { modelType: row.model_type } : {}),
      ...(row.source_run_id !== null ? { sourceRunId: row.source_run_id } : {}),
      status: row.status as LoggedModelStatus,
      ...(row.status_message !== null
        ? { statusMessage: row.status_message }
        : {}),
      artifactLocation: row.artifact_location,
      creationTimestamp: Number(row.creation_timestamp),
      lastUpdatedTimestamp: Number(row.last_updated_timestamp),
      tags: tags.get(row.model_id) ?? {},
      params: params.get(row.model_id) ?? {},
    }));
  }
}
