import type { PipelineStepKind } from './pipelines';
import type { ModelGates } from './quality';
import type { Entity } from '@backstage/catalog-model';

/** The apiVersion of Loopline's catalog kinds. */
export const LOOPLINE_API_VERSION = 'loopline.dev/v1alpha1' as const;

/** Prefix of every Loopline annotation, e.g. `loopline.dev/registered-model`. */
export const LOOPLINE_ANNOTATION_PREFIX = 'loopline.dev/';

export const MODEL_KIND = 'Model' as const;
export const DATASET_KIND = 'Dataset' as const;
export const PIPELINE_KIND = 'Pipeline' as const;

/** The three kinds Loopline adds to the catalog. */
export const MLOPS_KINDS = [MODEL_KIND, DATASET_KIND, PIPELINE_KIND] as const;
export type MlopsKind = (typeof MLOPS_KINDS)[number];

/** Allowed values of `spec.type`, per kind; the JSON Schemas enforce them. */
export const MODEL_TYPES = [
  'classification',
  'regression',
  'clustering',
  'ranking',
  'forecasting',
  'anomaly-detection',
  'recommendation',
  'nlp',
  'vision',
] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export const DATASET_TYPES = [
  'raw',
  'curated',
  'feature-set',
  'training',
  'evaluation',
  'reference',
  'predictions',
] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];

export const PIPELINE_TYPES = [
  'data',
  'training',
  'evaluation',
  'batch-inference',
] as const;
export type PipelineType = (typeof PIPELINE_TYPES)[number];

