import { Knex } from 'knex';
import {
  PipelineLogLine,
  PipelineRun,
  PipelineRunOutputs,
  PipelineRunState,
  PipelineRunTriggerType,
  PipelineStepKind,
  PipelineStepRun,
  StepRunState,
} from '@loopline/mlops-common';
import { isUniqueViolation } from '../lib/database';

const RUNS = 'pipeline_runs';
const STEPS = 'pipeline_step_runs';
const LOGS = 'pipeline_run_logs';
const TRIGGER_STATE = 'pipeline_trigger_state';
const LOG_INSERT_CHUNK = 500;

/** A step as it will be run: the spec's step with its kind resolved. */
export interface StepDefinition {
  name: string;
  kind: PipelineStepKind;
  dependsOn: string[];
  command?: string[];
  run?: string;
  image?: string;
  with?: Record<string, string | number | boolean>;
  timeoutSeconds?: number;
}

/** Where a step's process runs, so that another instance can find and stop it. */
export interface StepHandle {
  host?: string;
  pid?: number;
  job?: string;
  namespace?: string;
  /** Kubernetes: the cluster's name in the Kubernetes plugin's config (unset: the default). */
  cluster?: string;
}

export interface StepRunRecord extends PipelineStepRun {
  definition: StepDefinition;
  handle?: StepHandle;
}

export interface RunRecord extends Omit<PipelineRun, 'steps'> {
  steps: StepRunRecord[];
  claimedBy?: string;
  heartbeatAt?: number;
}

export interface NewRun {
  id: string;
  pipeline: string;
  entityRef: string;
  runner: 'local' | 'kubernetes';
  parameters: Record<string, string>;
  trigger: {
    type: PipelineRunTriggerType;
    cause: string;
    user?: string;
    /** Same key, same pipeline: one run only. */
    key?: string;
  };
  steps: StepDefinition[];
  now: number;
}

export interface NewLogLine {
  runId: string;
  step: string;
  attempt: number;
  stream: PipelineLogLine['stream'];
  text: string;
  at: number;
}

export type StepPatch = Partial<{
  state: StepRunState;
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  message: string | null;
  handle: StepHandle | null;
}>;

export type RunPatch = Partial<{
  state: PipelineRunState;
  startedAt: number | null;
  finishedAt: number | null;
  reason: string | null;
  outputs: PipelineRunOutputs;
  claimedBy: string | null;
  heartbeatAt: number | null;
  cancelRequested: boolean;
}>;

export const EMPTY_OUTPUTS: PipelineRunOutputs = {
  mlflowRunIds: [],
  modelVersions: [],
  datasetVersions: [],
  rollouts: [],
};

const iso = (ms: unknown) =>
  ms === null || ms === undefined
    ? undefined
    : new Date(Number(ms)).toISOString();

function parseJson<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string' || text === '') return fallback;
  return JSON.parse(text) as T;
}

/** The only place pipeline runs touch the database. */
export class PipelineStore {
  constructor(private readonly db: Knex) {}

  /**
   * Inserts a queued run and its steps. With a trigger key already used by
   * the pipeline, inserts nothing and returns the existing run.
   */
  async createRun(run: NewRun): Promise<{ created: boolean; run: RunRecord }> {
    try {
      await this.db.transaction(async trx => {
        await trx(RUNS).insert({
          id: run.id,
          pipeline_name: run.pipeline,
          entity_ref: run.entityRef,
          state: 'queued',
          runner: run.runner,
          parameters: JSON.stringify(run.parameters),
          trigger_type: run.trigger.type,
          trigger_cause: run.trigger.cause,
          triggered_by: run.trigger.user ?? null,
          trigger_key: run.trigger.key ?? null,
          outputs: JSON.stringify(EMPTY_OUTPUTS),
          cancel_requested: false,
          created_at: run.now,
        });
        if (run.steps.length > 0) {
          await trx(STEPS).insert(
            run.steps.map((step, position) => ({
              run_id: run.id,
              name: step.name,
              position,
              kind: step.kind,
              definition: JSON.stringify(step),
              state: 'queued',
              attempt: 1,
            })),
          );
        }
      });
    } catch (error) {
      if (run.trigger.key !== undefined && isUniqueViolation(error)) {
        const existing = await this.db(RUNS)
          .where({ pipeline_name: run.pipeline, trigger_key: run.trigger.key })
          .first();
        if (existing) {
          return { created: false, run: (await this.getRun(existing.id))! };
        }
      }
      throw error;
    }
    return { created: true, run: (await this.getRun(run.id))! };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db(RUNS).where({ id }).first();
    if (!row) return undefined;
    const steps = await this.db(STEPS)
      .where({ run_id: id })
      .orderBy('position', 'asc');
    return toRun(row, steps);
  }

