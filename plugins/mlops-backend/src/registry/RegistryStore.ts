import { Knex } from 'knex';
import { ModelStage, ModelVersionStatus } from '@loopline/mlops-common';
import type { FilterClause, OrderByClause } from '../lib/searchFilter';

const MODELS = 'registry_models';
const MODEL_TAGS = 'registry_model_tags';
const VERSIONS = 'registry_versions';
const VERSION_TAGS = 'registry_version_tags';
const ALIASES = 'registry_aliases';

/** Bindings per statement stay well under SQLite's and PostgreSQL's limits. */
const CHUNK = 500;

/** A registered model as stored (timestamps as numbers). */
export interface ModelRecord {
  name: string;
  entityRef: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  lastVersion: number;
  /** The artifact store folder of its version files: chosen at creation, kept on rename. */
  artifactFolder: string;
}

/** A version's artifact columns. */
export interface ArtifactRecord {
  path: string;
  sha256: string;
  sizeBytes: number;
  format: 'onnx';
  /** JSON of the ModelSignature. */
  signature: string;
}

/** A model version as stored (timestamps as numbers). */
export interface VersionRecord {
  name: string;
  version: number;
  description: string;
  source: string;
  runId?: string;
  modelId?: string;
  status: ModelVersionStatus;
  statusMessage?: string;
  stage: ModelStage;
  creator: string;
  createdAt: number;
  updatedAt: number;
  artifact?: ArtifactRecord;
}

interface ModelRow {
  name: string;
  entity_ref: string;
  description: string;
  created_at: number | string;
  updated_at: number | string;
  last_version: number | string;
  artifact_folder?: string | null;
}

interface VersionRow {
  model_name: string;
  version: number | string;
  description: string;
  source: string;
  run_id: string | null;
  model_id?: string | null;
  status: string;
  status_message: string | null;
  stage: string;
  creator: string;
  created_at: number | string;
  updated_at: number | string;
  artifact_path: string | null;
  artifact_sha256: string | null;
  artifact_size_bytes: number | string | null;
  artifact_format: string | null;
  signature: string | null;
}

export interface SearchQuery {
  clauses: FilterClause[];
  /** Attributes of the search schema (the columns below name them). */
  orderBy: OrderByClause[];
  offset: number;
  limit: number;
}

/** Columns the search filters and orderings may name, per field. */
export const MODEL_COLUMNS: Record<string, string> = {
  name: 'm.name',
  creation_timestamp: 'm.created_at',
  last_updated_timestamp: 'm.updated_at',
  timestamp: 'm.updated_at',
};

export const VERSION_COLUMNS: Record<string, string> = {
  name: 'v.model_name',
  run_id: 'v.run_id',
  version_number: 'v.version',
  source_path: 'v.source',
  current_stage: 'v.stage',
  creation_timestamp: 'v.created_at',
  last_updated_timestamp: 'v.updated_at',
  timestamp: 'v.updated_at',
};

function toModel(row: ModelRow): ModelRecord {
  return {
    name: row.name,
    entityRef: row.entity_ref,
    description: row.description ?? '',
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastVersion: Number(row.last_version),
    // Rows written before the column existed keep their files under the name.
    artifactFolder: row.artifact_folder || row.name,
  };
}

function toVersion(row: VersionRow): VersionRecord {
  return {
    name: row.model_name,
    version: Number(row.version),
    description: row.description ?? '',
    source: row.source,
    ...(row.run_id ? { runId: row.run_id } : {}),
    ...(row.model_id ? { modelId: row.model_id } : {}),
    status: row.status as ModelVersionStatus,
    ...(row.status_message ? { statusMessage: row.status_message } : {}),
    stage: row.stage as ModelStage,
    creator: row.creator,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    ...(row.artifact_path && row.artifact_sha256
      ? {
          artifact: {
            path: row.artifact_path,
            sha256: row.artifact_sha256,
            sizeBytes: Number(row.artifact_size_bytes),
            format: 'onnx' as const,
            signature: row.signature ?? '{"inputs":[],"outputs":[]}',
          },
        }
      : {}),
  };
}

function chunks<T>(items: T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    result.push(items.slice(i, i + CHUNK));
  }
  return result;
}

/** LIKE pattern → GLOB pattern, for a case-sensitive LIKE on SQLite. */
function likeToGlob(pattern: string): string {
  let glob = '';
  for (const c of pattern) {
    if (c === '%') glob += '*';
    else if (c === '_') glob += '?';
    else if (c === '*' || c === '?' || c === '[') glob += `[${c}]`;
    else glob += c;
  }
  return glob;
}

