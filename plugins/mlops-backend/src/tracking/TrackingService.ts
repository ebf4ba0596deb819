import { randomUUID } from 'node:crypto';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  Experiment,
  MetricPoint,
  Page,
  Run,
  RunStatus,
} from '@loopline/mlops-common';
import { parseOrderBy, parseSearchFilter } from '../lib/searchFilter';
import { EXPERIMENT_SEARCH_SCHEMA, RUN_SEARCH_SCHEMA } from './searchSchemas';
import { InvalidStateError } from '../lib/errors';
import { readPage } from '../lib/paging';
import { generateRunName } from './names';
import {
  checkCount,
  requireActiveExperiment,
  requireActiveRun,
  TRACKING_LIMITS,
  validateExperimentId,
  validateExperimentName,
  validateExperimentTag,
  validateInteger,
  validateMaxResults,
  validateMetric,
  validateParam,
  validatePositiveInteger,
  validateRunTag,
  validateViewType,
} from './validation';
import type { MetricInput } from './validation';
import {
  ExperimentInfo,
  KeyValue,
  RunInfo,
  TrackingStore,
  UniqueViolationError,
  ViewType,
} from './TrackingStore';

export { TRACKING_LIMITS } from './validation';
export type { MetricInput } from './validation';

export const RUN_STATUSES: ReadonlyArray<RunStatus> = [
  'RUNNING',
  'SCHEDULED',
  'FINISHED',
  'FAILED',
  'KILLED',
];

/** The experiment MLflow clients use when none is set. */
export const DEFAULT_EXPERIMENT_ID = '0';

/**
 * An experiment tag naming the registered model whose experiment it is; an
 * experiment named like the model belongs to it too.
 */
export const MODEL_EXPERIMENT_TAG = 'loopline.dev/model';

const RUN_NAME_TAG = 'mlflow.runName';
const USER_TAG = 'mlflow.user';

