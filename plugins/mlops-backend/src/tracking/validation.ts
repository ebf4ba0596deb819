import { InputError } from '@backstage/errors';
import type { MetricPoint } from '@loopline/mlops-common';
import type {
  ExperimentInfo,
  KeyValue,
  RunInfo,
  ViewType,
} from './TrackingStore';

/*
 * The tracking server's input rules, MLflow's: names, keys, values, counts
 * and paging arguments. Each check throws an InputError (400) naming the
 * experiment, run and key.
 */

/** MLflow's limits (mlflow/utils/validation.py). */
export const TRACKING_LIMITS = {
  /** Metrics per log-batch. */
  maxMetricsPerBatch: 1000,
  /** Params per log-batch. */
  maxParamsPerBatch: 100,
  /** Tags per log-batch. */
  maxTagsPerBatch: 100,
  /** Metrics + params + tags per log-batch. */
  maxEntitiesPerBatch: 1000,
  /** Metric, param and tag keys. */
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxRunTagValueLength: 8000,
  maxExperimentTagValueLength: 5000,
  maxExperimentNameLength: 500,
  /** Tags given to createRun / createExperiment. */
  maxTagsOnCreate: 1000,
  /** Experiment ids in one searchRuns. */
  maxExperimentsPerSearch: 1000,
  defaultMaxResults: 1000,
  maxMaxResults: 50000,
} as const;

