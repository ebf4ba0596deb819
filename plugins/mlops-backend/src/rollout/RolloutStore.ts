import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import {
  AbComparison,
  AbKeySource,
  AnalysisCheck,
  ArmMetrics,
  CheckVerdict,
  Deployment,
  DeploymentTargetKind,
  DeploymentTargetStatus,
  Rollout,
  RolloutAction,
  RolloutAnalysis,
  RolloutArm,
  RolloutEvent,
  RolloutSlo,
  RolloutState,
  RolloutStrategy,
  isUnfinished,
  liveCandidateWeight,
} from '@loopline/mlops-common';

const DEPLOYMENTS = 'rollout_deployments';
const ROLLOUTS = 'rollout_rollouts';
const ANALYSES = 'rollout_analyses';
const EVENTS = 'rollout_events';
const CONVERSIONS = 'rollout_conversions';

/** A deployment as stored, timestamps in ms. */
export interface DeploymentRecord {
  id: string;
  modelName: string;
  entityRef: string;
  environment: string;
  target: DeploymentTargetKind;
  stableVersion?: number;
  currentRolloutId?: string;
  targetStatus?: DeploymentTargetStatus;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** A rollout as stored, timestamps in ms. */
export interface RolloutRecord {
  id: string;
  deploymentId: string;
  strategy: RolloutStrategy;
  state: RolloutState;
  stableVersion?: number;
  candidateVersion: number;
  steps: number[];
  stepIndex: number;
  weight: number;
  switched: boolean;
  slo: RolloutSlo;
  abKey?: AbKeySource;
  startedBy: string;
  startedAt: number;
  stepStartedAt: number;
  finishedAt?: number;
  lastAnalysisAt?: number;
  reason?: string;
}

export type RolloutPatch = Partial<
  Pick<
    RolloutRecord,
    | 'state'
    | 'stepIndex'
    | 'weight'
    | 'switched'
    | 'stepStartedAt'
    | 'finishedAt'
    | 'lastAnalysisAt'
    | 'reason'
  >
>;

export interface NewAnalysis {
  rolloutId: string;
  stepIndex: number;
  weight: number;
  windowStart: number;
  windowEnd: number;
  verdict: CheckVerdict;
  checks: AnalysisCheck[];
  arms: { stable: ArmMetrics; candidate: ArmMetrics };
  comparison?: AbComparison;
  agreement?: { rate: number; samples: number };
  createdAt: number;
}

export interface NewEvent {
  deploymentId: string;
  rolloutId?: string;
  action: RolloutAction;
  actor: string;
  automatic: boolean;
  fromWeight?: number;
  toWeight?: number;
  comment?: string;
  createdAt: number;
}

/** Thrown by `updateDeployment` when another change got there first. */
export class StaleDeploymentError extends Error {
  constructor(id: string) {
    super(`Deployment ${id} was changed concurrently`);
    this.name = 'StaleDeploymentError';
  }
}

/**
 * Deployments, rollouts, analyses, the timeline and A/B conversions (knex
 * only). Changes run in `transaction`, which locks the deployment's row on
 * PostgreSQL (SQLite serializes writers anyway), so two concurrent actions on
 * one deployment are applied one after the other, each seeing the other's
 * result.
 */
export class RolloutStore {
  constructor(private readonly db: Knex) {}

  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async getDeployment(
    modelName: string,
    environment: string,
    options: { trx?: Knex.Transaction; forUpdate?: boolean } = {},
  ): Promise<DeploymentRecord | undefined> {
    let query = (options.trx ?? this.db)(DEPLOYMENTS)
      .where({ model_name: modelName, environment })
      .first();
    if (options.forUpdate && this.db.client.dialect === 'postgresql') {
      query = query.forUpdate();
    }
    const row = await query;
    return row ? toDeployment(row) : undefined;
  }

