/**
 * The monitoring domain's tables (knex only here): reference profiles, drift
 * reports, schedules, alerts, ADWIN state and change points.
 */
import { randomUUID } from 'crypto';
import { Knex } from 'knex';
import type { DriftReport } from '@loopline/mlops-common';
import { isUniqueViolation } from '../lib/database';
import type { AdwinState } from './statistics';
import type { ColumnProfile } from './statistics';

const PROFILES = 'monitoring_reference_profiles';
const REPORTS = 'monitoring_drift_reports';
const SCHEDULES = 'monitoring_schedules';
const ALERTS = 'monitoring_alerts';
const ADWIN = 'monitoring_adwin';
const CHANGE_POINTS = 'monitoring_change_points';
const GT_CURSORS = 'monitoring_ground_truth_cursors';
const ACTIVE_REFERENCES = 'monitoring_active_references';

/** A column profile as JSON: typed arrays and maps as plain arrays. */
interface StoredColumnProfile {
  kind: ColumnProfile['kind'];
  rowCount: number;
  count: number;
  unique: number;
  std?: number;
  sorted?: number[];
  counts?: Array<[string | number, number]>;
}

export interface ReferenceProfile {
  id: string;
  modelName: string;
  referenceKey: string;
  source: 'dataset' | 'upload' | 'log';
  rowCount: number;
  sampled: boolean;
  columns: Record<string, ColumnProfile>;
  createdAt: number;
}

function toStored(profile: ColumnProfile): StoredColumnProfile {
  return {
    kind: profile.kind,
    rowCount: profile.rowCount,
    count: profile.count,
    unique: profile.unique,
    ...(profile.std !== undefined ? { std: profile.std } : {}),
    ...(profile.sorted ? { sorted: Array.from(profile.sorted) } : {}),
    ...(profile.counts ? { counts: [...profile.counts.entries()] } : {}),
  };
}

function fromStored(stored: StoredColumnProfile): ColumnProfile {
  return {
    kind: stored.kind,
    rowCount: stored.rowCount,
    count: stored.count,
    unique: stored.unique,
    ...(stored.std !== undefined ? { std: stored.std } : {}),
    ...(stored.sorted ? { sorted: Float64Array.from(stored.sorted) } : {}),
    ...(stored.counts ? { counts: new Map(stored.counts) } : {}),
  };
}

export interface StoredSchedule {
  modelName: string;
  cron: string;
  nextRunAt: number;
  lastRunAt?: number;
}

/** A position in a Model's ground truth: arrival time, then log row id. */
export interface GroundTruthCursor {
  at: number;
  logId: number;
}

export interface ChangePoint {
  version: string;
  at: number;
  estimation: number;
}

export class MonitoringStore {
  constructor(private readonly db: Knex) {}

  async getReferenceProfile(
    modelName: string,
    referenceKey: string,
  ): Promise<ReferenceProfile | undefined> {
    const row = await this.db(PROFILES)
      .where({ model_name: modelName, reference_key: referenceKey })
      .first();
    return row ? toProfile(row) : undefined;
  }

  async getReferenceProfileById(
    id: string,
  ): Promise<ReferenceProfile | undefined> {
    const row = await this.db(PROFILES).where({ id }).first();
    return row ? toProfile(row) : undefined;
  }

  /**
   * Stores a profile unless one with the same key exists already (two
   * instances computing it at once): either way the stored one is returned.
   */
  async saveReferenceProfile(
    profile: Omit<ReferenceProfile, 'id' | 'createdAt'>,
  ): Promise<ReferenceProfile> {
    const stored: ReferenceProfile = {
      ...profile,
      id: randomUUID(),
      createdAt: Date.now(),
    };
    try {
      await this.db(PROFILES).insert({
        id: stored.id,
        model_name: stored.modelName,
        reference_key: stored.referenceKey,
        source: stored.source,
        row_count: stored.rowCount,
        sampled: stored.sampled,
        profile: JSON.stringify(
          Object.fromEntries(
            Object.entries(stored.columns).map(([k, v]) => [k, toStored(v)]),
          ),
        ),
        created_at: stored.createdAt,
      });
      return stored;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return (await this.getReferenceProfile(
        profile.modelName,
        profile.referenceKey,
      ))!;
    }
  }

