/**
 * Serving: the Open Inference Protocol v2 shapes (snake_case, as the protocol
 * writes them) and the native serving routes' types.
 */
import type { TensorDatatype, TensorSpec } from './registry';

/** One tensor of an OIP request or response; `data` is row-major (flat or nested). */
export interface OipTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface OipInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipTensor[];
  /** Which outputs to return; all when absent. */
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

export interface OipInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: OipTensor[];
}

/** `GET /v2/models/{name}[/versions/{v}]`. */
export interface OipModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** The OIP error body. */
export interface OipError {
  error: string;
}

/** `POST /serving/models/:name/predict` (seed document 003's convenience route). */
export interface PredictRequest {
  /** One record: feature name → value. */
  features: Record<string, number | string | boolean>;
  /** A specific version; else the model's routing decides. */
  version?: number;
}

export interface PredictResponse {
  model: string;
  version: number;
  requestId: string;
  /** Output name → the record's value(s) of that output. */
  outputs: Record<string, unknown>;
  /** The main prediction (the first output's first value), for convenience. */
  prediction: unknown;
  latencyMs: number;
}

/** `POST /serving/models/:name/predict-batch`. */
export interface PredictBatchRequest {
  records: Array<Record<string, number | string | boolean>>;
  version?: number;
}

export interface PredictBatchResponse {
  model: string;
  version: number;
  requestId: string;
  /** One entry per record, in order. */
  predictions: Array<{ prediction: unknown; outputs: Record<string, unknown> }>;
  latencyMs: number;
}

/** One input feature of a served model, as forms and convenience routes use it. */
export interface ServingFeature {
  name: string;
  /** e.g. float, integer, categorical, from the Dataset schema when known. */
  type: string;
  description?: string;
  /** What the predict routes accept for it (the Dataset schema field's `constraints`). */
  constraints?: FeatureConstraints;
}

/** A Dataset schema field's `constraints`: a predict request breaking one is a 400 naming the field. */
export interface FeatureConstraints {
  /** Smallest number allowed (inclusive). */
  min?: number;
  /** Largest number allowed (inclusive). */
  max?: number;
  /** The only values allowed. */
  values?: Array<string | number | boolean>;
  /** A regular expression a string value must match (anchored as written). */
  pattern?: string;
}

/** `GET /serving/models/:name/info`. */
export interface ServingModelInfo {
  model: string;
  entityRef: string;
  /** The version a request without a version goes to now, if any. */
  servedVersion?: number;
  /** Versions loaded in memory and ready. */
  loadedVersions: number[];
  signature?: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  /** The input tensor's columns, in order (from the ONNX metadata or the Dataset schema). */
  features: ServingFeature[];
}

/** `GET /serving/models/:name/stats?windowSeconds=`: live figures from the inference log. */
export interface ServingStats {
  model: string;
  windowSeconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  errorRate: number;
  latencyMs: { p50?: number; p95?: number; p99?: number };
  byVersion: Array<{
    version: number;
    requests: number;
    errors: number;
    latencyMs: { p50?: number; p95?: number; p99?: number };
  }>;
}

/** `POST /serving/ground-truth`. */
export interface GroundTruthRequest {
  requestId: string;
  /** The observed outcome, e.g. the true quality score or class. */
  groundTruth: unknown;
}