/**
 * The registry's tables, through knex only. Methods that change data take
 * the caller's transaction, so that the service can group them (and the
 * audit entry) into one commit.
 */
export class RegistryStore {
  private readonly postgres: boolean;

  constructor(private readonly db: Knex) {
    const client = String(db.client.config?.client ?? '');
    this.postgres =
      ['pg', 'postgres', 'postgresql'].includes(client) ||
      db.client.dialect === 'postgresql';
  }

  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  private q(trx?: Knex.Transaction): Knex {
    return trx ?? this.db;
  }

  // ---- registered models -------------------------------------------------

  async insertModel(
    model: Omit<ModelRecord, 'lastVersion'>,
    tags: Record<string, string>,
    trx: Knex.Transaction,
  ): Promise<void> {
    await trx(MODELS).insert({
      name: model.name,
      entity_ref: model.entityRef,
      description: model.description,
      created_at: model.createdAt,
      updated_at: model.updatedAt,
      last_version: 0,
      artifact_folder: model.artifactFolder,
    });
    const rows = Object.entries(tags).map(([key, value]) => ({
      model_name: model.name,
      key,
      value,
    }));
    for (const chunk of chunks(rows)) {
      await trx(MODEL_TAGS).insert(chunk);
    }
  }

  /**
   * One model; with `lock` (inside a transaction) its row stays locked until
   * commit, which serialises every change to the model and its versions.
   */
  async getModel(
    name: string,
    trx?: Knex.Transaction,
    options?: { lock?: boolean },
  ): Promise<ModelRecord | undefined> {
    const query = this.q(trx)<ModelRow>(MODELS).where({ name }).first();
    if (options?.lock && this.postgres) {
      query.forUpdate();
    }
    const row = await query;
    return row ? toModel(row) : undefined;
  }

  async getModels(names: string[]): Promise<ModelRecord[]> {
    const records: ModelRecord[] = [];
    for (const chunk of chunks([...new Set(names)])) {
      const rows = await this.db<ModelRow>(MODELS).whereIn('name', chunk);
      records.push(...rows.map(toModel));
    }
    return records;
  }

  /** Whether a model (under any name) keeps its files in `folder`. */
  async isArtifactFolderTaken(
    folder: string,
    trx: Knex.Transaction,
  ): Promise<boolean> {
    const row = await trx(MODELS)
      .where({ artifact_folder: folder })
      .orWhere(builder =>
        builder.whereNull('artifact_folder').andWhere({ name: folder }),
      )
      .first('name');
    return row !== undefined;
  }

  async findModelsByEntityRef(entityRef: string): Promise<ModelRecord[]> {
    const rows = await this.db<ModelRow>(MODELS)
      .where({ entity_ref: entityRef })
      .orderBy('name', 'asc');
    return rows.map(toModel);
  }

  async searchModels(query: SearchQuery): Promise<ModelRecord[]> {
    const builder = this.db(`${MODELS} as m`).select<ModelRow[]>('m.*');
    for (const clause of query.clauses) {
      if (clause.type === 'tag') {
        builder.whereExists(sub => {
          sub
            .select(this.db.raw('1'))
            .from(`${MODEL_TAGS} as t`)
            .whereRaw('?? = ??', ['t.model_name', 'm.name'])
            .andWhere('t.key', clause.key);
          this.applyClause(sub, 't.value', clause);
        });
      } else {
        this.applyClause(builder, MODEL_COLUMNS[clause.key], clause);
      }
    }
    for (const order of query.orderBy) {
      builder.orderBy(MODEL_COLUMNS[order.key], directionOf(order));
    }
    builder.orderBy('m.name', 'asc');
    const rows = await builder.offset(query.offset).limit(query.limit);
    return rows.map(toModel);
  }

  async updateModel(
    name: string,
    patch: { description?: string; updatedAt: number },
    trx?: Knex.Transaction,
  ): Promise<number> {
    return this.q(trx)(MODELS)
      .where({ name })
      .update({
        ...(patch.description !== undefined
          ? { description: patch.description }
          : {}),
        updated_at: patch.updatedAt,
      });
  }

  /** Hands out the model's next version number (call with the model row locked). */
  async nextVersionNumber(
    name: string,
    trx: Knex.Transaction,
  ): Promise<number> {
    const model = await this.getModel(name, trx, { lock: true });
    if (!model) {
      throw new Error(`registered model ${name} disappeared`);
    }
    const next = model.lastVersion + 1;
    await trx(MODELS).where({ name }).update({ last_version: next });
    return next;
  }