  /** The reference a Model is compared with instead of its spec's Dataset, if one was set. */
  async getActiveReference(
    modelName: string,
  ): Promise<
    { profileId: string; setBy?: string; createdAt: number } | undefined
  > {
    const row = await this.db(ACTIVE_REFERENCES)
      .where({ model_name: modelName })
      .first();
    return row
      ? {
          profileId: row.profile_id,
          ...(row.set_by ? { setBy: row.set_by } : {}),
          createdAt: Number(row.created_at),
        }
      : undefined;
  }

  async setActiveReference(
    modelName: string,
    profileId: string,
    setBy: string | undefined,
    now: number,
  ): Promise<void> {
    await this.db(ACTIVE_REFERENCES)
      .insert({
        model_name: modelName,
        profile_id: profileId,
        set_by: setBy ?? null,
        created_at: now,
      })
      .onConflict('model_name')
      .merge();
  }

  /** Back to the spec's Dataset; true when a reference was set. */
  async clearActiveReference(modelName: string): Promise<boolean> {
    return (
      (await this.db(ACTIVE_REFERENCES)
        .where({ model_name: modelName })
        .delete()) > 0
    );
  }

  async insertReport(report: DriftReport): Promise<void> {
    const {
      id,
      model,
      version,
      referenceId,
      windowStart,
      windowEnd,
      trigger,
      status,
      datasetDrift,
      shareOfDriftedColumns,
      rowCount,
      createdAt,
      ...rest
    } = report;
    await this.db(REPORTS).insert({
      id,
      model_name: model,
      version,
      reference_id: referenceId,
      window_start: Date.parse(windowStart),
      window_end: Date.parse(windowEnd),
      trigger,
      status,
      dataset_drift: datasetDrift,
      share_drifted: shareOfDriftedColumns,
      row_count: rowCount,
      has_quality: rest.quality !== undefined,
      report: JSON.stringify(rest),
      created_at: Date.parse(createdAt),
    });
  }