  async listDeployments(modelName: string): Promise<DeploymentRecord[]> {
    const rows = await this.db(DEPLOYMENTS)
      .where({ model_name: modelName })
      .orderBy('environment');
    return rows.map(toDeployment);
  }

  async listAllDeployments(): Promise<DeploymentRecord[]> {
    const rows = await this.db(DEPLOYMENTS).orderBy([
      'model_name',
      'environment',
    ]);
    return rows.map(toDeployment);
  }

  async listDeploymentsOfTarget(
    target: DeploymentTargetKind,
  ): Promise<DeploymentRecord[]> {
    const rows = await this.db(DEPLOYMENTS).where({ target });
    return rows.map(toDeployment);
  }

  /**
   * The versions a model's embedded deployments route, other than in
   * `exceptEnvironment`: each one's stable version and its running
   * candidate.
   */
  async routedVersions(
    modelName: string,
    exceptEnvironment: string,
  ): Promise<number[]> {
    const rows: Array<{
      stable_version: number | string | null;
      candidate_version: number | string | null;
    }> = await this.db({ d: DEPLOYMENTS })
      .leftJoin({ r: ROLLOUTS }, function running() {
        this.on('r.id', '=', 'd.current_rollout_id').onIn('r.state', [
          'progressing',
          'paused',
        ]);
      })
      .where('d.model_name', modelName)
      .where('d.target', 'embedded')
      .whereNot('d.environment', exceptEnvironment)
      .select('d.stable_version', 'r.candidate_version');
    const versions = new Set<number>();
    for (const row of rows) {
      if (row.stable_version !== null) versions.add(Number(row.stable_version));
      if (row.candidate_version !== null) {
        versions.add(Number(row.candidate_version));
      }
    }
    return [...versions];
  }

  /**
   * The versions any deployment of the model routes (each one's stable
   * version and its running candidate, on every target): the registry
   * refuses to delete them.
   */
  async versionsInUse(modelName: string): Promise<number[]> {
    const rows: Array<{
      stable_version: number | string | null;
      candidate_version: number | string | null;
    }> = await this.db({ d: DEPLOYMENTS })
      .leftJoin({ r: ROLLOUTS }, function running() {
        this.on('r.id', '=', 'd.current_rollout_id').onIn('r.state', [
          'progressing',
          'paused',
        ]);
      })
      .where('d.model_name', modelName)
      .select('d.stable_version', 'r.candidate_version');
    const versions = new Set<number>();
    for (const row of rows) {
      if (row.stable_version !== null) versions.add(Number(row.stable_version));
      if (row.candidate_version !== null) {
        versions.add(Number(row.candidate_version));
      }
    }
    return [...versions].sort((a, b) => a - b);
  }

  async getDeploymentById(id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db(DEPLOYMENTS).where({ id }).first();
    return row ? toDeployment(row) : undefined;
  }

  async createDeployment(
    trx: Knex.Transaction,
    deployment: Omit<DeploymentRecord, 'id' | 'revision'>,
  ): Promise<DeploymentRecord> {
    const record: DeploymentRecord = {
      ...deployment,
      id: randomUUID(),
      revision: 0,
    };
    await trx(DEPLOYMENTS).insert({
      id: record.id,
      model_name: record.modelName,
      entity_ref: record.entityRef,
      environment: record.environment,
      target: record.target,
      stable_version: record.stableVersion ?? null,
      current_rollout_id: record.currentRolloutId ?? null,
      target_status: record.targetStatus
        ? JSON.stringify(record.targetStatus)
        : null,
      revision: 0,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    });
    return record;
  }