  /** A pipeline's runs, newest first. */
  /** The id of a queued or running run of the pipeline started by this kind of trigger, if any. */
  async unfinishedRunOf(
    pipeline: string,
    triggerType: PipelineRunTriggerType,
  ): Promise<string | undefined> {
    const row = await this.db(RUNS)
      .where({ pipeline_name: pipeline, trigger_type: triggerType })
      .whereIn('state', ['queued', 'running'])
      .first('id');
    return row?.id;
  }

  async listRuns(
    pipeline: string,
    options: { limit: number; offset: number },
  ): Promise<RunRecord[]> {
    const rows = await this.db(RUNS)
      .where({ pipeline_name: pipeline })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit)
      .offset(options.offset);
    if (rows.length === 0) return [];
    const steps = await this.db(STEPS)
      .whereIn(
        'run_id',
        rows.map(r => r.id),
      )
      .orderBy('position', 'asc');
    return rows.map(row =>
      toRun(
        row,
        steps.filter(s => s.run_id === row.id),
      ),
    );
  }

  /** Names of the pipelines that have queued runs. */
  async pipelinesWithQueuedRuns(): Promise<string[]> {
    const rows = await this.db(RUNS)
      .distinct('pipeline_name')
      .where({ state: 'queued' });
    return rows.map(r => r.pipeline_name);
  }

  /**
   * Moves the pipeline's oldest queued run to running for `instance`, if
   * fewer than `limit` of its runs are running. Serialized per pipeline (an
   * advisory lock on PostgreSQL, the single writer on SQLite), so two
   * backends never exceed the limit together.
   */
  async claimNextRun(
    pipeline: string,
    limit: number,
    instance: string,
    now: number,
  ): Promise<RunRecord | undefined> {
    const id = await this.db.transaction(async trx => {
      if (trx.client.config.client === 'pg') {
        await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [
          0x4c4f4f50, // "LOOP": our lock space
          pipeline,
        ]);
      }
      const [{ count }] = await trx(RUNS)
        .where({ pipeline_name: pipeline, state: 'running' })
        .count({ count: '*' });
      if (Number(count) >= limit) return undefined;
      const next = await trx(RUNS)
        .where({ pipeline_name: pipeline, state: 'queued' })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .first('id');
      if (!next) return undefined;
      const updated = await trx(RUNS)
        .where({ id: next.id, state: 'queued' })
        .update({
          state: 'running',
          started_at: trx.raw('COALESCE(started_at, ?)', [now]),
          claimed_by: instance,
          heartbeat_at: now,
        });
      return updated === 1 ? (next.id as string) : undefined;
    });
    return id ? this.getRun(id) : undefined;
  }

  /**
   * Applies `patch` to the run; with `onlyIf`, only when the run is in one of
   * those states. Returns whether a row changed.
   */
  async updateRun(
    id: string,
    patch: RunPatch,
    onlyIf?: PipelineRunState[],
  ): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (patch.state !== undefined) row.state = patch.state;
    if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
    if (patch.finishedAt !== undefined) row.finished_at = patch.finishedAt;
    if (patch.reason !== undefined) row.reason = patch.reason;
    if (patch.outputs !== undefined)
      row.outputs = JSON.stringify(patch.outputs);
    if (patch.claimedBy !== undefined) row.claimed_by = patch.claimedBy;
    if (patch.heartbeatAt !== undefined) row.heartbeat_at = patch.heartbeatAt;
    if (patch.cancelRequested !== undefined) {
      row.cancel_requested = patch.cancelRequested;
    }
    let query = this.db(RUNS).where({ id });
    if (onlyIf) query = query.whereIn('state', onlyIf);
    return (await query.update(row)) === 1;
  }

  async updateStep(
    runId: string,
    name: string,
    patch: StepPatch,
    onlyIf?: StepRunState[],
  ): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (patch.state !== undefined) row.state = patch.state;
    if (patch.attempt !== undefined) row.attempt = patch.attempt;
    if (patch.startedAt !== undefined) row.started_at = patch.startedAt;
    if (patch.finishedAt !== undefined) row.finished_at = patch.finishedAt;
    if (patch.exitCode !== undefined) row.exit_code = patch.exitCode;
    if (patch.message !== undefined) row.message = patch.message;
    if (patch.handle !== undefined) {
      row.handle = patch.handle ? JSON.stringify(patch.handle) : null;
    }
    let query = this.db(STEPS).where({ run_id: runId, name });
    if (onlyIf) query = query.whereIn('state', onlyIf);
    return (await query.update(row)) === 1;
  }

  /** Merges outputs into the run's, without duplicates. */
  async addOutputs(
    runId: string,
    outputs: Partial<PipelineRunOutputs>,
  ): Promise<void> {
    await this.db.transaction(async trx => {
      const row = await trx(RUNS).where({ id: runId }).first('outputs');
      if (!row) return;
      const current = {
        ...EMPTY_OUTPUTS,
        ...parseJson<PipelineRunOutputs>(row.outputs, EMPTY_OUTPUTS),
      };
      const merge = <T>(a: T[], b: T[] | undefined) => {
        const seen = new Set(a.map(x => JSON.stringify(x)));
        return [...a, ...(b ?? []).filter(x => !seen.has(JSON.stringify(x)))];
      };
      const next: PipelineRunOutputs = {
        mlflowRunIds: merge(current.mlflowRunIds, outputs.mlflowRunIds),
        modelVersions: merge(current.modelVersions, outputs.modelVersions),
        datasetVersions: merge(
          current.datasetVersions,
          outputs.datasetVersions,
        ),
        rollouts: merge(current.rollouts, outputs.rollouts),
      };
      await trx(RUNS)
        .where({ id: runId })
        .update({ outputs: JSON.stringify(next) });
    });
  }

  /** Marks the instance's running runs alive; returns those whose cancel was requested. */
  async heartbeat(
    instance: string,
    runIds: string[],
    now: number,
  ): Promise<string[]> {
    if (runIds.length === 0) return [];
    await this.db(RUNS)
      .whereIn('id', runIds)
      .andWhere({ claimed_by: instance, state: 'running' })
      .update({ heartbeat_at: now });
    const cancelled = await this.db(RUNS)
      .whereIn('id', runIds)
      .andWhere({ cancel_requested: true })
      .select('id');
    return cancelled.map(r => r.id);
  }

  /** Running runs whose instance has not beaten since `before` (or the given instance's). */
  async runningRuns(filter: {
    heartbeatBefore?: number;
    claimedBy?: string;
  }): Promise<RunRecord[]> {
    let query = this.db(RUNS).where({ state: 'running' });
    if (filter.heartbeatBefore !== undefined) {
      query = query.andWhere(q =>
        q
          .where('heartbeat_at', '<', filter.heartbeatBefore!)
          .orWhereNull('heartbeat_at'),
      );
    }
    if (filter.claimedBy !== undefined) {
      query = query.andWhere({ claimed_by: filter.claimedBy });
    }
    const rows = await query.select('id');
    const runs = await Promise.all(rows.map(r => this.getRun(r.id)));
    return runs.filter((r): r is RunRecord => r !== undefined);
  }

  async appendLogs(lines: NewLogLine[]): Promise<void> {
    // In chunks: SQLite caps the bound variables of one statement.
    for (let i = 0; i < lines.length; i += LOG_INSERT_CHUNK) {
      await this.db(LOGS).insert(
        lines.slice(i, i + LOG_INSERT_CHUNK).map(line => ({
          run_id: line.runId,
          step: line.step,
          attempt: line.attempt,
          stream: line.stream,
          text: line.text,
          created_at: line.at,
        })),
      );
    }
  }

  /** Up to `limit` lines of the run after sequence number `after`, optionally of one step. */
  async readLogs(
    runId: string,
    options: { after: number; limit: number; step?: string },
  ): Promise<PipelineLogLine[]> {
    let query = this.db(LOGS)
      .where({ run_id: runId })
      .andWhere('seq', '>', options.after);
    if (options.step) query = query.andWhere({ step: options.step });
    const rows = await query.orderBy('seq', 'asc').limit(options.limit);
    return rows.map(row => ({
      seq: Number(row.seq),
      step: row.step,
      attempt: Number(row.attempt),
      stream: row.stream,
      text: row.text,
      at: iso(row.created_at)!,
    }));
  }

  /** Deletes the log lines of runs finished before `before`; returns how many. */
  async purgeLogs(before: number): Promise<number> {
    const finished = this.db(RUNS)
      .select('id')
      .whereNotNull('finished_at')
      .andWhere('finished_at', '<', before);
    return this.db(LOGS).whereIn('run_id', finished).delete();
  }

  async getTriggerState(
    pipeline: string,
    trigger: string,
  ): Promise<string | undefined> {
    const row = await this.db(TRIGGER_STATE)
      .where({ pipeline_name: pipeline, trigger })
      .first('value');
    return row?.value;
  }

  async setTriggerState(
    pipeline: string,
    trigger: string,
    value: string,
    now: number,
  ): Promise<void> {
    await this.db(TRIGGER_STATE)
      .insert({ pipeline_name: pipeline, trigger, value, updated_at: now })
      .onConflict(['pipeline_name', 'trigger'])
      .merge(['value', 'updated_at']);
  }
}