/** One metric point to log; `step` defaults to 0. NaN and +/-Infinity are accepted. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step?: number;
}

const VIEW_TYPES: ReadonlyArray<ViewType> = [
  'ACTIVE_ONLY',
  'DELETED_ONLY',
  'ALL',
];

// Letters, digits, underscores, dashes, periods, spaces, slashes and colons, as MLflow allows.
const VALID_KEY = /^[\p{L}\p{N}_\-. /:]+$/u;

export function requireActiveExperiment(
  experiment: ExperimentInfo,
  what: string,
) {
  if (experiment.lifecycleStage !== 'active') {
    throw new InputError(
      `Cannot ${what} experiment '${experiment.experimentId}' (${experiment.name}): it is deleted`,
    );
  }
}

export function requireActiveRun(run: RunInfo, what: string) {
  if (run.lifecycleStage !== 'active') {
    throw new InputError(`Cannot ${what} run '${run.runId}': it is deleted`);
  }
}

export function validateExperimentId(experimentId: string): string {
  if (typeof experimentId !== 'string' || !/^\d{1,15}$/.test(experimentId)) {
    throw new InputError(
      `Invalid experiment id '${experimentId}': expected a decimal integer`,
    );
  }
  return String(Number(experimentId));
}

export function validateExperimentName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InputError('An experiment name must be a non-empty string');
  }
  if (name.length > TRACKING_LIMITS.maxExperimentNameLength) {
    throw new InputError(
      `Experiment name '${name.slice(0, 40)}...' is ${
        name.length
      } characters long; at most ${
        TRACKING_LIMITS.maxExperimentNameLength
      } are allowed`,
    );
  }
  return name;
}

export function validateKey(kind: string, key: string, owner: string) {
  if (typeof key !== 'string' || key === '') {
    throw new InputError(`A ${kind} key of ${owner} is missing or empty`);
  }
  if (key.length > TRACKING_LIMITS.maxKeyLength) {
    throw new InputError(
      `${capitalize(kind)} key '${key.slice(0, 40)}...' of ${owner} is ${
        key.length
      } characters long; at most ${TRACKING_LIMITS.maxKeyLength} are allowed`,
    );
  }
  if (!VALID_KEY.test(key)) {
    throw new InputError(
      `Invalid ${kind} key '${key}' of ${owner}: names may only contain letters, digits, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)`,
    );
  }
  const segments = key.split('/');
  if (
    key.startsWith('/') ||
    key.endsWith('/') ||
    segments.some(s => s === '' || s === '.' || s === '..')
  ) {
    throw new InputError(
      `Invalid ${kind} key '${key}' of ${owner}: names may be treated as paths and must not start or end with '/', or contain empty, '.' or '..' segments`,
    );
  }
}

export function validateValue(
  kind: string,
  key: string,
  value: string,
  owner: string,
  maxLength: number,
) {
  if (typeof value !== 'string') {
    throw new InputError(
      `The value of ${kind} '${key}' of ${owner} must be a string, got ${typeof value}`,
    );
  }
  if (value.length > maxLength) {
    throw new InputError(
      `The value of ${kind} '${key}' of ${owner} is ${value.length} characters long; at most ${maxLength} are allowed`,
    );
  }
}

export function validateParam(runId: string, param: KeyValue) {
  const owner = `run '${runId}'`;
  validateKey('param', param.key, owner);
  validateValue(
    'param',
    param.key,
    param.value,
    owner,
    TRACKING_LIMITS.maxParamValueLength,
  );
}

export function validateRunTag(runId: string, tag: KeyValue) {
  const owner = `run '${runId}'`;
  validateKey('tag', tag.key, owner);
  validateValue(
    'tag',
    tag.key,
    tag.value,
    owner,
    TRACKING_LIMITS.maxRunTagValueLength,
  );
}

export function validateExperimentTag(experimentName: string, tag: KeyValue) {
  const owner = `experiment '${experimentName}'`;
  validateKey('tag', tag.key, owner);
  validateValue(
    'tag',
    tag.key,
    tag.value,
    owner,
    TRACKING_LIMITS.maxExperimentTagValueLength,
  );
}

export function validateMetric(
  runId: string,
  metric: MetricInput,
): MetricPoint {
  const owner = `run '${runId}'`;
  validateKey('metric', metric?.key, owner);
  if (typeof metric.value !== 'number') {
    throw new InputError(
      `The value of metric '${
        metric.key
      }' of ${owner} must be a number, got ${typeof metric.value}`,
    );
  }
  return {
    key: metric.key,
    value: metric.value,
    timestamp: validateInteger(
      metric.timestamp,
      `timestamp of metric '${metric.key}' of ${owner}`,
    ),
    step:
      metric.step === undefined || metric.step === null
        ? 0
        : validateInteger(
            metric.step,
            `step of metric '${metric.key}' of ${owner}`,
          ),
  };
}

export function validateInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new InputError(`The ${what} must be an integer, got ${value}`);
  }
  return value;
}

export function validatePositiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InputError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

export function validateMaxResults(maxResults: number | undefined): number {
  if (maxResults === undefined) return TRACKING_LIMITS.defaultMaxResults;
  validatePositiveInteger(maxResults, 'maxResults');
  if (maxResults > TRACKING_LIMITS.maxMaxResults) {
    throw new InputError(
      `maxResults may be at most ${TRACKING_LIMITS.maxMaxResults}, got ${maxResults}`,
    );
  }
  return maxResults;
}

export function validateViewType(
  viewType: ViewType | undefined,
  what: string,
): ViewType {
  if (viewType === undefined) return 'ACTIVE_ONLY';
  if (!VIEW_TYPES.includes(viewType)) {
    throw new InputError(
      `Invalid ${what} '${viewType}'; expected one of ${VIEW_TYPES.join(', ')}`,
    );
  }
  return viewType;
}

export function checkCount(
  runId: string,
  what: string,
  count: number,
  max: number,
) {
  if (count > max) {
    throw new InputError(
      `A batch for run '${runId}' has ${count} ${what}; at most ${max} are allowed`,
    );
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A key and its string value, for `owner` (e.g. "logged model 'm-...'"). */
export function validateKeyValue(
  kind: string,
  key: string,
  value: string,
  owner: string,
  maxLength: number,
) {
  validateKey(kind, key, owner);
  validateValue(kind, key, value, owner, maxLength);
}