export interface LogBatchRequest {
  runId: string;
  metrics?: MetricInput[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

/** Metrics (latest value per key) and params of a run, as the registry shows them on a version. */
export interface RunSummary {
  metrics: Record<string, number>;
  params: Record<string, string>;
}

/**
 * Experiments, runs, params, tags and metrics with MLflow's rules. Errors are
 * @backstage/errors classes whose messages name the experiment, run and key:
 * NotFoundError (unknown experiment / run / tag), ConflictError (experiment
 * name taken), InputError (bad value, limit exceeded, param changed, deleted
 * run or experiment written to).
 */
export class TrackingService {
  private readonly now: () => number;

  constructor(
    private readonly store: TrackingStore,
    options?: { now?: () => number },
  ) {
    this.now = options?.now ?? Date.now;
  }

  // -------------------------------------------------------------------------
  // Experiments

  async createExperiment(request: {
    name: string;
    artifactLocation?: string;
    tags?: Record<string, string>;
  }): Promise<Experiment> {
    const name = validateExperimentName(request.name);
    const tags = toKeyValues(request.tags);
    if (tags.length > TRACKING_LIMITS.maxTagsOnCreate) {
      throw new InputError(
        `Experiment '${name}' has ${tags.length} tags; at most ${TRACKING_LIMITS.maxTagsOnCreate} are allowed`,
      );
    }
    for (const tag of tags) validateExperimentTag(name, tag);
    const time = this.now();
    const experimentId = await this.store
      .transaction(async tx => {
        if (await tx.getExperimentByName(name)) {
          throw new ConflictError(
            `Experiment with name '${name}' already exists`,
          );
        }
        const id = await tx.insertExperiment({
          name,
          artifactLocation: request.artifactLocation ?? '',
          time,
        });
        if (!request.artifactLocation) {
          await tx.updateExperiment(id, {
            artifactLocation: `mlflow-artifacts:/${id}`,
          });
        }
        if (tags.length > 0) await tx.upsertExperimentTags(id, tags);
        return id;
      })
      .catch(error => {
        if (error instanceof UniqueViolationError) {
          throw new ConflictError(
            `Experiment with name '${name}' already exists`,
          );
        }
        throw error;
      });
    return this.getExperiment(experimentId);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const info = await this.requireExperiment(this.store, experimentId);
    return (await this.withExperimentTags([info]))[0];
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const info = await this.store.getExperimentByName(name);
    if (!info) {
      throw new NotFoundError(`Experiment with name '${name}' does not exist`);
    }
    return (await this.withExperimentTags([info]))[0];
  }

  /**
   * MLflow's experiments/search: filter on `name`, `creation_time`,
   * `last_update_time` and `tags.<key>`; default order `creation_time DESC`,
   * then experiment id.
   */
  async searchExperiments(request: {
    filter?: string;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
    viewType?: ViewType;
  }): Promise<Page<Experiment>> {
    const clauses = parseSearchFilter(request.filter, EXPERIMENT_SEARCH_SCHEMA);
    const orderBy = parseOrderBy(request.orderBy, EXPERIMENT_SEARCH_SCHEMA);
    if (orderBy.length === 0) {
      orderBy.push(
        { type: 'attribute', key: 'creation_time', ascending: false },
        { type: 'attribute', key: 'experiment_id', ascending: true },
      );
    }
    const limit = validateMaxResults(request.maxResults);
    const viewType = validateViewType(request.viewType, 'viewType');
    const page = await readPage(request.pageToken, limit, (offset, rows) =>
      this.store.searchExperiments({
        clauses,
        orderBy,
        viewType,
        offset,
        limit: rows,
      }),
    );
    return { ...page, items: await this.withExperimentTags(page.items) };
  }

  async setExperimentTag(
    experimentId: string,
    key: string,
    value: string,
  ): Promise<void> {
    await this.store.transaction(async tx => {
      const experiment = await this.requireExperiment(tx, experimentId, true);
      requireActiveExperiment(experiment, 'set a tag on');
      validateExperimentTag(experiment.name, { key, value });
      await tx.upsertExperimentTags(experiment.experimentId, [{ key, value }]);
    });
  }

  /** MLflow's `experiments/update`: renames an active experiment. */
  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    const name = validateExperimentName(newName);
    await this.store.transaction(async tx => {
      const experiment = await this.requireExperiment(tx, experimentId, true);
      if (experiment.lifecycleStage !== 'active') {
        throw new InvalidStateError(
          `Cannot rename experiment '${experiment.experimentId}' (${experiment.name}): it is deleted`,
        );
      }
      try {
        await tx.updateExperiment(experiment.experimentId, {
          name,
          lastUpdateTime: this.now(),
        });
      } catch (error) {
        if (error instanceof UniqueViolationError) {
          throw new ConflictError(
            `Experiment with name '${name}' already exists`,
          );
        }
        throw error;
      }
    });
  }

  /** Marks the experiment and its active runs deleted. */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.store.transaction(async tx => {
      const experiment = await this.requireExperiment(tx, experimentId, true);
      if (experiment.experimentId === DEFAULT_EXPERIMENT_ID) {
        throw new InputError(
          `The default experiment '${DEFAULT_EXPERIMENT_ID}' cannot be deleted`,
        );
      }
      if (experiment.lifecycleStage === 'deleted') {
        throw new InputError(
          `Experiment '${experiment.experimentId}' (${experiment.name}) is already deleted`,
        );
      }
      const time = this.now();
      await tx.updateExperiment(experiment.experimentId, {
        lifecycleStage: 'deleted',
        lastUpdateTime: time,
        deletedTime: time,
      });
      await tx.deleteRunsOfExperiment(experiment.experimentId, time);
    });
  }

