import { Knex } from 'knex';
import type { Facets } from './types';
import type {
  ColumnLineageRow,
  DatasetId,
  RunState,
  SchemaField,
} from './model';

const EVENTS = 'lineage_events';
const NAMESPACES = 'lineage_namespaces';
const JOBS = 'lineage_jobs';
const JOB_VERSIONS = 'lineage_job_versions';
const RUNS = 'lineage_runs';
const RUN_STATES = 'lineage_run_states';
const DATASETS = 'lineage_datasets';
const DATASET_VERSIONS = 'lineage_dataset_versions';
const RUN_IO = 'lineage_run_io';
const JOB_IO = 'lineage_job_io';
const COLUMN_LINEAGE = 'lineage_column_lineage';

/** Keys up to which PostgreSQL is given `= any(array)` rather than `in (select)` (see `inList`). */
const ANY_UP_TO = 1000;

/** The rows `batchRows` reads. */
export interface BatchRows {
  jobs: JobRecord[];
  runs: RunRecord[];
  runIo: RunIoRecord[];
  datasets: DatasetRecord[];
  datasetVersions: DatasetVersionRecord[];
  staticVersions: DatasetVersionRecord[];
  jobVersions: JobVersionRecord[];
}

/** A multi-row write held for `writesTogether`. */
interface PendingWrite {
  /** The statement, given the placeholders of `values`, in order. */
  sql: (placeholders: string[]) => string;
  /** Its parameters, each sent as JSON. */
  values: unknown[];
}

/** Values per `IN (...)` list of pairs. */
const IN_CHUNK = 500;
/**
 * Bound variables per multi-row statement: under SQLite's limit (32,766
 * since 3.32; better-sqlite3 bundles a newer one) and PostgreSQL's 65,535.
 */
const MAX_VARIABLES = 8000;

export type Direction = 'in' | 'out';