  /** Reports of a Model, newest first. */
  async listReports(options: {
    modelName: string;
    version?: string;
    since?: number;
    until?: number;
    /** Only reports with quality against ground truth. */
    withQuality?: boolean;
    limit: number;
  }): Promise<DriftReport[]> {
    const query = this.db(REPORTS)
      .where('model_name', options.modelName)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit);
    if (options.version !== undefined) query.where('version', options.version);
    if (options.since !== undefined)
      query.where('created_at', '>=', options.since);
    if (options.until !== undefined)
      query.where('created_at', '<', options.until);
    if (options.withQuality) query.where('has_quality', true);
    return (await query).map(toReport);
  }

  async getSchedule(modelName: string): Promise<StoredSchedule | undefined> {
    const row = await this.db(SCHEDULES)
      .where({ model_name: modelName })
      .first();
    return row
      ? {
          modelName: row.model_name,
          cron: row.cron,
          nextRunAt: Number(row.next_run_at),
          ...(row.last_run_at !== null
            ? { lastRunAt: Number(row.last_run_at) }
            : {}),
        }
      : undefined;
  }

  /** Records a Model's schedule (or a changed cron expression) with its next run. */
  async upsertSchedule(
    modelName: string,
    cron: string,
    nextRunAt: number,
  ): Promise<void> {
    await this.db(SCHEDULES)
      .insert({
        model_name: modelName,
        cron,
        next_run_at: nextRunAt,
        last_run_at: null,
      })
      .onConflict('model_name')
      .merge({ cron, next_run_at: nextRunAt });
  }

  async deleteSchedule(modelName: string): Promise<void> {
    await this.db(SCHEDULES).where({ model_name: modelName }).delete();
  }

  /**
   * Claims a due run: moves `next_run_at` from the value read to the next
   * one in one conditional update, so that of two instances (or two ticks)
   * seeing the same due run only one gets it.
   */
  async claimRun(
    modelName: string,
    dueAt: number,
    nextRunAt: number,
    now: number,
  ): Promise<boolean> {
    const updated = await this.db(SCHEDULES)
      .where({ model_name: modelName, next_run_at: dueAt })
      .update({ next_run_at: nextRunAt, last_run_at: now });
    return updated === 1;
  }

  async lastAlertAt(
    modelName: string,
    kind: string,
  ): Promise<number | undefined> {
    const row = await this.db(ALERTS)
      .where({ model_name: modelName, kind })
      .max({ at: 'created_at' })
      .first();
    return row?.at === null || row?.at === undefined
      ? undefined
      : Number(row.at);
  }

  async recordAlert(alert: {
    modelName: string;
    version: string;
    kind: string;
    severity: string;
    payload: unknown;
    createdAt: number;
  }): Promise<void> {
    await this.db(ALERTS).insert({
      model_name: alert.modelName,
      version: alert.version,
      kind: alert.kind,
      severity: alert.severity,
      payload: JSON.stringify(alert.payload),
      created_at: alert.createdAt,
    });
  }

  /** How far ADWIN has read a Model's ground truth (in arrival order). */
  async getGroundTruthCursor(
    modelName: string,
  ): Promise<GroundTruthCursor | undefined> {
    const row = await this.db(GT_CURSORS)
      .where({ model_name: modelName })
      .first();
    return row
      ? { at: Number(row.gt_created_at), logId: Number(row.log_id) }
      : undefined;
  }

  /** ADWIN's state per version of a Model. */
  async getAdwinStates(modelName: string): Promise<Map<string, AdwinState>> {
    const rows = await this.db(ADWIN).where({ model_name: modelName });
    return new Map(rows.map(r => [r.version, JSON.parse(r.state)]));
  }

  /**
   * Moves a Model's ground-truth cursor from `from` to `to` and saves what
   * ADWIN made of the rows between (its states and change points), in one
   * transaction, only if the cursor is still at `from`: of two instances
   * feeding the same rows, one saves and the other gets false.
   */
  async saveAdwinProgress(
    modelName: string,
    cursor: { from?: GroundTruthCursor; to: GroundTruthCursor },
    states: Map<string, AdwinState>,
    changePoints: ChangePoint[],
    now: number,
  ): Promise<boolean> {
    const lost = new Error('cursor moved');
    try {
      await this.db.transaction(async trx => {
        const { from, to } = cursor;
        if (from) {
          const moved = await trx(GT_CURSORS)
            .where({
              model_name: modelName,
              gt_created_at: from.at,
              log_id: from.logId,
            })
            .update({ gt_created_at: to.at, log_id: to.logId });
          if (moved !== 1) throw lost;
        } else {
          try {
            await trx(GT_CURSORS).insert({
              model_name: modelName,
              gt_created_at: to.at,
              log_id: to.logId,
            });
          } catch (error) {
            if (isUniqueViolation(error)) throw lost;
            throw error;
          }
        }
        for (const [version, state] of states) {
          await trx(ADWIN)
            .insert({
              model_name: modelName,
              version,
              state: JSON.stringify(state),
              last_created_at: to.at,
              last_log_id: to.logId,
            })
            .onConflict(['model_name', 'version'])
            .merge();
        }
        if (changePoints.length) {
          await trx(CHANGE_POINTS).insert(
            changePoints.map(c => ({
              model_name: modelName,
              version: c.version,
              at: c.at,
              estimation: c.estimation,
              created_at: now,
            })),
          );
        }
      });
      return true;
    } catch (error) {
      if (error === lost) return false;
      throw error;
    }
  }

  async listChangePoints(
    modelName: string,
    options: { since?: number; version?: string } = {},
  ): Promise<ChangePoint[]> {
    const query = this.db(CHANGE_POINTS)
      .where('model_name', modelName)
      .orderBy('at', 'asc')
      .limit(1000);
    if (options.since !== undefined) query.where('at', '>=', options.since);
    if (options.version !== undefined) query.where('version', options.version);
    return (await query).map(r => ({
      version: r.version,
      at: Number(r.at),
      estimation: Number(r.estimation),
    }));
  }
}

function toProfile(row: any): ReferenceProfile {
  const stored = JSON.parse(row.profile) as Record<string, StoredColumnProfile>;
  return {
    id: row.id,
    modelName: row.model_name,
    referenceKey: row.reference_key,
    source: row.source,
    rowCount: Number(row.row_count),
    sampled: Boolean(row.sampled),
    columns: Object.fromEntries(
      Object.entries(stored).map(([k, v]) => [k, fromStored(v)]),
    ),
    createdAt: Number(row.created_at),
  };
}

function toReport(row: any): DriftReport {
  const rest = JSON.parse(row.report);
  return {
    ...rest,
    id: row.id,
    model: row.model_name,
    version: row.version,
    referenceId: row.reference_id,
    windowStart: new Date(Number(row.window_start)).toISOString(),
    windowEnd: new Date(Number(row.window_end)).toISOString(),
    trigger: row.trigger,
    status: row.status,
    datasetDrift: Boolean(row.dataset_drift),
    shareOfDriftedColumns: Number(row.share_drifted),
    rowCount: Number(row.row_count),
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