  async deleteModel(name: string, trx: Knex.Transaction): Promise<void> {
    await trx(ALIASES).where({ model_name: name }).delete();
    await trx(VERSION_TAGS).where({ model_name: name }).delete();
    await trx(VERSIONS).where({ model_name: name }).delete();
    await trx(MODEL_TAGS).where({ model_name: name }).delete();
    await trx(MODELS).where({ name }).delete();
  }

  /** Moves a model and everything of it to `newName`, in one transaction. */
  async renameModel(
    name: string,
    newName: string,
    updatedAt: number,
    trx: Knex.Transaction,
  ): Promise<void> {
    const model = await trx(MODELS).where({ name }).first();
    // The folder moves over once the old row is gone (it is unique).
    await trx(MODELS).insert({
      ...model,
      name: newName,
      updated_at: updatedAt,
      artifact_folder: null,
    });
    // Children are copied under the new name before the old rows go: the
    // foreign keys hold at every step on both engines.
    for (const table of [VERSIONS, MODEL_TAGS, VERSION_TAGS, ALIASES]) {
      const rows = await trx(table).where({ model_name: name });
      for (const chunk of chunks(rows)) {
        await trx(table).insert(
          chunk.map((row: Record<string, unknown>) => ({
            ...row,
            model_name: newName,
          })),
        );
      }
    }
    await this.deleteModel(name, trx);
    await trx(MODELS)
      .where({ name: newName })
      .update({ artifact_folder: model.artifact_folder ?? name });
  }

  async deleteVersion(
    name: string,
    version: number,
    trx: Knex.Transaction,
  ): Promise<void> {
    await trx(ALIASES).where({ model_name: name, version }).delete();
    await trx(VERSION_TAGS).where({ model_name: name, version }).delete();
    await trx(VERSIONS).where({ model_name: name, version }).delete();
  }

  async setModelTag(
    name: string,
    key: string,
    value: string,
    trx?: Knex.Transaction,
  ): Promise<void> {
    await this.q(trx)(MODEL_TAGS)
      .insert({ model_name: name, key, value })
      .onConflict(['model_name', 'key'])
      .merge(['value']);
  }

  async deleteModelTag(
    name: string,
    key: string,
    trx?: Knex.Transaction,
  ): Promise<boolean> {
    const deleted = await this.q(trx)(MODEL_TAGS)
      .where({ model_name: name, key })
      .delete();
    return deleted > 0;
  }

  /** Tags of each named model. */
  async getModelTags(
    names: string[],
  ): Promise<Map<string, Record<string, string>>> {
    const result = new Map<string, Record<string, string>>();
    for (const chunk of chunks([...new Set(names)])) {
      const rows = await this.db<{
        model_name: string;
        key: string;
        value: string;
      }>(MODEL_TAGS)
        .whereIn('model_name', chunk)
        .orderBy(['model_name', 'key']);
      for (const row of rows) {
        const tags = result.get(row.model_name) ?? {};
        tags[row.key] = row.value;
        result.set(row.model_name, tags);
      }
    }
    return result;
  }

  // ---- versions ----------------------------------------------------------

  async insertVersion(
    version: VersionRecord,
    tags: Record<string, string>,
    trx: Knex.Transaction,
  ): Promise<void> {
    await trx(VERSIONS).insert({
      model_name: version.name,
      version: version.version,
      description: version.description,
      source: version.source,
      run_id: version.runId ?? null,
      model_id: version.modelId ?? null,
      status: version.status,
      status_message: version.statusMessage ?? null,
      stage: version.stage,
      creator: version.creator,
      created_at: version.createdAt,
      updated_at: version.updatedAt,
      ...artifactColumns(version.artifact),
    });
    const rows = Object.entries(tags).map(([key, value]) => ({
      model_name: version.name,
      version: version.version,
      key,
      value,
    }));
    for (const chunk of chunks(rows)) {
      await trx(VERSION_TAGS).insert(chunk);
    }
  }

  async getVersion(
    name: string,
    version: number,
    trx?: Knex.Transaction,
  ): Promise<VersionRecord | undefined> {
    const row = await this.q(trx)<VersionRow>(VERSIONS)
      .where({ model_name: name, version })
      .first();
    return row ? toVersion(row) : undefined;
  }