  /** Restores the experiment and the runs that were deleted with it (or after it). */
  async restoreExperiment(experimentId: string): Promise<void> {
    await this.store.transaction(async tx => {
      const experiment = await this.requireExperiment(tx, experimentId, true);
      if (experiment.lifecycleStage !== 'deleted') {
        throw new InputError(
          `Experiment '${experiment.experimentId}' (${experiment.name}) is not deleted`,
        );
      }
      await tx.updateExperiment(experiment.experimentId, {
        lifecycleStage: 'active',
        lastUpdateTime: this.now(),
        deletedTime: null,
      });
      await tx.restoreRunsOfExperiment(
        experiment.experimentId,
        experiment.deletedTime ?? 0,
      );
    });
  }

  // -------------------------------------------------------------------------
  // Runs

  /**
   * Creates a RUNNING run. The run name is `runName`, else the tag
   * `mlflow.runName`, else a generated one; the tags `mlflow.runName` and
   * `mlflow.user` (= userId) are set.
   */
  async createRun(request: {
    experimentId: string;
    userId: string;
    runName?: string;
    startTime?: number;
    tags?: Record<string, string>;
  }): Promise<Run> {
    const tags = new Map(Object.entries(request.tags ?? {}));
    if (tags.size > TRACKING_LIMITS.maxTagsOnCreate) {
      throw new InputError(
        `A new run of experiment '${request.experimentId}' has ${tags.size} tags; at most ${TRACKING_LIMITS.maxTagsOnCreate} are allowed`,
      );
    }
    const tagRunName = tags.get(RUN_NAME_TAG);
    if (
      request.runName !== undefined &&
      request.runName !== '' &&
      tagRunName !== undefined &&
      tagRunName !== request.runName
    ) {
      throw new InputError(
        `Both runName '${request.runName}' and the tag '${RUN_NAME_TAG}' = '${tagRunName}' are given, with different values`,
      );
    }
    const runName = request.runName || tagRunName || generateRunName();
    tags.set(RUN_NAME_TAG, runName);
    tags.set(USER_TAG, request.userId);
    const startTime =
      request.startTime === undefined
        ? this.now()
        : validateInteger(request.startTime, `startTime of a new run`);
    const runId = randomUUID().replace(/-/g, '');
    const tagList = toKeyValues(Object.fromEntries(tags));
    for (const tag of tagList) validateRunTag(runId, tag);

    await this.store.transaction(async tx => {
      const experiment = await this.requireExperiment(
        tx,
        request.experimentId,
        true,
      );
      requireActiveExperiment(experiment, 'create a run in');
      await tx.insertRun({
        runId,
        experimentId: experiment.experimentId,
        runName,
        userId: request.userId,
        status: 'RUNNING',
        startTime,
        artifactUri: `${experiment.artifactLocation.replace(
          /\/+$/,
          '',
        )}/${runId}/artifacts`,
      });
      await tx.upsertTags(runId, tagList);
    });
    return this.getRun(runId);
  }

  async updateRun(request: {
    runId: string;
    status?: RunStatus;
    endTime?: number;
    runName?: string;
  }): Promise<Run> {
    const { runId } = request;
    if (
      request.status !== undefined &&
      !RUN_STATUSES.includes(request.status)
    ) {
      throw new InputError(
        `Invalid status '${
          request.status
        }' for run '${runId}'; expected one of ${RUN_STATUSES.join(', ')}`,
      );
    }
    const endTime =
      request.endTime === undefined
        ? undefined
        : validateInteger(request.endTime, `endTime of run '${runId}'`);
    if (request.runName !== undefined && request.runName !== '') {
      validateRunTag(runId, { key: RUN_NAME_TAG, value: request.runName });
    }
    await this.store.transaction(async tx => {
      const run = await this.requireRun(tx, runId, true);
      requireActiveRun(run, 'update');
      await tx.updateRun(runId, {
        status: request.status,
        endTime,
        runName: request.runName || undefined,
      });
      if (request.runName) {
        await tx.upsertTags(runId, [
          { key: RUN_NAME_TAG, value: request.runName },
        ]);
      }
    });
    return this.getRun(runId);
  }

  /** A run with its params, tags and latest metrics (deleted runs too). */
  async getRun(runId: string): Promise<Run> {
    const info = await this.requireRun(this.store, runId);
    return (await this.store.withDetails([info]))[0];
  }