export interface NamespaceRecord {
  name: string;
  ownerName: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobRecord {
  uuid: string;
  namespace: string;
  name: string;
  simpleName: string;
  parentJobUuid: string | null;
  type: string;
  description: string | null;
  location: string | null;
  facets: Facets;
  currentVersionUuid: string | null;
  currentRunUuid: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobVersionRecord {
  uuid: string;
  jobUuid: string;
  inputs: DatasetId[];
  outputs: DatasetId[];
  location: string | null;
  latestRunUuid: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RunRecord {
  uuid: string;
  jobUuid: string;
  jobVersionUuid: string | null;
  parentRunUuid: string | null;
  state: RunState | 'NEW';
  stateTime: number;
  nominalStartTime: number | null;
  nominalEndTime: number | null;
  startedAt: number | null;
  endedAt: number | null;
  facets: Facets;
  createdAt: number;
  updatedAt: number;
}

export interface DatasetRecord {
  uuid: string;
  namespace: string;
  name: string;
  type: string;
  sourceName: string;
  description: string | null;
  fields: SchemaField[];
  facets: Facets;
  currentVersionUuid: string | null;
  lifecycleState: string | null;
  lastModifiedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DatasetVersionRecord {
  uuid: string;
  datasetUuid: string;
  version: string;
  runUuid: string | null;
  contentHash: string | null;
  rowCount: number | null;
  byteSize: number | null;
  fields: SchemaField[];
  facets: Facets;
  lifecycleState: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RunIoRecord {
  runUuid: string;
  direction: Direction;
  datasetUuid: string;
  datasetVersionUuid: string;
}

export interface JobIoRecord {
  jobUuid: string;
  direction: Direction;
  datasetUuid: string;
}

export interface StoredColumnLineage extends ColumnLineageRow {
  datasetUuid: string;
  datasetVersionUuid: string;
}

export interface RawEventRecord {
  kind: 'RUN' | 'DATASET' | 'JOB';
  eventType: string | null;
  eventTime: number;
  runUuid: string | null;
  jobNamespace: string | null;
  jobName: string | null;
  producer: string;
  event: unknown;
  receivedAt: number;
}

export interface Page {
  limit: number;
  offset: number;
}

const json = (value: unknown) => JSON.stringify(value);
let memo: Map<string, unknown> | undefined;
/**
 * Parses a JSON column. While `withJsonMemo` runs a read, identical
 * strings (the same schema on many datasets) are parsed once and share
 * the value, which callers must then treat as read-only.
 */
const parse = <T>(value: string | null | undefined, fallback: T): T => {
  if (!value) return fallback;
  if (!memo) return JSON.parse(value) as T;
  let parsed = memo.get(value);
  if (parsed === undefined) {
    parsed = JSON.parse(value);
    memo.set(value, parsed);
  }
  return parsed as T;
};

/**
 * Maps `rows` with `map` while parsing JSON through a memo local to this
 * call (synchronous, so no other read can see it); nothing outlives it.
 */
function withJsonMemo<T>(rows: any[], map: (row: any) => T): T[] {
  memo = new Map();
  try {
    return rows.map(map);
  } finally {
    memo = undefined;
  }
}
const num = (value: number | string | null | undefined) =>
  value === null || value === undefined ? null : Number(value);

function toJob(row: any): JobRecord {
  return {
    uuid: row.uuid,
    namespace: row.namespace,
    name: row.name,
    simpleName: row.simple_name,
    parentJobUuid: row.parent_job_uuid,
    type: row.type,
    description: row.description,
    location: row.location,
    facets: parse(row.facets, {}),
    currentVersionUuid: row.current_version_uuid,
    currentRunUuid: row.current_run_uuid,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toJobVersion(row: any): JobVersionRecord {
  return {
    uuid: row.uuid,
    jobUuid: row.job_uuid,
    inputs: parse(row.inputs, []),
    outputs: parse(row.outputs, []),
    location: row.location,
    latestRunUuid: row.latest_run_uuid,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRun(row: any): RunRecord {
  return {
    uuid: row.uuid,
    jobUuid: row.job_uuid,
    jobVersionUuid: row.job_version_uuid,
    parentRunUuid: row.parent_run_uuid,
    state: row.state,
    stateTime: Number(row.state_time),
    nominalStartTime: num(row.nominal_start_time),
    nominalEndTime: num(row.nominal_end_time),
    startedAt: num(row.started_at),
    endedAt: num(row.ended_at),
    facets: parse(row.facets, {}),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDataset(row: any): DatasetRecord {
  return {
    uuid: row.uuid,
    namespace: row.namespace,
    name: row.name,
    type: row.type,
    sourceName: row.source_name,
    description: row.description,
    fields: parse(row.fields, []),
    facets: parse(row.facets, {}),
    currentVersionUuid: row.current_version_uuid,
    lifecycleState: row.lifecycle_state,
    lastModifiedAt: num(row.last_modified_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDatasetVersion(row: any): DatasetVersionRecord {
  return {
    uuid: row.uuid,
    datasetUuid: row.dataset_uuid,
    version: row.version,
    runUuid: row.run_uuid,
    contentHash: row.content_hash,
    rowCount: num(row.row_count),
    byteSize: num(row.byte_size),
    fields: parse(row.fields, []),
    facets: parse(row.facets, {}),
    lifecycleState: row.lifecycle_state,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

const JOB_COLUMNS = [
  'uuid',
  'namespace',
  'name',
  'simple_name',
  'parent_job_uuid',
  'type',
  'description',
  'location',
  'facets',
  'current_version_uuid',
  'current_run_uuid',
  'created_at',
  'updated_at',
] as const;
const RUN_COLUMNS = [
  'uuid',
  'job_uuid',
  'job_version_uuid',
  'parent_run_uuid',
  'state',
  'state_time',
  'nominal_start_time',
  'nominal_end_time',
  'started_at',
  'ended_at',
  'facets',
  'created_at',
  'updated_at',
] as const;
const DATASET_COLUMNS = [
  'uuid',
  'namespace',
  'name',
  'type',
  'source_name',
  'description',
  'fields',
  'facets',
  'current_version_uuid',
  'lifecycle_state',
  'last_modified_at',
  'created_at',
  'updated_at',
] as const;
const RUN_IO_COLUMNS = [
  'run_uuid',
  'direction',
  'dataset_uuid',
  'dataset_version_uuid',
] as const;

// The same records from rows read as arrays of the columns above, in order.

function jobOfArray(a: any[]): JobRecord {
  return {
    uuid: a[0],
    namespace: a[1],
    name: a[2],
    simpleName: a[3],
    parentJobUuid: a[4],
    type: a[5],
    description: a[6],
    location: a[7],
    facets: parse(a[8], {}),
    currentVersionUuid: a[9],
    currentRunUuid: a[10],
    createdAt: Number(a[11]),
    updatedAt: Number(a[12]),
  };
}

function runOfArray(a: any[]): RunRecord {
  return {
    uuid: a[0],
    jobUuid: a[1],
    jobVersionUuid: a[2],
    parentRunUuid: a[3],
    state: a[4],
    stateTime: Number(a[5]),
    nominalStartTime: num(a[6]),
    nominalEndTime: num(a[7]),
    startedAt: num(a[8]),
    endedAt: num(a[9]),
    facets: parse(a[10], {}),
    createdAt: Number(a[11]),
    updatedAt: Number(a[12]),
  };
}

function datasetOfArray(a: any[]): DatasetRecord {
  return {
    uuid: a[0],
    namespace: a[1],
    name: a[2],
    type: a[3],
    sourceName: a[4],
    description: a[5],
    fields: parse(a[6], []),
    facets: parse(a[7], {}),
    currentVersionUuid: a[8],
    lifecycleState: a[9],
    lastModifiedAt: num(a[10]),
    createdAt: Number(a[11]),
    updatedAt: Number(a[12]),
  };
}

function runIoOfArray(a: any[]): RunIoRecord {
  return {
    runUuid: a[0],
    direction: a[1],
    datasetUuid: a[2],
    datasetVersionUuid: a[3],
  };
}

/** Our table and column names are plain lower-case words: quoted the same way on both engines. */
const quote = (identifier: string) => `"${identifier}"`;

function chunks<T>(values: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) {
    out.push(values.slice(i, i + size));
  }
  return out;
}

/** Lineage's tables (the only place with knex for this domain). */
export class LineageStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** Runs `fn` with a store bound to one transaction. */
  async transaction<T>(fn: (store: LineageStore) => Promise<T>): Promise<T> {
    return (this.db as Knex).transaction(trx => fn(new LineageStore(trx)));
  }

  // ---- writes (multi-row: a batch of events is written table by table) ---

  async insertEvents(events: RawEventRecord[]): Promise<void> {
    await this.insertRows(
      EVENTS,
      events.map(event => ({
        event_kind: event.kind,
        event_type: event.eventType,
        event_time: event.eventTime,
        run_uuid: event.runUuid,
        job_namespace: event.jobNamespace,
        job_name: event.jobName,
        producer: event.producer,
        event: json(event.event),
        received_at: event.receivedAt,
      })),
    );
  }

  async ensureNamespaces(names: string[], now: number): Promise<void> {
    await this.upsert(
      NAMESPACES,
      [...new Set(names)].map(name => ({
        name,
        owner_name: 'anonymous',
        description: null,
        created_at: now,
        updated_at: now,
      })),
      'name',
      'ignore',
    );
  }

  async putNamespace(
    name: string,
    ownerName: string,
    description: string | null,
    now: number,
  ): Promise<void> {
    await this.upsert(
      NAMESPACES,
      [
        {
          name,
          owner_name: ownerName,
          description,
          created_at: now,
          updated_at: now,
        },
      ],
      'name',
      ['owner_name', 'description', 'updated_at'],
    );
  }

  async putJobs(jobs: JobRecord[]): Promise<void> {
    await this.upsert(
      JOBS,
      jobs.map(job => ({
        uuid: job.uuid,
        namespace: job.namespace,
        name: job.name,
        simple_name: job.simpleName,
        parent_job_uuid: job.parentJobUuid,
        type: job.type,
        description: job.description,
        location: job.location,
        facets: json(job.facets),
        current_version_uuid: job.currentVersionUuid,
        current_run_uuid: job.currentRunUuid,
        created_at: job.createdAt,
        updated_at: job.updatedAt,
      })),
      'uuid',
      undefined,
      ['namespace', 'name'],
    );
  }

  async putJobVersions(versions: JobVersionRecord[]): Promise<void> {
    await this.upsert(
      JOB_VERSIONS,
      versions.map(version => ({
        uuid: version.uuid,
        job_uuid: version.jobUuid,
        inputs: json(version.inputs),
        outputs: json(version.outputs),
        location: version.location,
        latest_run_uuid: version.latestRunUuid,
        created_at: version.createdAt,
        updated_at: version.updatedAt,
      })),
      'uuid',
      ['latest_run_uuid', 'updated_at'],
    );
  }

  async putRuns(runs: RunRecord[]): Promise<void> {
    await this.upsert(
      RUNS,
      runs.map(run => ({
        uuid: run.uuid,
        job_uuid: run.jobUuid,
        job_version_uuid: run.jobVersionUuid,
        parent_run_uuid: run.parentRunUuid,
        state: run.state,
        state_time: run.stateTime,
        nominal_start_time: run.nominalStartTime,
        nominal_end_time: run.nominalEndTime,
        started_at: run.startedAt,
        ended_at: run.endedAt,
        facets: json(run.facets),
        created_at: run.createdAt,
        updated_at: run.updatedAt,
      })),
      'uuid',
      undefined,
      ['job_uuid'],
    );
  }

  /** State transitions; the same state at the same time is recorded once. */
  async addRunStates(
    states: Array<{ runUuid: string; state: RunState; transitionedAt: number }>,
  ): Promise<void> {
    await this.upsert(
      RUN_STATES,
      states.map(s => ({
        run_uuid: s.runUuid,
        state: s.state,
        transitioned_at: s.transitionedAt,
      })),
      ['run_uuid', 'state', 'transitioned_at'],
      'ignore',
    );
  }

  async putDatasets(datasets: DatasetRecord[]): Promise<void> {
    await this.upsert(
      DATASETS,
      datasets.map(dataset => ({
        uuid: dataset.uuid,
        namespace: dataset.namespace,
        name: dataset.name,
        type: dataset.type,
        source_name: dataset.sourceName,
        description: dataset.description,
        fields: json(dataset.fields),
        facets: json(dataset.facets),
        current_version_uuid: dataset.currentVersionUuid,
        lifecycle_state: dataset.lifecycleState,
        last_modified_at: dataset.lastModifiedAt,
        created_at: dataset.createdAt,
        updated_at: dataset.updatedAt,
      })),
      'uuid',
      undefined,
      ['namespace', 'name'],
    );
  }

  async putDatasetVersions(versions: DatasetVersionRecord[]): Promise<void> {
    await this.upsert(
      DATASET_VERSIONS,
      versions.map(version => ({
        uuid: version.uuid,
        dataset_uuid: version.datasetUuid,
        version: version.version,
        run_uuid: version.runUuid,
        content_hash: version.contentHash,
        row_count: version.rowCount,
        byte_size: version.byteSize,
        fields: json(version.fields),
        facets: json(version.facets),
        lifecycle_state: version.lifecycleState,
        created_at: version.createdAt,
        updated_at: version.updatedAt,
      })),
      'uuid',
      undefined,
      ['dataset_uuid', 'version', 'run_uuid'],
    );
  }

  async putRunIo(io: RunIoRecord[]): Promise<void> {
    await this.upsert(
      RUN_IO,
      io.map(r => ({
        run_uuid: r.runUuid,
        direction: r.direction,
        dataset_uuid: r.datasetUuid,
        dataset_version_uuid: r.datasetVersionUuid,
      })),
      ['run_uuid', 'direction', 'dataset_uuid'],
      ['dataset_version_uuid'],
    );
  }

  /** Replaces these jobs' current I/O (the graph's edges). */
  async setJobIo(
    io: Map<string, { inputs: string[]; outputs: string[] }>,
  ): Promise<void> {
    const rows: Array<Record<string, string>> = [];
    for (const [jobUuid, { inputs, outputs }] of io) {
      for (const [direction, uuids] of [
        ['in', inputs],
        ['out', outputs],
      ] as const) {
        for (const d of new Set(uuids)) {
          rows.push({ job_uuid: jobUuid, direction, dataset_uuid: d });
        }
      }
    }
    if (this.isPostgres()) {
      if (io.size === 0) return;
      // Within the batch's one statement: delete the edges of these jobs
      // that are not among the new ones, insert the new ones that are not
      // there yet (the two never touch the same row).
      const table = quote(JOB_IO);
      await this.pendWrite({
        sql: ([jobs, next]) =>
          `delete from ${table} e
           where e.job_uuid = any(array(select json_array_elements_text(${jobs})))
           and not exists (select 1
             from json_populate_recordset(null::${table}, ${next}) n
             where n.job_uuid = e.job_uuid and n.direction = e.direction
             and n.dataset_uuid = e.dataset_uuid)`,
        values: [[...io.keys()], rows],
      });
      await this.pendWrite({
        sql: ([next]) =>
          `insert into ${table} (job_uuid, direction, dataset_uuid)
           select job_uuid, direction, dataset_uuid
           from json_populate_recordset(null::${table}, ${next})
           on conflict do nothing`,
        values: [rows],
      });
      return;
    }
    await this.whereInList(this.db(JOB_IO), 'job_uuid', io.keys()).delete();
    await this.insertRows(JOB_IO, rows);
  }

  /** Replaces the column lineage of these dataset versions. */
  async replaceColumnLineage(
    byVersion: Map<string, { datasetUuid: string; rows: ColumnLineageRow[] }>,
  ): Promise<void> {
    await this.whereInList(
      this.db(COLUMN_LINEAGE),
      'dataset_version_uuid',
      byVersion.keys(),
    ).delete();
    const records = [...byVersion].flatMap(([versionUuid, v]) =>
      v.rows.map(row => ({
        dataset_version_uuid: versionUuid,
        dataset_uuid: v.datasetUuid,
        field: row.field,
        input_namespace: row.inputNamespace,
        input_name: row.inputName,
        input_field: row.inputField,
        transformation_type: row.transformationType,
        transformation_subtype: row.transformationSubtype,
        transformation_description: row.transformationDescription,
      })),
    );
    await this.insertRows(COLUMN_LINEAGE, records);
  }

  /** Multi-row inserts, as many rows per statement as the variable budget allows. */
  private async insertRows(
    table: string,
    rows: Array<Record<string, unknown>>,
  ): Promise<void> {
    await this.write(table, rows, '');
  }

  /**
   * Multi-row upserts. An existing row takes the `merge` columns; by
   * default every column but the key, `created_at` and the `immutable`
   * ones (so indexes on those are not rewritten); `'ignore'` keeps it.
   * Each key must appear once.
   */
  private async upsert(
    table: string,
    rows: Array<Record<string, unknown>>,
    conflict: string | string[],
    merge?: string[] | 'ignore',
    immutable: string[] = [],
  ): Promise<void> {
    if (rows.length === 0) return;
    const keys = ([] as string[]).concat(conflict);
    const columns =
      merge ??
      Object.keys(rows[0]).filter(
        c => !keys.includes(c) && c !== 'created_at' && !immutable.includes(c),
      );
    const target = keys.map(quote).join(', ');
    await this.write(
      table,
      rows,
      columns === 'ignore'
        ? ` on conflict (${target}) do nothing`
        : ` on conflict (${target}) do update set ${columns
            .map(c => `${quote(c)} = excluded.${quote(c)}`)
            .join(', ')}`,
    );
  }

  /**
   * `insert ... values (...), (...)` plus `tail`, written out rather than
   * through knex's builder: its SQLite form (a \`union all\` of selects)
   * costs SQLite more to parse than the rows cost to write.
   */
  private async write(
    table: string,
    rows: Array<Record<string, unknown>>,
    tail: string,
  ): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]);
    if (this.isPostgres()) {
      const list = columns.map(quote).join(', ');
      await this.pendWrite({
        sql: ([json]) =>
          `insert into ${quote(table)} (${list}) select ${list}
           from json_populate_recordset(null::${quote(table)}, ${json})${tail}`,
        values: [rows],
      });
      return;
    }
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const head = `insert into ${quote(table)} (${columns
      .map(quote)
      .join(', ')}) values `;
    const size = Math.max(1, Math.floor(MAX_VARIABLES / columns.length));
    for (const chunk of chunks(rows, size)) {
      const bindings: unknown[] = [];
      for (const row of chunk) {
        for (const c of columns) bindings.push(row[c] ?? null);
      }
      await this.db.raw(
        head + new Array(chunk.length).fill(tuple).join(', ') + tail,
        bindings as Knex.RawBinding[],
      );
    }
  }

  /** PostgreSQL writes held by `writesTogether`. */
  private pending?: PendingWrite[];

  /**
   * Runs `fn`; on PostgreSQL, the multi-row inserts and upserts it makes
   * are held and then sent as one statement (data-modifying CTEs)
   * instead of one round trip each. They must not depend on each other
   * (different tables, or distinct keys); other statements (the delete
   * of replaceColumnLineage) still run at once, before them.
   */
  async writesTogether(fn: () => Promise<void>): Promise<void> {
    if (!this.isPostgres() || this.pending) {
      await fn();
      return;
    }
    const pending: PendingWrite[] = [];
    this.pending = pending;
    try {
      await fn();
    } finally {
      this.pending = undefined;
    }
    if (pending.length > 0) await this.sendWrites(pending);
  }

  /**
   * PostgreSQL writes as one statement, each table's rows passed as one
   * JSON parameter and expanded by `json_populate_recordset` into the
   * table's row type: a short statement to parse and plan, where
   * `values` lists of thousands of placeholders cost PostgreSQL more to
   * plan than the rows cost to write (and knex more CPU to rewrite).
   */
  private async pendWrite(part: PendingWrite): Promise<void> {
    if (this.pending) {
      this.pending.push(part);
    } else {
      await this.sendWrites([part]);
    }
  }

  private async sendWrites(parts: PendingWrite[]): Promise<void> {
    let n = 0;
    const statements = parts.map(part =>
      part.sql(part.values.map(() => `$${++n}::json`)),
    );
    const sql =
      statements.length === 1
        ? statements[0]
        : `with ${statements
            .map((statement, i) => `w${i} as (${statement})`)
            .join(', ')} select 1`;
    const bindings = parts.flatMap(part =>
      part.values.map(value => JSON.stringify(value)),
    );
    await this.onConnection(connection => connection.query(sql, bindings));
  }

  // ---- reads ------------------------------------------------------------

  /**
   * What a batch of events touches, in one statement on PostgreSQL (CTEs,
   * the rows as JSON), where each statement is a round trip: these jobs
   * and all their versions; these runs and the jobs' current runs, with
   * their I/O; these datasets and those of that I/O, with their run-less
   * versions; these dataset versions. `undefined` on SQLite, where a
   * statement costs no round trip: the caller reads table by table.
   */
  async batchRows(keys: {
    jobUuids: string[];
    runUuids: string[];
    datasetUuids: string[];
    versionUuids: string[];
  }): Promise<BatchRows | undefined> {
    if (!this.isPostgres()) return undefined;
    const list = (values: string[]) => JSON.stringify(values);
    const { rows } = await this.db.raw(
      `with
        jk as (select jsonb_array_elements_text(?::jsonb) as uuid),
        j as (select * from ${quote(JOBS)}
          where uuid = any(array(select uuid from jk))),
        rk as (select jsonb_array_elements_text(?::jsonb) as uuid
          union select current_run_uuid from j where current_run_uuid is not null),
        r as (select * from ${quote(RUNS)}
          where uuid = any(array(select uuid from rk))),
        io as (select * from ${quote(RUN_IO)}
          where run_uuid = any(array(select uuid from rk))),
        dk as (select jsonb_array_elements_text(?::jsonb) as uuid
          union select dataset_uuid from io),
        d as (select * from ${quote(DATASETS)}
          where uuid = any(array(select uuid from dk))),
        dv as (select * from ${quote(DATASET_VERSIONS)}
          where uuid = any(array(select jsonb_array_elements_text(?::jsonb)))),
        sv as (select * from ${quote(DATASET_VERSIONS)}
          where coalesce(run_uuid, '') = ''
          and dataset_uuid = any(array(select uuid from dk))),
        jv as (select * from ${quote(JOB_VERSIONS)}
          where job_uuid = any(array(select uuid from jk)))
      select 'j' as k, row_to_json(j)::text as v from j
      union all select 'r', row_to_json(r)::text from r
      union all select 'io', row_to_json(io)::text from io
      union all select 'd', row_to_json(d)::text from d
      union all select 'dv', row_to_json(dv)::text from dv
      union all select 'sv', row_to_json(sv)::text from sv
      union all select 'jv', row_to_json(jv)::text from jv`,
      [
        list(keys.jobUuids),
        list(keys.runUuids),
        list(keys.datasetUuids),
        list(keys.versionUuids),
      ],
    );
    const out: BatchRows = {
      jobs: [],
      runs: [],
      runIo: [],
      datasets: [],
      datasetVersions: [],
      staticVersions: [],
      jobVersions: [],
    };
    for (const { k, v } of rows as Array<{ k: string; v: string }>) {
      const row = JSON.parse(v);
      if (k === 'j') out.jobs.push(toJob(row));
      else if (k === 'r') out.runs.push(toRun(row));
      else if (k === 'io') out.runIo.push(toRunIo(row));
      else if (k === 'd') out.datasets.push(toDataset(row));
      else if (k === 'dv') out.datasetVersions.push(toDatasetVersion(row));
      else if (k === 'sv') out.staticVersions.push(toDatasetVersion(row));
      else out.jobVersions.push(toJobVersion(row));
    }
    return out;
  }

  async getNamespace(name: string): Promise<NamespaceRecord | undefined> {
    const row = await this.db(NAMESPACES).where({ name }).first();
    return row && toNamespace(row);
  }

  async listNamespaces(page: Page): Promise<NamespaceRecord[]> {
    const rows = await this.db(NAMESPACES)
      .orderBy('name')
      .limit(page.limit)
      .offset(page.offset);
    return rows.map(toNamespace);
  }

  async namespaceNames(): Promise<string[]> {
    const rows = await this.db(NAMESPACES).select('name');
    return rows.map(r => r.name);
  }

  async getJob(id: DatasetId): Promise<JobRecord | undefined> {
    const row = await this.db(JOBS)
      .where({ namespace: id.namespace, name: id.name })
      .first();
    return row && toJob(row);
  }

  /**
   * With `shareJson` (for a graph), identical JSON columns share one
   * (read-only) value and the jobs come by namespace, then name.
   */
  async getJobsByUuid(
    uuids: string[],
    shareJson = false,
  ): Promise<JobRecord[]> {
    return shareJson
      ? this.arraysWhereIn(JOBS, JOB_COLUMNS, 'uuid', uuids, jobOfArray, true)
      : this.rowsWhereIn(JOBS, 'uuid', uuids, toJob);
  }

  async listJobs(
    namespace: string | undefined,
    page: Page,
  ): Promise<{ jobs: JobRecord[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      namespace ? this.db(JOBS).where({ namespace }) : this.db(JOBS),
      [{ column: 'updated_at', order: 'desc' }, { column: 'name' }],
      page,
    );
    return { jobs: rows.map(toJob), totalCount };
  }

  async getJobVersion(uuid: string): Promise<JobVersionRecord | undefined> {
    const row = await this.db(JOB_VERSIONS).where({ uuid }).first();
    return row && toJobVersion(row);
  }

  async getJobVersions(uuids: string[]): Promise<JobVersionRecord[]> {
    return this.rowsWhereIn(JOB_VERSIONS, 'uuid', uuids, toJobVersion);
  }

  async listJobVersions(
    jobUuid: string,
    page: Page,
  ): Promise<{ versions: JobVersionRecord[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      this.db(JOB_VERSIONS).where({ job_uuid: jobUuid }),
      [{ column: 'created_at', order: 'desc' }, { column: 'uuid' }],
      page,
    );
    return { versions: rows.map(toJobVersion), totalCount };
  }

  /** All versions of these jobs. */
  async jobVersionsOf(jobUuids: string[]): Promise<JobVersionRecord[]> {
    return this.rowsWhereIn(JOB_VERSIONS, 'job_uuid', jobUuids, toJobVersion);
  }

  async getRun(uuid: string): Promise<RunRecord | undefined> {
    const row = await this.db(RUNS).where({ uuid }).first();
    return row && toRun(row);
  }

  /** With `shareJson`, identical JSON columns share one (read-only) value. */
  async getRuns(uuids: string[], shareJson = false): Promise<RunRecord[]> {
    return shareJson
      ? this.arraysWhereIn(RUNS, RUN_COLUMNS, 'uuid', uuids, runOfArray)
      : this.rowsWhereIn(RUNS, 'uuid', uuids, toRun);
  }

  async listRuns(
    jobUuid: string,
    page: Page,
  ): Promise<{ runs: RunRecord[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      this.db(RUNS).where({ job_uuid: jobUuid }),
      [{ column: 'created_at', order: 'desc' }, { column: 'uuid' }],
      page,
    );
    return { runs: rows.map(toRun), totalCount };
  }

  async runStates(
    runUuid: string,
  ): Promise<Array<{ state: RunState; transitionedAt: number }>> {
    const rows = await this.db(RUN_STATES)
      .where({ run_uuid: runUuid })
      .orderBy([{ column: 'transitioned_at' }, { column: 'id' }]);
    return rows.map(r => ({
      state: r.state,
      transitionedAt: Number(r.transitioned_at),
    }));
  }

  async runIo(runUuids: string[], bulk = false): Promise<RunIoRecord[]> {
    return bulk
      ? this.arraysWhereIn(
          RUN_IO,
          RUN_IO_COLUMNS,
          'run_uuid',
          runUuids,
          runIoOfArray,
        )
      : this.rowsWhereIn(RUN_IO, 'run_uuid', runUuids, toRunIo);
  }

  /** The runs that read or wrote these dataset versions. */
  async runIoOfVersions(versionUuids: string[]): Promise<RunIoRecord[]> {
    return this.rowsWhereIn(
      RUN_IO,
      'dataset_version_uuid',
      versionUuids,
      toRunIo,
    );
  }

  /**
   * The I/O of these runs with each dataset's name and (unless
   * `withFacets` is false) the version's facets, in one statement.
   */
  async runIoDetails(
    runUuids: string[],
    withFacets = true,
  ): Promise<
    Array<RunIoRecord & { namespace: string; name: string; facets: Facets }>
  > {
    if (runUuids.length === 0) return [];
    let query = this.db(`${RUN_IO} as io`)
      .join(`${DATASETS} as d`, 'd.uuid', 'io.dataset_uuid')
      .select('io.*', 'd.namespace', 'd.name');
    if (withFacets) {
      query = query
        .leftJoin(
          `${DATASET_VERSIONS} as v`,
          'v.uuid',
          'io.dataset_version_uuid',
        )
        .select('v.facets');
    }
    const rows = await this.whereInList(query, 'io.run_uuid', runUuids);
    return rows.map((r: any) => ({
      ...toRunIo(r),
      namespace: r.namespace,
      name: r.name,
      facets: parse(r.facets, {}),
    }));
  }

  async getDataset(id: DatasetId): Promise<DatasetRecord | undefined> {
    const row = await this.db(DATASETS)
      .where({ namespace: id.namespace, name: id.name })
      .first();
    return row && toDataset(row);
  }

  /**
   * With `shareJson` (for a graph), identical JSON columns share one
   * (read-only) value and the datasets come by namespace, then name.
   */
  async getDatasetsByUuid(
    uuids: string[],
    shareJson = false,
  ): Promise<DatasetRecord[]> {
    return shareJson
      ? this.arraysWhereIn(
          DATASETS,
          DATASET_COLUMNS,
          'uuid',
          uuids,
          datasetOfArray,
          true,
        )
      : this.rowsWhereIn(DATASETS, 'uuid', uuids, toDataset);
  }

  async listDatasets(
    namespace: string,
    page: Page,
  ): Promise<{ datasets: DatasetRecord[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      this.db(DATASETS).where({ namespace }),
      [{ column: 'name' }],
      page,
    );
    return { datasets: rows.map(toDataset), totalCount };
  }

  async getDatasetVersion(
    uuid: string,
  ): Promise<DatasetVersionRecord | undefined> {
    const row = await this.db(DATASET_VERSIONS).where({ uuid }).first();
    return row && toDatasetVersion(row);
  }

  async getDatasetVersions(uuids: string[]): Promise<DatasetVersionRecord[]> {
    return this.rowsWhereIn(DATASET_VERSIONS, 'uuid', uuids, toDatasetVersion);
  }

  async listDatasetVersions(
    datasetUuid: string,
    page: Page,
  ): Promise<{ versions: DatasetVersionRecord[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      this.db(DATASET_VERSIONS).where({ dataset_uuid: datasetUuid }),
      [{ column: 'created_at', order: 'desc' }, { column: 'uuid' }],
      page,
    );
    return { versions: rows.map(toDatasetVersion), totalCount };
  }

  /** The versions recorded without a run (read before written, or declared) of these datasets. */
  async staticVersionsOf(
    datasetUuids: string[],
  ): Promise<DatasetVersionRecord[]> {
    if (datasetUuids.length === 0) return [];
    // `coalesce(run_uuid, '') = ''` is `run_uuid is null` (a run uuid is
    // never empty) that no index matches: the planner then finds the rows
    // by dataset (its index) instead of walking every run-less version
    // (the run_uuid index) and testing each against the key list.
    const rows = await this.whereInList(
      this.db(DATASET_VERSIONS).whereRaw("coalesce(run_uuid, '') = ''"),
      'dataset_uuid',
      datasetUuids,
    );
    return rows.map(toDatasetVersion);
  }

  /**
   * One page of `query` in `order`, with the total (a window count, so one
   * statement; a page past the end counts separately).
   */
  private async paged(
    query: Knex.QueryBuilder,
    order: Array<{ column: string; order?: 'asc' | 'desc' }>,
    page: Page,
  ): Promise<{ rows: any[]; totalCount: number }> {
    const rows = await query
      .clone()
      .select('*', this.db.raw('count(*) over () as total_count'))
      .orderBy(order)
      .limit(page.limit)
      .offset(page.offset);
    if (rows.length > 0) {
      return { rows, totalCount: Number(rows[0].total_count) };
    }
    const [{ n }] = await query.clone().count({ n: '*' });
    return { rows, totalCount: Number(n) };
  }

  /** Current job I/O edges touching any of these jobs or datasets. */
  async jobIo(filter: {
    jobUuids?: string[];
    datasetUuids?: string[];
  }): Promise<JobIoRecord[]> {
    const map = (r: any): JobIoRecord => ({
      jobUuid: r.job_uuid,
      direction: r.direction,
      datasetUuid: r.dataset_uuid,
    });
    return [
      ...(await this.rowsWhereIn(JOB_IO, 'job_uuid', filter.jobUuids, map)),
      ...(await this.rowsWhereIn(
        JOB_IO,
        'dataset_uuid',
        filter.datasetUuids,
        map,
      )),
    ];
  }

  /**
   * The current job I/O edges of every job that has an edge to one of
   * these datasets, in one statement (a hop of the lineage walk).
   */
  async jobIoOfJobsOn(datasetUuids: string[]): Promise<JobIoRecord[]> {
    if (datasetUuids.length === 0) return [];
    const keys = [...new Set(datasetUuids)];
    const jobs = `select t.job_uuid from ${quote(JOB_IO)} t where ${this.inList(
      't.dataset_uuid',
      keys.length,
    )}`;
    const rows = await this.arrays(
      `select e.job_uuid, e.direction, e.dataset_uuid from ${quote(JOB_IO)} e
       where ${
         this.isPostgres() && keys.length <= ANY_UP_TO
           ? `e.job_uuid = any(array(${jobs}))`
           : `e.job_uuid in (${jobs})`
       }`,
      [JSON.stringify(keys)],
    );
    return rows.map(r => ({
      jobUuid: r[0] as string,
      direction: r[1] as Direction,
      datasetUuid: r[2] as string,
    }));
  }

  /** How many current job I/O edges there are (the size of the whole graph). */
  async jobIoCount(): Promise<number> {
    const [{ n }] = await this.db(JOB_IO).count({ n: '*' });
    return Number(n);
  }

  /** Every current job I/O edge (for a walk that reaches most of the graph). */
  async allJobIo(): Promise<JobIoRecord[]> {
    const rows = await this.arrays(
      `select job_uuid, direction, dataset_uuid from ${quote(JOB_IO)}`,
      [],
    );
    return rows.map(r => ({
      jobUuid: r[0] as string,
      direction: r[1] as Direction,
      datasetUuid: r[2] as string,
    }));
  }

  /** The rows of `table` whose `column` is one of `keys`, in one statement. */
  private async rowsWhereIn<T>(
    table: string,
    column: string,
    keys: string[] = [],
    map: (row: any) => T,
  ): Promise<T[]> {
    if (keys.length === 0) return [];
    const rows = await this.whereInList(this.db(table), column, keys);
    return rows.map(map);
  }

  /**
   * `rowsWhereIn` for large reads (the lineage graph): the rows come as
   * arrays, which both drivers build several times faster than objects,
   * and identical JSON columns are parsed once and share their value
   * (read-only for the caller).
   */
  private async arraysWhereIn<T>(
    table: string,
    columns: readonly string[],
    column: string,
    keys: string[],
    map: (row: any[]) => T,
    /**
     * By namespace, then name, in code point order: the order of their
     * graph node ids, so sorting the graph costs one pass.
     */
    byName = false,
  ): Promise<T[]> {
    if (keys.length === 0) return [];
    const list = [...new Set(keys)];
    const binary = this.isPostgres() ? ' collate "C"' : '';
    const rows = await this.arrays(
      `select ${columns.map(quote).join(', ')} from ${quote(table)}
       where ${this.inList(quote(column), list.length)}${
        byName ? ` order by namespace${binary}, name${binary}` : ''
      }`,
      [JSON.stringify(list)],
    );
    return withJsonMemo(rows, map);
  }

  /**
   * `column` is one of the `count` elements of a JSON array parameter
   * (one `?`). PostgreSQL plans `in (select ...)` as a hash join over a
   * sequential scan of the table (it guesses 100 elements), which costs
   * the table's size even for a handful of keys; `= any(array(...))` uses
   * the index, better up to about a thousand keys.
   */
  private inList(column: string, count: number): string {
    if (!this.isPostgres())
      return `${column} in (select value from json_each(?))`;
    return count <= ANY_UP_TO
      ? `${column} = any(array(select jsonb_array_elements_text(?::jsonb)))`
      : `${column} in (select jsonb_array_elements_text(?::jsonb))`;
  }

  /** A read whose rows come as arrays of the selected columns, in order. */
  private async arrays(sql: string, bindings: unknown[]): Promise<unknown[][]> {
    if (this.isPostgres()) {
      const result = await this.db
        .raw(sql, bindings as Knex.RawBinding[])
        .options({ rowMode: 'array' });
      return result.rows;
    }
    // better-sqlite3 through knex only builds objects: use the
    // connection (the transaction's, when bound to one) directly.
    return this.onConnection(connection =>
      connection
        .prepare(sql)
        .raw(true)
        .all(...bindings),
    );
  }

  /**
   * Runs `fn` on the driver's connection: the transaction's when this
   * store is bound to one, else one from the pool, released after.
   */
  private async onConnection<T>(
    fn: (connection: any) => T,
  ): Promise<Awaited<T>> {
    const client = (this.db as any).client;
    const connection = await client.acquireConnection();
    try {
      return await fn(connection);
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /**
   * `column IN keys` with the keys as one JSON parameter (so any number of
   * keys is one statement under the engines' bound-variable limits).
   */
  whereInList(
    query: Knex.QueryBuilder,
    column: string,
    keys: Iterable<string>,
  ): Knex.QueryBuilder {
    const unique = [...new Set(keys)];
    return query.whereRaw(this.inList('??', unique.length), [
      column,
      JSON.stringify(unique),
    ]);
  }

  private isPostgres(): boolean {
    return String((this.db as any).client.config.client).includes('pg');
  }

  /** Column lineage rows of these dataset versions. */
  async columnLineage(versionUuids: string[]): Promise<StoredColumnLineage[]> {
    if (versionUuids.length === 0) return [];
    const rows = await this.whereInList(
      this.db(COLUMN_LINEAGE),
      'dataset_version_uuid',
      versionUuids,
    ).orderBy('id');
    return rows.map(toColumnLineage);
  }

  /** Column lineage rows (of current versions) that read from these datasets. */
  async columnLineageReading(
    inputs: DatasetId[],
  ): Promise<StoredColumnLineage[]> {
    const out: StoredColumnLineage[] = [];
    for (const chunk of chunks(inputs, 200)) {
      const rows = await this.db(COLUMN_LINEAGE)
        .join(
          DATASETS,
          `${DATASETS}.current_version_uuid`,
          `${COLUMN_LINEAGE}.dataset_version_uuid`,
        )
        .where(q => {
          for (const id of chunk) {
            q.orWhere(w =>
              w
                .where('input_namespace', id.namespace)
                .andWhere('input_name', id.name),
            );
          }
        })
        .select(`${COLUMN_LINEAGE}.*`);
      out.push(...rows.map(toColumnLineage));
    }
    return out;
  }

  /** The raw RunEvents, newest first, and how many there are. */
  async listEvents(
    page: Page,
  ): Promise<{ events: unknown[]; totalCount: number }> {
    const { rows, totalCount } = await this.paged(
      this.db(EVENTS).where({ event_kind: 'RUN' }),
      [
        { column: 'event_time', order: 'desc' },
        { column: 'id', order: 'desc' },
      ],
      page,
    );
    return { events: rows.map(r => JSON.parse(r.event)), totalCount };
  }

  /**
   * Retention: deletes raw events received before `cutoff`, runs that ended
   * before it (not the current run of their job), and dataset versions
   * created before it that no dataset has as current, with their I/O and
   * column lineage rows. Jobs, datasets and namespaces stay.
   */
  async purgeBefore(cutoff: number): Promise<{
    events: number;
    runs: number;
    datasetVersions: number;
  }> {
    const events = await this.db(EVENTS)
      .where('received_at', '<', cutoff)
      .delete();
    const runUuids = (
      await this.db(RUNS)
        .where('updated_at', '<', cutoff)
        .whereNotIn(
          'uuid',
          this.db(JOBS)
            .whereNotNull('current_run_uuid')
            .select('current_run_uuid'),
        )
        .select('uuid')
    ).map(r => r.uuid);
    for (const chunk of chunks(runUuids)) {
      await this.db(RUN_STATES).whereIn('run_uuid', chunk).delete();
      await this.db(RUN_IO).whereIn('run_uuid', chunk).delete();
      await this.db(RUNS).whereIn('uuid', chunk).delete();
    }
    const versionUuids = (
      await this.db(DATASET_VERSIONS)
        .where('created_at', '<', cutoff)
        .whereNotIn(
          'uuid',
          this.db(DATASETS)
            .whereNotNull('current_version_uuid')
            .select('current_version_uuid'),
        )
        .select('uuid')
    ).map(r => r.uuid);
    for (const chunk of chunks(versionUuids)) {
      await this.db(COLUMN_LINEAGE)
        .whereIn('dataset_version_uuid', chunk)
        .delete();
      await this.db(RUN_IO).whereIn('dataset_version_uuid', chunk).delete();
      await this.db(DATASET_VERSIONS).whereIn('uuid', chunk).delete();
    }
    return {
      events,
      runs: runUuids.length,
      datasetVersions: versionUuids.length,
    };
  }
}

function toRunIo(r: any): RunIoRecord {
  return {
    runUuid: r.run_uuid,
    direction: r.direction,
    datasetUuid: r.dataset_uuid,
    datasetVersionUuid: r.dataset_version_uuid,
  };
}

function toNamespace(row: any): NamespaceRecord {
  return {
    name: row.name,
    ownerName: row.owner_name,
    description: row.description,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toColumnLineage(r: any): StoredColumnLineage {
  return {
    datasetUuid: r.dataset_uuid,
    datasetVersionUuid: r.dataset_version_uuid,
    field: r.field,
    inputNamespace: r.input_namespace,
    inputName: r.input_name,
    inputField: r.input_field,
    transformationType: r.transformation_type,
    transformationSubtype: r.transformation_subtype,
    transformationDescription: r.transformation_description,
  };
}
