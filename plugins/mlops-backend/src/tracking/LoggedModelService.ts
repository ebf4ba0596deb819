import { randomUUID } from 'node:crypto';
import { InputError, NotFoundError } from '@backstage/errors';
import type { Page } from '@loopline/mlops-common';
import { readPage } from '../lib/paging';
import {
  OrderByClause,
  parseOrderBy,
  parseSearchFilter,
} from '../lib/searchFilter';
import {
  LOGGED_MODEL_STATUSES,
  LoggedModel,
  LoggedModelStatus,
  LoggedModelStore,
} from './LoggedModelStore';
import { LOGGED_MODEL_SEARCH_SCHEMA } from './searchSchemas';
import type { TrackingService } from './TrackingService';
import {
  requireActiveExperiment,
  TRACKING_LIMITS,
  validateKeyValue,
  validateMaxResults,
} from './validation';

/**
 * MLflow 3's logged models: what `mlflow.<flavor>.log_model` creates before
 * it uploads the model's files (to `<experiment artifacts>/models/<id>/artifacts`
 * through the proxied artifact store) and finalizes it. Errors are
 * @backstage/errors classes (the MLflow router maps them to MLflow's codes).
 */
export class LoggedModelService {
  constructor(
    private readonly store: LoggedModelStore,
    private readonly tracking: TrackingService,
    private readonly now: () => number = Date.now,
  ) {}