  async deleteRun(runId: string): Promise<void> {
    await this.store.transaction(async tx => {
      const run = await this.requireRun(tx, runId, true);
      if (run.lifecycleStage === 'deleted') return;
      await tx.updateRun(runId, {
        lifecycleStage: 'deleted',
        deletedTime: this.now(),
      });
    });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.store.transaction(async tx => {
      const run = await this.requireRun(tx, runId, true);
      if (run.lifecycleStage === 'active') return;
      const experiment = await this.requireExperiment(tx, run.experimentId);
      if (experiment.lifecycleStage === 'deleted') {
        throw new InputError(
          `Run '${runId}' cannot be restored: its experiment '${experiment.experimentId}' (${experiment.name}) is deleted; restore the experiment`,
        );
      }
      await tx.updateRun(runId, {
        lifecycleStage: 'active',
        deletedTime: null,
      });
    });
  }

  /**
   * Logs metrics (appended to the history), params (written once) and tags
   * (overwritten) in one transaction: on any error nothing of the batch is
   * stored. A point identical to one already logged (key, value, timestamp,
   * step) is stored once.
   */
  async logBatch(request: LogBatchRequest): Promise<void> {
    const { runId } = request;
    const metrics = request.metrics ?? [];
    const params = request.params ?? [];
    const tags = request.tags ?? [];

    checkCount(
      runId,
      'metrics',
      metrics.length,
      TRACKING_LIMITS.maxMetricsPerBatch,
    );
    checkCount(
      runId,
      'params',
      params.length,
      TRACKING_LIMITS.maxParamsPerBatch,
    );
    checkCount(runId, 'tags', tags.length, TRACKING_LIMITS.maxTagsPerBatch);
    const total = metrics.length + params.length + tags.length;
    if (total > TRACKING_LIMITS.maxEntitiesPerBatch) {
      throw new InputError(
        `A batch for run '${runId}' has ${total} metrics, params and tags in total; at most ${TRACKING_LIMITS.maxEntitiesPerBatch} are allowed`,
      );
    }

    const points = metrics.map(metric => validateMetric(runId, metric));
    const paramMap = new Map<string, string>();
    for (const param of params) {
      validateParam(runId, param);
      const earlier = paramMap.get(param.key);
      if (earlier !== undefined && earlier !== param.value) {
        throw new InputError(
          `Param '${param.key}' is given twice in one batch for run '${runId}' with different values: '${earlier}' and '${param.value}'`,
        );
      }
      paramMap.set(param.key, param.value);
    }
    const tagMap = new Map<string, string>();
    for (const tag of tags) {
      validateRunTag(runId, tag);
      tagMap.set(tag.key, tag.value); // the last value of a key wins
    }

    await this.store.transaction(async tx => {
      const run = await this.requireRun(tx, runId, true);
      requireActiveRun(run, 'log to');

      if (paramMap.size > 0) {
        const existing = await tx.getParams(runId, [...paramMap.keys()]);
        const fresh: KeyValue[] = [];
        for (const [key, value] of paramMap) {
          const old = existing.get(key);
          if (old === undefined) {
            fresh.push({ key, value });
          } else if (old !== value) {
            throw new InputError(
              `Changing param values is not allowed. Param with key '${key}' was already logged with value '${old}' for run '${runId}'; attempted to log the new value '${value}'`,
            );
          }
        }
        if (fresh.length > 0) await tx.insertParams(runId, fresh);
      }

      if (tagMap.size > 0) {
        await tx.upsertTags(
          runId,
          [...tagMap].map(([key, value]) => ({ key, value })),
        );
        const runName = tagMap.get(RUN_NAME_TAG);
        if (runName) await tx.updateRun(runId, { runName });
      }

      if (points.length > 0) {
        await tx.insertMetrics(runId, dedupePoints(points));
        const best = new Map<string, MetricPoint>();
        for (const point of points) {
          const current = best.get(point.key);
          if (!current || isLater(point, current)) best.set(point.key, point);
        }
        const stored = await tx.getLatestMetrics(runId, [...best.keys()]);
        const changed = [...best.values()].filter(point => {
          const old = stored.get(point.key);
          return !old || isLater(point, old);
        });
        if (changed.length > 0) await tx.upsertLatestMetrics(runId, changed);
      }
    });
  }

