import type { LoggedModel } from '../tracking';
import type {
  Experiment,
  MetricPoint,
  ModelVersion,
  RegisteredModel,
  Run,
} from '@loopline/mlops-common';

/** MLflow's `[{key, value}]` from a record. */
function keyValues(record: Record<string, string>) {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

/**
 * A metric value as MLflow writes it: JSON has no NaN or Infinity, so MLflow's
 * server sends them as the strings "NaN", "Infinity" and "-Infinity".
 */
function metricValue(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function toMlflowMetric(point: MetricPoint) {
  return {
    key: point.key,
    value: metricValue(point.value),
    timestamp: point.timestamp,
    step: point.step,
  };
}

export function toMlflowExperiment(experiment: Experiment) {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    creation_time: experiment.creationTime,
    last_update_time: experiment.lastUpdateTime,
    tags: keyValues(experiment.tags),
  };
}

export function toMlflowRunInfo(run: Run) {
  return {
    run_id: run.runId,
    run_uuid: run.runId,
    experiment_id: run.experimentId,
    run_name: run.runName,
    user_id: run.userId,
    status: run.status,
    start_time: run.startTime,
    ...(run.endTime !== undefined ? { end_time: run.endTime } : {}),
    artifact_uri: run.artifactUri,
    lifecycle_stage: run.lifecycleStage,
  };
}

export function toMlflowRun(run: Run) {
  return {
    info: toMlflowRunInfo(run),
    data: {
      metrics: run.metrics.map(toMlflowMetric),
      params: keyValues(run.params),
      tags: keyValues(run.tags),
    },
  };
}

export function toMlflowModelVersion(version: ModelVersion) {
  return {
    name: version.name,
    version: String(version.version),
    creation_timestamp: version.createdAt,
    last_updated_timestamp: version.updatedAt,
    user_id: version.creator,
    current_stage: version.stage,
    description: version.description,
    source: version.source,
    ...(version.runId ? { run_id: version.runId } : {}),
    ...(version.modelId ? { model_id: version.modelId } : {}),
    status: version.status,
    ...(version.statusMessage ? { status_message: version.statusMessage } : {}),
    tags: keyValues(version.tags),
    aliases: version.aliases,
  };
}

export function toMlflowRegisteredModel(
  model: RegisteredModel,
  latestVersions: ModelVersion[],
) {
  return {
    name: model.name,
    creation_timestamp: model.createdAt,
    last_updated_timestamp: model.updatedAt,
    description: model.description,
    latest_versions: latestVersions.map(toMlflowModelVersion),
    tags: keyValues(model.tags),
    aliases: Object.entries(model.aliases).map(([alias, version]) => ({
      alias,
      version: String(version),
    })),
  };
}

/**
 * MLflow's LoggedModel: `{info, data}`; `registrations` are the registry
 * versions created from it (`{name, version}`, the version as a string).
 */
export function toMlflowLoggedModel(
  model: LoggedModel,
  registrations: Array<{ name: string; version: number }> = [],
) {
  return {
    info: {
      model_id: model.modelId,
      experiment_id: model.experimentId,
      name: model.name,
      creation_timestamp_ms: model.creationTimestamp,
      last_updated_timestamp_ms: model.lastUpdatedTimestamp,
      artifact_uri: model.artifactLocation,
      status: model.status,
      ...(model.modelType ? { model_type: model.modelType } : {}),
      ...(model.sourceRunId ? { source_run_id: model.sourceRunId } : {}),
      ...(model.statusMessage ? { status_message: model.statusMessage } : {}),
      tags: keyValues(model.tags),
      registrations: registrations.map(r => ({
        name: r.name,
        version: String(r.version),
      })),
    },
    data: { params: keyValues(model.params), metrics: [] },
  };
}