export const DATASET_FORMATS = [
  'csv',
  'parquet',
  'json',
  'jsonl',
  'avro',
  'orc',
  'delta',
  'iceberg',
  'tfrecord',
  'table',
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const FIELD_TYPES = [
  'string',
  'integer',
  'float',
  'boolean',
  'categorical',
  'datetime',
  'date',
  'binary',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const FIELD_ROLES = [
  'feature',
  'target',
  'id',
  'timestamp',
  'prediction',
  'metadata',
] as const;
export type FieldRole = (typeof FIELD_ROLES)[number];

export const DRIFT_METHODS = [
  'psi',
  'ks',
  'chi2',
  'wasserstein',
  'jensen-shannon',
  // Evidently's names, as the monitoring API takes them.
  'chisquare',
  'z',
  'kl_div',
  'jensenshannon',
] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/**
 * Fields every Loopline kind shares in its spec. The spec's parts are type
 * aliases, not interfaces, so that they stay assignable to `JsonObject`.
 */
export type MlopsSpecBase = {
  owner: string;
  lifecycle: string;
  system?: string;
};

export type ModelCard = {
  description?: string;
  intendedUse?: string;
  limitations?: string;
  ethicalConsiderations?: string;
  /** Names of the metrics that matter for this model, e.g. `rmse`. */
  metrics?: string[];
};

export type FairnessConfig = {
  sensitiveFeatures: string[];
  /** Largest tolerated value per fairness metric, e.g. `demographicParityDifference: 0.1`. */
  thresholds?: Record<string, number>;
};

export type ServiceLevelObjectives = {
  latencyP95Ms?: number;
  latencyP99Ms?: number;
  maxErrorRate?: number;
  minRequests?: number;
};

export type MonitoringConfig = {
  drift?: {
    method: DriftMethod;
    threshold: number;
    /** Cron expression; when drift is checked. */
    schedule?: string;
    /** Dataset ref used as the reference distribution. */
    reference?: string;
    /** Share of drifted features that is dataset drift (default 0.5). */
    driftShare?: number;
    /** The current window: the log's last N minutes (default 60). */
    windowMinutes?: number;
  };
  /** Quality against ground truth that the Model must keep. */
  quality?: {
    metric: 'accuracy' | 'f1' | 'rocAuc' | 'rmse' | 'mae' | 'r2';
    min?: number;
    max?: number;
  };
  /** When monitoring alerts (defaults: on dataset drift, on quality below its SLO, on ADWIN changes). */
  alerts?: {
    severity?: 'info' | 'warning' | 'critical';
    /** One alert per kind per cooldown (default 60). */
    cooldownMinutes?: number;
    /** Alert when the drifted share reaches this (default: dataset drift). */
    minDriftShare?: number;
    maxLatencyP95Ms?: number;
    maxErrorRate?: number;
    /** Alert on ADWIN's change points (default true). */
    onConceptDrift?: boolean;
  };
  slos?: ServiceLevelObjectives;
};

export type ServingConfig = {
  runtime?: 'onnx';
  target?: 'embedded' | 'kserve';
  environments?: string[];
};

export interface ModelEntityV1alpha1 extends Entity {
  apiVersion: typeof LOOPLINE_API_VERSION;
  kind: typeof MODEL_KIND;
  spec: MlopsSpecBase & {
    type: ModelType;
    /** Dataset refs the model is trained on. */
    trainedOn?: string[];
    /** Pipeline ref of the pipeline that trains the model. */
    producedBy?: string;
    framework?: string;
    modelCard?: ModelCard;
    fairness?: FairnessConfig;
    monitoring?: MonitoringConfig;
    serving?: ServingConfig;
    /** What a version must pass to go to Production (pipelines' evaluate steps and stage moves). */
    gates?: ModelGates;
  };
}

export type DatasetField = {
  name: string;
  type: FieldType;
  nullable?: boolean;
  role?: FieldRole;
  description?: string;
};

/** A Great-Expectations-like check on a dataset. */
export type DatasetExpectation = {
  type: string;
  column?: string;
  min?: number;
  max?: number;
  values?: Array<string | number | boolean>;
  regex?: string;
  /** Fraction of rows that must pass, 0..1. */
  mostly?: number;
};

export interface DatasetEntityV1alpha1 extends Entity {
  apiVersion: typeof LOOPLINE_API_VERSION;
  kind: typeof DATASET_KIND;
  spec: MlopsSpecBase & {
    type: DatasetType;
    /** URI of the data, e.g. `s3://bucket/path/` or `file:./examples/data/x.csv`. */
    location: string;
    format: DatasetFormat;
    schema?: { fields: DatasetField[] };
    /** Dataset refs this dataset is derived from. */
    derivedFrom?: string[];
    expectations?: DatasetExpectation[];
    /** Largest tolerated age of the data, as an ISO-8601 duration (e.g. `P1D`). */
    freshness?: { maxAge: string };
  };
}

export type PipelineStep = {
  name: string;
  description?: string;
  image?: string;
  /** The program and its arguments (no shell). */
  command?: string[];
  /** A shell command line (`sh -c`), the other way to give a command. */
  run?: string;
  /** A built-in kind; `command` (the default) runs `run` or `command`. */
  kind?: PipelineStepKind;
  /** The built-in kind's arguments. */
  with?: Record<string, string | number | boolean>;
  /** Longest run of the step; it is killed (its process group, or its Job's deadline) after it. */
  timeoutSeconds?: number;
  dependsOn?: string[];
};

/** A run parameter the pipeline declares, with its default. */
export type PipelineParameter = {
  name: string;
  description?: string;
  default?: string;
};

export type PipelineTrigger =
  | { type: 'schedule'; cron: string }
  | { type: 'drift'; model: string }
  | { type: 'dataset-update'; dataset: string }
  | { type: 'manual' };

export interface PipelineEntityV1alpha1 extends Entity {
  apiVersion: typeof LOOPLINE_API_VERSION;
  kind: typeof PIPELINE_KIND;
  spec: MlopsSpecBase & {
    type: PipelineType;
    /** Cron expression of the pipeline's regular runs. */
    schedule?: string;
    /** Dataset refs the pipeline reads. */
    consumes?: string[];
    /** Model or Dataset refs the pipeline writes; the kind is required (`model:x`, `dataset:y`). */
    produces?: string[];
    runner?: {
      type: 'local' | 'kubernetes';
      image?: string;
      /** Kubernetes: the cluster's name in the Kubernetes plugin's config (defaults to `mlops.pipelines.kubernetes.cluster`). */
      cluster?: string;
      namespace?: string;
    };
    /** Runs of this pipeline at a time; more wait queued. Defaults to 1. */
    concurrency?: number;
    parameters?: PipelineParameter[];
    steps?: PipelineStep[];
    triggers?: PipelineTrigger[];
  };
}

export type MlopsEntity =
  | ModelEntityV1alpha1
  | DatasetEntityV1alpha1
  | PipelineEntityV1alpha1;

function isLooplineKind(entity: Entity, kind: MlopsKind): boolean {
  return (
    entity.apiVersion === LOOPLINE_API_VERSION &&
    entity.kind.toLocaleLowerCase('en-US') === kind.toLocaleLowerCase('en-US')
  );
}

export function isModelEntity(entity: Entity): entity is ModelEntityV1alpha1 {
  return isLooplineKind(entity, MODEL_KIND);
}

export function isDatasetEntity(
  entity: Entity,
): entity is DatasetEntityV1alpha1 {
  return isLooplineKind(entity, DATASET_KIND);
}

export function isPipelineEntity(
  entity: Entity,
): entity is PipelineEntityV1alpha1 {
  return isLooplineKind(entity, PIPELINE_KIND);
}

export function isMlopsEntity(entity: Entity): entity is MlopsEntity {
  return MLOPS_KINDS.some(kind => isLooplineKind(entity, kind));
}