  /** All versions of a model, newest first. */
  async listVersions(
    name: string,
    trx?: Knex.Transaction,
  ): Promise<VersionRecord[]> {
    const rows = await this.q(trx)<VersionRow>(VERSIONS)
      .where({ model_name: name })
      .orderBy('version', 'desc');
    return rows.map(toVersion);
  }

  /** The versions registered from these MLflow logged models, by model name and number. */
  async listVersionsOfLoggedModels(
    modelIds: string[],
  ): Promise<VersionRecord[]> {
    const records: VersionRecord[] = [];
    for (const chunk of chunks([...new Set(modelIds)])) {
      const rows = await this.db<VersionRow>(VERSIONS)
        .whereIn('model_id', chunk)
        .orderBy([
          { column: 'model_name', order: 'asc' },
          { column: 'version', order: 'asc' },
        ]);
      records.push(...rows.map(toVersion));
    }
    return records;
  }

  async listVersionsInStage(
    name: string,
    stage: ModelStage,
    trx?: Knex.Transaction,
  ): Promise<VersionRecord[]> {
    const rows = await this.q(trx)<VersionRow>(VERSIONS)
      .where({ model_name: name, stage })
      .orderBy('version', 'desc');
    return rows.map(toVersion);
  }

  /** The highest version number in each stage asked for. */
  async latestVersionsByStage(
    name: string,
    stages: ModelStage[],
  ): Promise<VersionRecord[]> {
    return this.latestVersionsByStageOf([name], stages);
  }

  /** The highest-numbered version per model and stage, for many models in one query per chunk. */
  async latestVersionsByStageOf(
    names: string[],
    stages: ModelStage[],
  ): Promise<VersionRecord[]> {
    const records: VersionRecord[] = [];
    for (const chunk of chunks([...new Set(names)])) {
      const latest = this.db(VERSIONS)
        .select('model_name', 'stage')
        .max({ version: 'version' })
        .whereIn('model_name', chunk)
        .whereIn('stage', stages)
        .groupBy('model_name', 'stage');
      const rows = await this.db<VersionRow>(`${VERSIONS} as v`)
        .select('v.*')
        .join(latest.as('l'), join =>
          join
            .on('l.model_name', '=', 'v.model_name')
            .andOn('l.stage', '=', 'v.stage')
            .andOn('l.version', '=', 'v.version'),
        );
      records.push(...rows.map(toVersion));
    }
    return records;
  }

  async searchVersions(query: SearchQuery): Promise<VersionRecord[]> {
    const builder = this.db(`${VERSIONS} as v`).select<VersionRow[]>('v.*');
    for (const clause of query.clauses) {
      if (clause.type === 'tag') {
        builder.whereExists(sub => {
          sub
            .select(this.db.raw('1'))
            .from(`${VERSION_TAGS} as t`)
            .whereRaw('?? = ??', ['t.model_name', 'v.model_name'])
            .andWhereRaw('?? = ??', ['t.version', 'v.version'])
            .andWhere('t.key', clause.key);
          this.applyClause(sub, 't.value', clause);
        });
      } else {
        this.applyClause(builder, VERSION_COLUMNS[clause.key], clause);
      }
    }
    for (const order of query.orderBy) {
      builder.orderBy(VERSION_COLUMNS[order.key], directionOf(order));
    }
    builder.orderBy('v.model_name', 'asc').orderBy('v.version', 'desc');
    const rows = await builder.offset(query.offset).limit(query.limit);
    return rows.map(toVersion);
  }

  async updateVersion(
    name: string,
    version: number,
    patch: {
      description?: string;
      stage?: ModelStage;
      artifact?: ArtifactRecord;
      updatedAt: number;
    },
    trx?: Knex.Transaction,
  ): Promise<number> {
    return this.q(trx)(VERSIONS)
      .where({ model_name: name, version })
      .update({
        ...(patch.description !== undefined
          ? { description: patch.description }
          : {}),
        ...(patch.stage !== undefined ? { stage: patch.stage } : {}),
        ...(patch.artifact ? artifactColumns(patch.artifact) : {}),
        updated_at: patch.updatedAt,
      });
  }

  async setVersionTag(
    name: string,
    version: number,
    key: string,
    value: string,
    trx?: Knex.Transaction,
  ): Promise<void> {
    await this.q(trx)(VERSION_TAGS)
      .insert({ model_name: name, version, key, value })
      .onConflict(['model_name', 'version', 'key'])
      .merge(['value']);
  }