  /**
   * Applies a change if the deployment is still at `revision`, and bumps it;
   * else throws StaleDeploymentError.
   */
  async updateDeployment(
    trx: Knex.Transaction,
    deployment: Pick<DeploymentRecord, 'id' | 'revision'>,
    patch: Partial<
      Pick<DeploymentRecord, 'stableVersion' | 'currentRolloutId' | 'target'>
    > & { updatedAt: number },
  ): Promise<number> {
    const row: Record<string, unknown> = {
      updated_at: patch.updatedAt,
      revision: deployment.revision + 1,
    };
    if ('stableVersion' in patch) {
      row.stable_version = patch.stableVersion ?? null;
    }
    if ('currentRolloutId' in patch) {
      row.current_rollout_id = patch.currentRolloutId ?? null;
    }
    if (patch.target) row.target = patch.target;
    const updated = await trx(DEPLOYMENTS)
      .where({ id: deployment.id, revision: deployment.revision })
      .update(row);
    if (updated !== 1) {
      throw new StaleDeploymentError(deployment.id);
    }
    return deployment.revision + 1;
  }

  /** What the target reported; not a change of the deployment's state. */
  async setTargetStatus(
    deploymentId: string,
    status: DeploymentTargetStatus,
  ): Promise<void> {
    await this.db(DEPLOYMENTS)
      .where({ id: deploymentId })
      .update({ target_status: JSON.stringify(status) });
  }

  async insertRollout(
    trx: Knex.Transaction,
    rollout: Omit<RolloutRecord, 'id'>,
  ): Promise<RolloutRecord> {
    const record: RolloutRecord = { ...rollout, id: randomUUID() };
    await trx(ROLLOUTS).insert({
      id: record.id,
      deployment_id: record.deploymentId,
      strategy: record.strategy,
      state: record.state,
      stable_version: record.stableVersion ?? null,
      candidate_version: record.candidateVersion,
      steps: JSON.stringify(record.steps),
      step_index: record.stepIndex,
      weight: record.weight,
      switched: record.switched,
      slo: JSON.stringify(record.slo),
      ab_key: record.abKey ? JSON.stringify(record.abKey) : null,
      started_by: record.startedBy,
      started_at: record.startedAt,
      step_started_at: record.stepStartedAt,
      finished_at: record.finishedAt ?? null,
      last_analysis_at: record.lastAnalysisAt ?? null,
      reason: record.reason ?? null,
    });
    return record;
  }

  async updateRollout(
    trx: Knex.Transaction,
    id: string,
    patch: RolloutPatch,
  ): Promise<void> {
    const row: Record<string, unknown> = {};
    if (patch.state !== undefined) row.state = patch.state;
    if (patch.stepIndex !== undefined) row.step_index = patch.stepIndex;
    if (patch.weight !== undefined) row.weight = patch.weight;
    if (patch.switched !== undefined) row.switched = patch.switched;
    if (patch.stepStartedAt !== undefined) {
      row.step_started_at = patch.stepStartedAt;
    }
    if (patch.finishedAt !== undefined) row.finished_at = patch.finishedAt;
    if (patch.lastAnalysisAt !== undefined) {
      row.last_analysis_at = patch.lastAnalysisAt;
    }
    if (patch.reason !== undefined) row.reason = patch.reason;
    if (Object.keys(row).length > 0) {
      await trx(ROLLOUTS).where({ id }).update(row);
    }
  }

  async getRollout(
    id: string,
    trx?: Knex.Transaction,
  ): Promise<RolloutRecord | undefined> {
    const row = await (trx ?? this.db)(ROLLOUTS).where({ id }).first();
    return row ? toRollout(row) : undefined;
  }

