/**
 * The inference log's types: what a server reports for each request, what a
 * KServe request logger sends, and what the log stores and reads back.
 */
import type { TensorDatatype } from '@loopline/mlops-common';

/** Where a logged request was served. */
export type InferenceSource = 'embedded' | 'kserve';

/**
 * One inference request, as the embedded server reports it (success or
 * failure) to its observers.
 */
export interface InferenceEvent {
  /** The OIP request's `id`, or a generated uuid. */
  requestId: string;
  modelName: string;
  /** The version that served it; absent when the request failed before routing. */
  version?: number;
  /** `oip`, `predict`, `predict-batch`. */
  route: string;
  /** `embedded` when absent. */
  source?: InferenceSource;
  /** KServe's `default` or `canary`; the rollout's arm for the embedded server. */
  endpoint?: string;
  status: 'ok' | 'error';
  httpStatus: number;
  latencyMs: number;
  /** The request's input tensors (OIP), stored as JSON. */
  inputs?: unknown;
  /**
   * In place of `inputs`: the OIP request's JSON body as received, whose
   * `inputs` member the log stores as sent (a data-plane worker ships this
   * text, which it already has, rather than the parsed tensors, so neither
   * side turns thousands of numbers back into text).
   */
  requestJson?: string;
  /**
   * In place of `inputs`: the input tensors as the raw bytes they came in
   * (gRPC's `raw_input_contents`), which the log decodes into the same
   * JSON as `inputs` (a data-plane worker ships a copy of the bytes, not
   * thousands of numbers for the channel to serialize and parse).
   */
  rawInputs?: RawInputTensor[];
  /** The response's output tensors (OIP), stored as JSON. */
  outputs?: unknown;
  error?: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /**
   * The log's sampling, already decided where the request was served (a
   * data-plane worker, which then ships the tensors of kept events only):
   * the log takes it as is instead of sampling again.
   */
  sampled?: { kept: boolean; rate: number };
  /**
   * Its log record was dropped where the request was served (a data-plane
   * worker's buffer was full; counted there): the metrics count it, the
   * log does not write it. It travels without tensors.
   */
  logDropped?: boolean;
}

/** An input tensor as raw little-endian bytes (see serving/rawTensor). */
export interface RawInputTensor {
  name: string;
  datatype: TensorDatatype;
  shape: number[];
  parameters?: Record<string, unknown>;
  contents: Uint8Array;
}

/** Anything that wants to see every inference request: the log, the metrics. */
export interface InferenceEventObserver {
  observe(event: InferenceEvent): void;
}

/** The two CloudEvent types of KServe's request logger. */
export const KSERVE_REQUEST_EVENT = 'org.kubeflow.serving.inference.request';
export const KSERVE_RESPONSE_EVENT = 'org.kubeflow.serving.inference.response';

/**
 * One half of a KServe request/response pair, from a CloudEvent of KServe's
 * request logger. The request and its response share `requestId` (`ce-id`).
 */
export interface KServeLogPart {
  kind: 'request' | 'response';
  /** `ce-id`. */
  requestId: string;
  /** `ce-inferenceservicename`. */
  modelName: string;
  /** `ce-namespace`. */
  namespace?: string;
  /** `ce-component`: predictor, transformer, explainer. */
  component?: string;
  /** `ce-endpoint`: default or canary. */
  endpoint?: string;
  /** `ce-recordedtime` (else `ce-time`, else arrival), ms since the epoch. */
  timestamp: number;
  /**
   * The payload: for OIP v2 bodies the `inputs` / `outputs` tensors, else the
   * whole body (e.g. V1 `{"instances": ...}` / `{"predictions": ...}`).
   */
  payload?: unknown;
  /** The response's `model_version` when it is a registry version number. */
  version?: number;
  /** For a response: the body was an error body (`{"error": ...}`). */
  error?: string;
}

/** A row to insert into the inference log. */
export interface NewInferenceLogRow {
  requestId: string;
  modelName: string;
  version?: number;
  route: string;
  source: InferenceSource;
  endpoint?: string;
  status: 'ok' | 'error';
  /** Unknown for KServe. */
  httpStatus?: number;
  /** Unknown until both halves of a KServe pair arrived. */
  latencyMs?: number;
  /** The probability with which this row was kept (1 for errors). */
  sampleRate: number;
  /** JSON text, already serialized (and truncated when too large). */
  inputs?: string;
  outputs?: string;
  error?: string;
  createdAt: number;
}

/** A logged request as read back, with the ground truth reported for it. */
export interface InferenceLogRecord {
  id: number;
  requestId: string;
  modelName: string;
  version?: number;
  route: string;
  source: InferenceSource;
  endpoint?: string;
  status: 'ok' | 'error';
  httpStatus?: number;
  latencyMs?: number;
  sampleRate: number;
  inputs?: unknown;
  outputs?: unknown;
  error?: string;
  /** ms since the epoch. */
  createdAt: number;
  /** Present when ground truth was reported for this request id. */
  groundTruth?: { value: unknown; createdAt: number };
}

/** What the logger hands the store at each flush. */
export interface InferenceLogBatch {
  /** Complete rows: embedded events and KServe pairs joined in memory. */
  rows: NewInferenceLogRow[];
  /** KServe halves whose partner was not in the same batch: merged in the database. */
  kserveParts: KServeLogPartRow[];
}

/** A KServe half, ready to be merged into the log by the store. */
export interface KServeLogPartRow {
  kind: 'request' | 'response';
  requestId: string;
  modelName: string;
  route: string;
  endpoint?: string;
  timestamp: number;
  sampleRate: number;
  /** JSON text (request: inputs, response: outputs). */
  payload?: string;
  version?: number;
  error?: string;
}

/** The writes an InferenceLogger needs from its store. */
export interface InferenceLogWriter {
  writeBatch(batch: InferenceLogBatch): Promise<void>;
  deleteOlderThan(cutoffMs: number): Promise<number>;
}

/** Why an event did not reach the database. */
export type InferenceLogDropReason = 'buffer_full' | 'write_failed' | 'closed';

/** The counters an InferenceLogger reports (ServingMetrics implements it). */
export interface InferenceLogMetrics {
  logDropped(count: number, reason: InferenceLogDropReason): void;
  logWritten(count: number): void;
  logFlushFailed(): void;
  /** Called once; the gauge reads the buffer's fill at scrape time. */
  watchLogBuffer(read: () => number): void;
}

/** Which rows a windowed read covers: one model's, by endpoint, version and source. */
export interface LogWindowQuery {
  modelName: string;
  /** Only rows with one of these `endpoint` values. */
  endpoints?: string[];
  /** Only rows served by one of these versions. */
  versions?: number[];
  /** Only rows from this source. */
  source?: InferenceSource;
  /** ms since the epoch, inclusive. */
  since: number;
  /** ms since the epoch, inclusive. */
  until: number;
}

/**
 * A window's requests counted and timed: requests and server errors (5xx,
 * or unknown for KServe) weighted by 1/sample_rate, not rounded; latency
 * percentiles of the successful requests.
 */
export interface LogWindowSummary {
  requests: number;
  errors: number;
  latencyMs: { p50?: number; p95?: number; p99?: number };
}