  async create(request: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params?: Record<string, string>;
    tags?: Record<string, string>;
  }): Promise<LoggedModel> {
    const experiment = await this.tracking.getExperiment(request.experimentId);
    requireActiveExperiment(experiment, 'log a model to');
    if (request.sourceRunId) {
      const run = await this.tracking.getRun(request.sourceRunId);
      if (run.experimentId !== experiment.experimentId) {
        throw new InputError(
          `Run '${run.runId}' belongs to experiment '${run.experimentId}', not '${experiment.experimentId}'`,
        );
      }
    }
    const params = request.params ?? {};
    const tags = request.tags ?? {};
    const owner = 'a new logged model';
    for (const [key, value] of Object.entries(params)) {
      validateKeyValue(
        'param',
        key,
        value,
        owner,
        TRACKING_LIMITS.maxParamValueLength,
      );
    }
    for (const [key, value] of Object.entries(tags)) {
      validateKeyValue(
        'tag',
        key,
        value,
        owner,
        TRACKING_LIMITS.maxRunTagValueLength,
      );
    }
    const modelId = `m-${randomUUID().replace(/-/g, '')}`;
    const name = request.name?.trim() || `model-${modelId.slice(2, 10)}`;
    if (name.length > 500) {
      throw new InputError(`A logged model name is at most 500 characters`);
    }
    const time = this.now();
    const base = experiment.artifactLocation.replace(/\/+$/, '');
    const model: LoggedModel = {
      modelId,
      experimentId: experiment.experimentId,
      name,
      ...(request.modelType ? { modelType: request.modelType } : {}),
      ...(request.sourceRunId ? { sourceRunId: request.sourceRunId } : {}),
      status: 'LOGGED_MODEL_PENDING',
      artifactLocation: `${base}/models/${modelId}/artifacts`,
      creationTimestamp: time,
      lastUpdatedTimestamp: time,
      tags,
      params,
    };
    await this.store.transaction(tx => tx.insert(model));
    return this.get(modelId);
  }

  async get(modelId: string): Promise<LoggedModel> {
    const model =
      typeof modelId === 'string' ? await this.store.get(modelId) : undefined;
    if (!model) {
      throw new NotFoundError(`Logged model '${modelId}' not found`);
    }
    return model;
  }

  /** Sets the status once the files are uploaded (READY) or failed to (UPLOAD_FAILED). */
  async finalize(modelId: string, status: string): Promise<LoggedModel> {
    if (!LOGGED_MODEL_STATUSES.includes(status as LoggedModelStatus)) {
      throw new InputError(
        `Invalid logged model status '${status}'; expected one of ${LOGGED_MODEL_STATUSES.join(
          ', ',
        )}`,
      );
    }
    await this.get(modelId);
    await this.store.update(modelId, {
      status: status as LoggedModelStatus,
      updatedAt: this.now(),
    });
    return this.get(modelId);
  }

  async delete(modelId: string): Promise<void> {
    await this.get(modelId);
    await this.store.transaction(tx => tx.delete(modelId));
  }

  async setTags(modelId: string, tags: Record<string, string>): Promise<void> {
    const owner = `logged model '${modelId}'`;
    for (const [key, value] of Object.entries(tags)) {
      validateKeyValue(
        'tag',
        key,
        value,
        owner,
        TRACKING_LIMITS.maxRunTagValueLength,
      );
    }
    await this.get(modelId);
    await this.store.transaction(async tx => {
      await tx.upsertTags(modelId, tags);
      await tx.update(modelId, { updatedAt: this.now() });
    });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.get(modelId);
    if (!(await this.store.deleteTag(modelId, key))) {
      throw new NotFoundError(`No tag '${key}' on logged model '${modelId}'`);
    }
  }

  /** Params are written once: the same value again is a no-op, another value is refused. */
  async logParams(
    modelId: string,
    params: Record<string, string>,
  ): Promise<void> {
    const owner = `logged model '${modelId}'`;
    for (const [key, value] of Object.entries(params)) {
      validateKeyValue(
        'param',
        key,
        value,
        owner,
        TRACKING_LIMITS.maxParamValueLength,
      );
    }
    await this.store.transaction(async tx => {
      if (!(await tx.get(modelId, { forUpdate: true }))) {
        throw new NotFoundError(`Logged model '${modelId}' not found`);
      }
      const existing = await tx.getParams(modelId);
      for (const [key, value] of Object.entries(params)) {
        if (key in existing && existing[key] !== value) {
          throw new InputError(
            `Param '${key}' of ${owner} is already '${existing[key]}'; params cannot be changed (got '${value}')`,
          );
        }
      }
      await tx.insertParams(modelId, params);
      await tx.update(modelId, { updatedAt: this.now() });
    });
  }

  /** MLflow's `runs/outputs`: the logged models a run produced, at a step. */
  async logRunOutputs(
    runId: string,
    models: Array<{ modelId: string; step?: number }>,
  ): Promise<void> {
    await this.tracking.getRun(runId);
    for (const model of models) await this.get(model.modelId);
    await this.store.addRunOutputs(
      runId,
      models.map(m => ({ modelId: m.modelId, step: m.step ?? 0 })),
    );
  }

  async runOutputs(runId: string) {
    await this.tracking.getRun(runId);
    return this.store.runOutputs(runId);
  }

  /**
   * MLflow's `logged-models/search`: models of the given experiments,
   * `filter` in MLflow's grammar (`name = 'x' AND tags.k = 'v'`), ordered by
   * `orderBy` fields (newest first by default).
   */
  async search(request: {
    experimentIds: string[];
    filter?: string;
    orderBy?: Array<{ fieldName: string; ascending?: boolean }>;
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<LoggedModel>> {
    if (request.experimentIds.length === 0) {
      throw new InputError('experiment_ids must name at least one experiment');
    }
    const clauses = parseSearchFilter(
      request.filter,
      LOGGED_MODEL_SEARCH_SCHEMA,
    );
    const orderBy: OrderByClause[] = (request.orderBy ?? []).flatMap(order =>
      parseOrderBy(
        [`${order.fieldName} ${order.ascending === false ? 'DESC' : 'ASC'}`],
        LOGGED_MODEL_SEARCH_SCHEMA,
      ),
    );
    const limit = validateMaxResults(request.maxResults);
    return readPage(request.pageToken, limit, (offset, rows) =>
      this.store.search({
        experimentIds: request.experimentIds,
        clauses,
        orderBy,
        offset,
        limit: rows,
      }),
    );
  }
}