function toRun(row: any, steps: any[]): RunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline_name,
    entityRef: row.entity_ref,
    state: row.state,
    runner: row.runner,
    parameters: parseJson(row.parameters, {}),
    trigger: {
      type: row.trigger_type,
      cause: row.trigger_cause,
      ...(row.triggered_by ? { user: row.triggered_by } : {}),
    },
    createdAt: iso(row.created_at)!,
    ...(row.started_at !== null ? { startedAt: iso(row.started_at) } : {}),
    ...(row.finished_at !== null ? { finishedAt: iso(row.finished_at) } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    cancelRequested: Boolean(row.cancel_requested),
    outputs: { ...EMPTY_OUTPUTS, ...parseJson(row.outputs, EMPTY_OUTPUTS) },
    ...(row.claimed_by ? { claimedBy: row.claimed_by } : {}),
    ...(row.heartbeat_at !== null
      ? { heartbeatAt: Number(row.heartbeat_at) }
      : {}),
    steps: steps.map(step => {
      const definition = parseJson<StepDefinition>(step.definition, {
        name: step.name,
        kind: step.kind,
        dependsOn: [],
      });
      return {
        name: step.name,
        kind: step.kind,
        dependsOn: definition.dependsOn,
        state: step.state,
        attempt: Number(step.attempt),
        ...(step.started_at !== null
          ? { startedAt: iso(step.started_at) }
          : {}),
        ...(step.finished_at !== null
          ? { finishedAt: iso(step.finished_at) }
          : {}),
        ...(step.exit_code !== null
          ? { exitCode: Number(step.exit_code) }
          : {}),
        ...(step.message !== null ? { message: step.message } : {}),
        definition,
        ...(step.handle ? { handle: parseJson(step.handle, {}) } : {}),
      };
    }),
  };
}
