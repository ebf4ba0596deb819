/**
 * The model registry as the native API (`/api/mlops/registry/...`) shows it.
 * The MLflow-compatible routes map these to MLflow's snake_case shapes.
 */

/** MLflow's stages, with MLflow's spelling. */
export const MODEL_STAGES = [
  'None',
  'Staging',
  'Production',
  'Archived',
] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** MLflow's registration states; a version is READY once its artifact checks out. */
export type ModelVersionStatus =
  | 'PENDING_REGISTRATION'
  | 'FAILED_REGISTRATION'
  | 'READY';

/** The Open Inference Protocol's tensor datatypes. */
export type TensorDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** One input or output of a model. A dimension of -1 is free (e.g. the batch). */
export interface TensorSpec {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
}

/** What a model takes and gives, read from its ONNX graph. */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** A version's stored artifact. */
export interface ModelArtifact {
  /** Name in the artifact store, e.g. `wine-quality/3/model.onnx`. */
  path: string;
  sha256: string;
  sizeBytes: number;
  format: 'onnx';
}

export interface RegisteredModel {
  name: string;
  /** The catalog Model this registered model belongs to. */
  entityRef: string;
  description: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
  /** Alias → version number. */
  aliases: Record<string, number>;
}

export interface ModelVersion {
  /** The registered model's name. */
  name: string;
  version: number;
  entityRef: string;
  description: string;
  /** Where the model came from (MLflow's `source`, e.g. a run's artifact path). */
  source: string;
  runId?: string;
  /** The MLflow 3 logged model it was registered from (`models:/<model_id>`). */
  modelId?: string;
  status: ModelVersionStatus;
  statusMessage?: string;
  stage: ModelStage;
  aliases: string[];
  /** User entity ref or service subject that registered the version. */
  creator: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
  artifact?: ModelArtifact;
  signature?: ModelSignature;
  /** The source run's latest metric values, by key (empty without a run). */
  metrics: Record<string, number>;
  /** The source run's params (empty without a run). */
  params: Record<string, string>;
}

/** `POST /registry/models/:name/versions/:version/stage`. */
export interface TransitionStageRequest {
  stage: ModelStage;
  comment?: string;
  /** Moving to Production or Staging archives the versions now in that stage. */
  archiveExistingVersions?: boolean;
  /** Promote to Production although the Model's gates refuse it (a platform group, with a comment). */
  overrideGates?: boolean;
}

/** `PUT /registry/models/:name/aliases/:alias`. */
export interface SetAliasRequest {
  version: number;
  comment?: string;
}