  async deleteVersionTag(
    name: string,
    version: number,
    key: string,
    trx?: Knex.Transaction,
  ): Promise<boolean> {
    const deleted = await this.q(trx)(VERSION_TAGS)
      .where({ model_name: name, version, key })
      .delete();
    return deleted > 0;
  }

  /** Tags of the given versions, keyed by `versionKey(name, version)`. */
  async getVersionTags(
    versions: Array<{ name: string; version: number }>,
  ): Promise<Map<string, Record<string, string>>> {
    const wanted = new Set(versions.map(v => versionKey(v.name, v.version)));
    const names = [...new Set(versions.map(v => v.name))];
    const result = new Map<string, Record<string, string>>();
    for (const chunk of chunks(names)) {
      const query = this.db<{
        model_name: string;
        version: number | string;
        key: string;
        value: string;
      }>(VERSION_TAGS)
        .whereIn('model_name', chunk)
        .orderBy(['model_name', 'version', 'key']);
      if (versions.length === 1) {
        query.where('version', versions[0].version);
      }
      for (const row of await query) {
        const key = versionKey(row.model_name, Number(row.version));
        if (!wanted.has(key)) continue;
        const tags = result.get(key) ?? {};
        tags[row.key] = row.value;
        result.set(key, tags);
      }
    }
    return result;
  }

  // ---- aliases -----------------------------------------------------------

  /** Alias → version, per model name. */
  async getAliases(
    names: string[],
    trx?: Knex.Transaction,
  ): Promise<Map<string, Record<string, number>>> {
    const result = new Map<string, Record<string, number>>();
    for (const chunk of chunks([...new Set(names)])) {
      const rows = await this.q(trx)<{
        model_name: string;
        alias: string;
        version: number | string;
      }>(ALIASES)
        .whereIn('model_name', chunk)
        .orderBy(['model_name', 'alias']);
      for (const row of rows) {
        const aliases = result.get(row.model_name) ?? {};
        aliases[row.alias] = Number(row.version);
        result.set(row.model_name, aliases);
      }
    }
    return result;
  }

  async getAlias(
    name: string,
    alias: string,
    trx?: Knex.Transaction,
  ): Promise<number | undefined> {
    const row: { version: number | string } | undefined = await this.q(trx)(
      ALIASES,
    )
      .where({ model_name: name, alias })
      .first('version');
    return row ? Number(row.version) : undefined;
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    updatedAt: number,
    trx: Knex.Transaction,
  ): Promise<void> {
    await trx(ALIASES)
      .insert({ model_name: name, alias, version, updated_at: updatedAt })
      .onConflict(['model_name', 'alias'])
      .merge(['version', 'updated_at']);
  }

  async deleteAlias(
    name: string,
    alias: string,
    trx: Knex.Transaction,
  ): Promise<boolean> {
    const deleted = await trx(ALIASES)
      .where({ model_name: name, alias })
      .delete();
    return deleted > 0;
  }

  // ---- filters -------------------------------------------------------------

  private applyClause(
    builder: Knex.QueryBuilder,
    column: string,
    clause: FilterClause,
  ): void {
    switch (clause.comparator) {
      case 'IN':
        builder.whereIn(column, clause.value);
        return;
      case 'NOT IN':
        builder.whereNotIn(column, clause.value);
        return;
      case 'LIKE':
        if (this.postgres) {
          builder.whereRaw('?? LIKE ?', [column, clause.value]);
        } else {
          // SQLite's LIKE ignores case; GLOB does not.
          builder.whereRaw('?? GLOB ?', [
            column,
            likeToGlob(String(clause.value)),
          ]);
        }
        return;
      case 'ILIKE':
        builder.whereRaw('LOWER(??) LIKE LOWER(?)', [column, clause.value]);
        return;
      case '!=':
        // MLflow's != also keeps rows where the column is NULL out.
        builder.where(column, '<>', clause.value);
        return;
      default:
        builder.where(column, clause.comparator, clause.value as string);
    }
  }
}

function directionOf(order: OrderByClause): 'asc' | 'desc' {
  return order.ascending ? 'asc' : 'desc';
}

export function versionKey(name: string, version: number): string {
  return `${name}\u0000${version}`;
}

function artifactColumns(artifact: ArtifactRecord | undefined) {
  return {
    artifact_path: artifact?.path ?? null,
    artifact_sha256: artifact?.sha256 ?? null,
    artifact_size_bytes: artifact?.sizeBytes ?? null,
    artifact_format: artifact?.format ?? null,
    signature: artifact?.signature ?? null,
  };
}