  async logMetric(runId: string, metric: MetricInput): Promise<void> {
    await this.logBatch({ runId, metrics: [metric] });
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch({ runId, params: [{ key, value }] });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch({ runId, tags: [{ key, value }] });
  }

  /** Deletes a run tag; NotFoundError when the run has no such tag. */
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.store.transaction(async tx => {
      const run = await this.requireRun(tx, runId, true);
      requireActiveRun(run, 'delete a tag of');
      if (!(await tx.deleteTag(runId, key))) {
        throw new NotFoundError(`No tag with key '${key}' on run '${runId}'`);
      }
    });
  }

  /**
   * MLflow's runs/search over `experimentIds`: filter on `metrics.<key>`,
   * `params.<key>`, `tags.<key>` and the attributes run_id, run_name, status,
   * user_id, artifact_uri, start_time, end_time; default order
   * `start_time DESC`, ties broken by run id.
   */
  async searchRuns(request: {
    experimentIds: string[];
    filter?: string;
    runViewType?: ViewType;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<Page<Run>> {
    if (
      request.experimentIds.length > TRACKING_LIMITS.maxExperimentsPerSearch
    ) {
      throw new InputError(
        `A search may name at most ${TRACKING_LIMITS.maxExperimentsPerSearch} experiments, got ${request.experimentIds.length}`,
      );
    }
    const experimentIds = request.experimentIds.map(validateExperimentId);
    const clauses = parseSearchFilter(request.filter, RUN_SEARCH_SCHEMA);
    const orderBy = parseOrderBy(request.orderBy, RUN_SEARCH_SCHEMA);
    const limit = validateMaxResults(request.maxResults);
    const viewType = validateViewType(request.runViewType, 'runViewType');
    const page = await readPage(request.pageToken, limit, (offset, rows) =>
      experimentIds.length === 0
        ? Promise.resolve([])
        : this.store.searchRuns({
            experimentIds,
            clauses,
            orderBy,
            viewType,
            offset,
            limit: rows,
          }),
    );
    return { ...page, items: await this.store.withDetails(page.items) };
  }

  /**
   * A metric's history ordered by step, then timestamp. Without `maxResults`
   * the whole (remaining) history comes in one page.
   */
  async getMetricHistory(request: {
    runId: string;
    key: string;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<MetricPoint>> {
    const { runId, key } = request;
    const limit =
      request.maxResults === undefined
        ? undefined
        : validatePositiveInteger(request.maxResults, 'maxResults');
    return readPage(request.pageToken, limit, async (offset, rows) => {
      await this.requireRun(this.store, runId);
      return this.store.getMetricHistory({ runId, key, offset, limit: rows });
    });
  }

  // -------------------------------------------------------------------------
  // For the UI and the registry

  /** A metric's whole history, by step then timestamp (NotFoundError for an unknown run). */
  async getFullMetricHistory(
    runId: string,
    key: string,
  ): Promise<MetricPoint[]> {
    return (await this.getMetricHistory({ runId, key })).items;
  }

  /**
   * The runs behind a registered model, newest first: the active runs of its
   * experiments (the active experiments named like the model or tagged
   * `loopline.dev/model` = the model's name), at most `maxResults` (default
   * 1000) of them, plus the given runs (its versions' source runs), whatever
   * their lifecycle stage.
   */
  async listRunsOfModel(request: {
    modelName: string;
    runIds?: string[];
    maxResults?: number;
  }): Promise<Run[]> {
    const limit = validateMaxResults(request.maxResults);
    const experimentIds = await this.store.findExperimentIdsByNameOrTag(
      request.modelName,
      MODEL_EXPERIMENT_TAG,
    );
    const fromExperiments =
      experimentIds.length === 0
        ? []
        : await this.store.searchRuns({
            experimentIds,
            clauses: [],
            orderBy: [],
            viewType: 'ACTIVE_ONLY',
            offset: 0,
            limit,
          });
    const seen = new Set(fromExperiments.map(run => run.runId));
    const sources = await this.store.getRunInfos(
      (request.runIds ?? []).filter(id => !seen.has(id)),
    );
    return this.store.withDetails(
      sortNewestFirst([...fromExperiments, ...sources]),
    );
  }

  /** The runs that exist among `runIds` (deleted ones too), newest first. */
  async listRunsByIds(runIds: string[]): Promise<Run[]> {
    const infos = await this.store.getRunInfos(runIds);
    return this.store.withDetails(sortNewestFirst(infos));
  }

  /**
   * Latest metric values and params of the runs that exist among `runIds`:
   * the registry's `runLookup`.
   */
  async lookupRunSummaries(runIds: string[]): Promise<Map<string, RunSummary>> {
    const runs = await this.store.withDetails(
      await this.store.getRunInfos(runIds),
    );
    return new Map(
      runs.map(run => [
        run.runId,
        {
          metrics: Object.fromEntries(run.metrics.map(m => [m.key, m.value])),
          params: run.params,
        },
      ]),
    );
  }

  // -------------------------------------------------------------------------
  // Helpers

  private async requireExperiment(
    store: TrackingStore,
    experimentId: string,
    forUpdate = false,
  ): Promise<ExperimentInfo> {
    const id = validateExperimentId(experimentId);
    const experiment = await store.getExperiment(id, { forUpdate });
    if (!experiment) {
      throw new NotFoundError(`Experiment '${experimentId}' does not exist`);
    }
    return experiment;
  }

  private async requireRun(
    store: TrackingStore,
    runId: string,
    forUpdate = false,
  ): Promise<RunInfo> {
    const run = await store.getRunInfo(runId, { forUpdate });
    if (!run) {
      throw new NotFoundError(`Run '${runId}' not found`);
    }
    return run;
  }

  private async withExperimentTags(
    infos: ExperimentInfo[],
  ): Promise<Experiment[]> {
    const tags = await this.store.getExperimentTags(
      infos.map(info => info.experimentId),
    );
    return infos.map(info => {
      const { deletedTime: _deletedTime, ...experiment } = info;
      return { ...experiment, tags: tags.get(info.experimentId) ?? {} };
    });
  }
}

function toKeyValues(record: Record<string, string> | undefined): KeyValue[] {
  return Object.entries(record ?? {}).map(([key, value]) => ({ key, value }));
}

/** By start time, newest first, then by run id. */
function sortNewestFirst(runs: RunInfo[]): RunInfo[] {
  return runs.sort(
    (a, b) => b.startTime - a.startTime || a.runId.localeCompare(b.runId),
  );
}

// ---------------------------------------------------------------------------
// Metrics

/** NaN sorts below every number. */
function compareValues(a: number, b: number): number {
  const aNan = Number.isNaN(a);
  const bNan = Number.isNaN(b);
  if (aNan && bNan) return 0;
  if (aNan) return -1;
  if (bNan) return 1;
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Whether `a` replaces `b` as the latest point: later timestamp, then larger value, then larger step. */
function isLater(a: MetricPoint, b: MetricPoint): boolean {
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  const byValue = compareValues(a.value, b.value);
  if (byValue !== 0) return byValue > 0;
  return a.step > b.step;
}

function dedupePoints(points: MetricPoint[]): MetricPoint[] {
  const seen = new Set<string>();
  return points.filter(point => {
    const id = JSON.stringify([
      point.key,
      point.step,
      point.timestamp,
      Number.isNaN(point.value) ? 'NaN' : String(point.value),
    ]);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