  async listRollouts(
    deploymentId: string,
    limit = 20,
  ): Promise<RolloutRecord[]> {
    const rows = await this.db(ROLLOUTS)
      .where({ deployment_id: deploymentId })
      .orderBy([
        { column: 'started_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(toRollout);
  }

  /** Rollouts that are not finished (progressing or paused), with their deployments. */
  async listUnfinished(): Promise<
    Array<{ deployment: DeploymentRecord; rollout: RolloutRecord }>
  > {
    const rows = await this.db(ROLLOUTS)
      .whereIn('state', ['progressing', 'paused'])
      .orderBy('started_at');
    const result = [];
    for (const row of rows) {
      const deployment = await this.getDeploymentById(row.deployment_id);
      if (deployment && deployment.currentRolloutId === row.id) {
        result.push({ deployment, rollout: toRollout(row) });
      }
    }
    return result;
  }

  async insertAnalysis(
    analysis: NewAnalysis,
    trx?: Knex.Transaction,
  ): Promise<RolloutAnalysis> {
    const row = {
      id: randomUUID(),
      rollout_id: analysis.rolloutId,
      step_index: analysis.stepIndex,
      weight: analysis.weight,
      window_start: analysis.windowStart,
      window_end: analysis.windowEnd,
      verdict: analysis.verdict,
      checks: JSON.stringify(analysis.checks),
      arms: JSON.stringify(analysis.arms),
      comparison: analysis.comparison
        ? JSON.stringify(analysis.comparison)
        : null,
      agreement: analysis.agreement ? JSON.stringify(analysis.agreement) : null,
      created_at: analysis.createdAt,
    };
    await (trx ?? this.db)(ANALYSES).insert(row);
    return toAnalysis(row);
  }

  async listAnalyses(
    rolloutId: string,
    limit = 50,
  ): Promise<RolloutAnalysis[]> {
    const rows = await this.db(ANALYSES)
      .where({ rollout_id: rolloutId })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(toAnalysis);
  }

  async insertEvent(
    event: NewEvent,
    trx?: Knex.Transaction,
  ): Promise<RolloutEvent> {
    const row = {
      id: randomUUID(),
      deployment_id: event.deploymentId,
      rollout_id: event.rolloutId ?? null,
      action: event.action,
      actor: event.actor,
      automatic: event.automatic,
      from_weight: event.fromWeight ?? null,
      to_weight: event.toWeight ?? null,
      comment: event.comment ?? null,
      created_at: event.createdAt,
    };
    await (trx ?? this.db)(EVENTS).insert(row);
    return toEvent(row);
  }

  async listEvents(deploymentId: string, limit = 100): Promise<RolloutEvent[]> {
    const rows = await this.db(EVENTS)
      .where({ deployment_id: deploymentId })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(toEvent);
  }

  async insertConversion(conversion: {
    rolloutId: string;
    arm: RolloutArm;
    key: string;
    value: number;
    createdAt: number;
  }): Promise<void> {
    await this.db(CONVERSIONS).insert({
      rollout_id: conversion.rolloutId,
      arm: conversion.arm,
      key: conversion.key,
      value: conversion.value,
      created_at: conversion.createdAt,
    });
  }

  /** The sum of conversion values per arm in a window. */
  async conversionTotals(
    rolloutId: string,
    since: number,
    until: number,
  ): Promise<Record<RolloutArm, number>> {
    const rows: Array<{ arm: string; total: number | string | null }> =
      await this.db(CONVERSIONS)
        .where({ rollout_id: rolloutId })
        .where('created_at', '>=', since)
        .where('created_at', '<=', until)
        .select('arm')
        .sum({ total: 'value' })
        .groupBy('arm');
    const totals: Record<RolloutArm, number> = { stable: 0, candidate: 0 };
    for (const row of rows) {
      if (row.arm === 'stable' || row.arm === 'candidate') {
        totals[row.arm] = Number(row.total ?? 0);
      }
    }
    return totals;
  }
}

/** A stored deployment with its rollout, as the API shows it. */
export function toDeploymentView(
  deployment: DeploymentRecord,
  rollout: RolloutRecord | undefined,
): Deployment {
  const candidateWeight =
    rollout && isUnfinished(rollout) ? liveCandidateWeight(rollout) : 0;
  return {
    id: deployment.id,
    modelName: deployment.modelName,
    entityRef: deployment.entityRef,
    environment: deployment.environment,
    target: deployment.target,
    ...(deployment.stableVersion !== undefined
      ? { stableVersion: deployment.stableVersion }
      : {}),
    ...(rollout ? { rollout: toRolloutView(rollout) } : {}),
    weights: {
      stable:
        deployment.stableVersion === undefined && candidateWeight === 0
          ? 0
          : 100 - candidateWeight,
      candidate: candidateWeight,
    },
    ...(deployment.targetStatus
      ? { targetStatus: deployment.targetStatus }
      : {}),
    createdAt: iso(deployment.createdAt),
    updatedAt: iso(deployment.updatedAt),
  };
}

export function toRolloutView(rollout: RolloutRecord): Rollout {
  return {
    id: rollout.id,
    deploymentId: rollout.deploymentId,
    strategy: rollout.strategy,
    state: rollout.state,
    ...(rollout.stableVersion !== undefined
      ? { stableVersion: rollout.stableVersion }
      : {}),
    candidateVersion: rollout.candidateVersion,
    steps: rollout.steps,
    stepIndex: rollout.stepIndex,
    weight: rollout.weight,
    ...(rollout.strategy === 'blue-green'
      ? { switched: rollout.switched }
      : {}),
    slo: rollout.slo,
    ...(rollout.abKey ? { abKey: rollout.abKey } : {}),
    startedBy: rollout.startedBy,
    startedAt: iso(rollout.startedAt),
    stepStartedAt: iso(rollout.stepStartedAt),
    ...(rollout.finishedAt !== undefined
      ? { finishedAt: iso(rollout.finishedAt) }
      : {}),
    ...(rollout.reason !== undefined ? { reason: rollout.reason } : {}),
    ...(rollout.lastAnalysisAt !== undefined
      ? { lastAnalysisAt: iso(rollout.lastAnalysisAt) }
      : {}),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const num = (value: unknown): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);

function toDeployment(row: any): DeploymentRecord {
  return {
    id: row.id,
    modelName: row.model_name,
    entityRef: row.entity_ref,
    environment: row.environment,
    target: row.target,
    stableVersion: num(row.stable_version),
    currentRolloutId: row.current_rollout_id ?? undefined,
    targetStatus: row.target_status ? JSON.parse(row.target_status) : undefined,
    revision: Number(row.revision),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toRollout(row: any): RolloutRecord {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    strategy: row.strategy,
    state: row.state,
    stableVersion: num(row.stable_version),
    candidateVersion: Number(row.candidate_version),
    steps: JSON.parse(row.steps),
    stepIndex: Number(row.step_index),
    weight: Number(row.weight),
    switched: Boolean(row.switched),
    slo: JSON.parse(row.slo),
    abKey: row.ab_key ? JSON.parse(row.ab_key) : undefined,
    startedBy: row.started_by,
    startedAt: Number(row.started_at),
    stepStartedAt: Number(row.step_started_at),
    finishedAt: num(row.finished_at),
    lastAnalysisAt: num(row.last_analysis_at),
    reason: row.reason ?? undefined,
  };
}

function toAnalysis(row: any): RolloutAnalysis {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    stepIndex: Number(row.step_index),
    weight: Number(row.weight),
    windowStart: iso(Number(row.window_start)),
    windowEnd: iso(Number(row.window_end)),
    verdict: row.verdict,
    checks: JSON.parse(row.checks),
    arms: JSON.parse(row.arms),
    ...(row.comparison ? { comparison: JSON.parse(row.comparison) } : {}),
    ...(row.agreement ? { agreement: JSON.parse(row.agreement) } : {}),
    createdAt: iso(Number(row.created_at)),
  };
}

function toEvent(row: any): RolloutEvent {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    ...(row.rollout_id ? { rolloutId: row.rollout_id } : {}),
    action: row.action,
    actor: row.actor,
    automatic: Boolean(row.automatic),
    ...(row.from_weight !== null
      ? { fromWeight: Number(row.from_weight) }
      : {}),
    ...(row.to_weight !== null ? { toWeight: Number(row.to_weight) } : {}),
    ...(row.comment !== null ? { comment: row.comment } : {}),
    createdAt: iso(Number(row.created_at)),
  };
}
