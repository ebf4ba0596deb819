/**
 * The loaded models of the embedded server: one onnxruntime session per
 * registry version, created from the version's sha256-checked artifact,
 * warmed up once, kept until unloaded (or evicted as the least recently used
 * beyond `maxLoaded`). A session is released only once no inference runs on
 * it any more.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import { ModelSignature, TensorSpec } from '@loopline/mlops-common';
import type { InferenceSession } from 'onnxruntime-node';
import type { RegistryService } from '../registry';
import {
  DATATYPE_OF_ORT,
  FeedTensor,
  ORT_TYPE_OF,
  OutputTensorLike,
  ServingTensorSpec,
} from './codec';
import { InferenceError } from './errors';
import { parseFeatureNames, readModelMetadata } from './onnxMetadata';

type OnnxRuntime = typeof import('onnxruntime-node');
let runtime: OnnxRuntime | undefined;

/** onnxruntime-node, loaded on first use (the native binding is not needed to start the plugin). */
export function loadOnnxRuntime(): OnnxRuntime {
  if (!runtime) {
    runtime = require('onnxruntime-node') as OnnxRuntime;
  }
  return runtime;
}

/** What ModelSessions needs from the registry. */
export type ArtifactSource = Pick<RegistryService, 'readArtifact'>;

export interface ModelSessionsOptions {
  registry: ArtifactSource;
  logger?: LoggerService;
  /** Threads of one operator (onnxruntime's intra-op pool); default 1, which suits many small concurrent requests. */
  intraOpNumThreads?: number;
  /** Threads across operators; default 1. */
  interOpNumThreads?: number;
  /** Most sessions kept; the least recently used beyond it are unloaded. Default 16. */
  maxLoaded?: number;
  /** How long a failed load is answered from memory before it is tried again. Default 5000 ms. */
  failureBackoffMs?: number;
  /** Run each new session once on a zero batch of 1. Default true. */
  warmup?: boolean;
  /** Milliseconds since the epoch; for tests. */
  clock?: () => number;
}

/** A loaded version: its session and what the server needs to know about it. */
export class LoadedModel {
  /** Inputs and outputs from the session, with ONNX symbolic dimension names. */
  readonly inputs: readonly ServingTensorSpec[];
  readonly outputs: readonly ServingTensorSpec[];
  /** The same without symbolic names, as the registry shows signatures. */
  readonly signature: ModelSignature;
  /** ModelProto.metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
  /** `loopline.feature_names`, when the model carries it. */
  readonly featureNames?: readonly string[];
  lastUsedAt: number;
  /** Inferences running now. */
  inFlight = 0;
  /** Unloaded: released as soon as `inFlight` drops to 0. */
  retired = false;
  /** The native session is gone. */
  released = false;

  constructor(
    readonly name: string,
    readonly version: number,
    /** @internal */
    readonly session: InferenceSession,
    metadata: Record<string, string>,
    readonly sizeBytes: number,
    readonly loadedAt: number,
    readonly loadMs: number,
  ) {
    this.inputs = session.inputMetadata.map(m => toSpec(m, 'input', name));
    this.outputs = session.outputMetadata.map(m => toSpec(m, 'output', name));
    this.signature = {
      inputs: this.inputs.map(plainSpec),
      outputs: this.outputs.map(plainSpec),
    };
    this.metadata = metadata;
    const featureNames = parseFeatureNames(metadata);
    if (featureNames) this.featureNames = featureNames;
    this.lastUsedAt = loadedAt;
  }
}

interface LoadingEntry {
  name: string;
  version: number;
  state: 'loading';
  promise: Promise<LoadedModel>;
  retired: boolean;
}
type Entry =
  | LoadingEntry
  | {
      name: string;
      version: number;
      state: 'ready';
      model: LoadedModel;
      promise: Promise<LoadedModel>;
    }
  | {
      name: string;
      version: number;
      state: 'failed';
      error: unknown;
      retryAt: number;
    };

const key = (name: string, version: number) => `${version}\u0000${name}`;

export class ModelSessions {
  private readonly registry: ArtifactSource;
  private readonly logger?: LoggerService;
  private readonly intraOpNumThreads: number;
  private readonly interOpNumThreads: number;
  private readonly maxLoaded: number;
  private readonly failureBackoffMs: number;
  private readonly warmup: boolean;
  private readonly clock: () => number;
  /** In least-recently-used order (a hit moves an entry to the end). */
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(options: ModelSessionsOptions) {
    this.registry = options.registry;
    this.logger = options.logger;
    this.intraOpNumThreads = positiveInt(options.intraOpNumThreads, 1);
    this.interOpNumThreads = positiveInt(options.interOpNumThreads, 1);
    this.maxLoaded = positiveInt(options.maxLoaded, 16);
    this.failureBackoffMs = options.failureBackoffMs ?? 5000;
    this.warmup = options.warmup ?? true;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * The loaded version, loading it first if needed. Concurrent calls for the
   * same version share one load. A version the registry does not have (or
   * without an artifact) is a NotFoundError; a model the runtime cannot load
   * is a ServiceUnavailableError, answered from memory for
   * `failureBackoffMs`, then tried again.
   */
  get(name: string, version: number): Promise<LoadedModel> {
    if (this.closed) {
      return Promise.reject(
        new ServiceUnavailableError('The model server is shutting down'),
      );
    }
    const k = key(name, version);
    const entry = this.entries.get(k);
    if (entry) {
      if (entry.state === 'ready') {
        entry.model.lastUsedAt = this.clock();
        this.entries.delete(k);
        this.entries.set(k, entry);
        return entry.promise;
      }
      if (entry.state === 'loading') {
        return entry.promise;
      }
      if (entry.retryAt > this.clock()) {
        return Promise.reject(entry.error);
      }
      this.entries.delete(k);
    }
    const loading: LoadingEntry = {
      name,
      version,
      state: 'loading',
      retired: false,
      promise: this.load(name, version).then(
        model => {
          if (loading.retired || this.closed) {
            // Unloaded while it loaded: the callers still get it, then it goes.
            model.retired = true;
            queueMicrotask(() => this.releaseIfIdle(model));
            return model;
          }
          this.entries.set(k, {
            name,
            version,
            state: 'ready',
            model,
            promise: Promise.resolve(model),
          });
          this.evictOverflow(k);
          return model;
        },
        error => {
          if (!loading.retired && !this.closed) {
            this.entries.set(k, {
              name,
              version,
              state: 'failed',
              error,
              retryAt: this.clock() + this.failureBackoffMs,
            });
          }
          throw error;
        },
      ),
    };
    this.entries.set(k, loading);
    return loading.promise;
  }

  /** The version if it is loaded and ready, without loading it. */
  peek(name: string, version: number): LoadedModel | undefined {
    const entry = this.entries.get(key(name, version));
    return entry?.state === 'ready' ? entry.model : undefined;
  }

  /** The loaded (ready) versions of a model, ascending. */
  loadedVersions(name: string): number[] {
    const versions: number[] = [];
    for (const entry of this.entries.values()) {
      if (entry.state === 'ready' && entry.model.name === name) {
        versions.push(entry.model.version);
      }
    }
    return versions.sort((a, b) => a - b);
  }

  /** Every loaded model, for diagnostics. */
  list(): Array<{
    name: string;
    version: number;
    loadedAt: number;
    lastUsedAt: number;
    inFlight: number;
  }> {
    const result = [];
    for (const entry of this.entries.values()) {
      if (entry.state === 'ready') {
        const { name, version, loadedAt, lastUsedAt, inFlight } = entry.model;
        result.push({ name, version, loadedAt, lastUsedAt, inFlight });
      }
    }
    return result;
  }

  /**
   * Runs a loaded model. If the model was unloaded and released meanwhile,
   * the version is loaded again (the artifact is the same).
   */
  async run(
    model: LoadedModel,
    feeds: Record<string, FeedTensor>,
    outputNames?: readonly string[],
  ): Promise<Record<string, OutputTensorLike>> {
    let target = model;
    for (let attempt = 0; target.released && attempt < 3; attempt++) {
      target = await this.get(model.name, model.version);
    }
    const ort = loadOnnxRuntime();
    const tensors: Record<string, InstanceType<OnnxRuntime['Tensor']>> = {};
    for (const name of Object.keys(feeds)) {
      const feed = feeds[name];
      tensors[name] = new ort.Tensor(feed.type, feed.data as any, feed.dims);
    }
    target.inFlight++;
    target.lastUsedAt = this.clock();
    try {
      return (await (outputNames
        ? target.session.run(tensors, outputNames as string[])
        : target.session.run(tensors))) as unknown as Record<
        string,
        OutputTensorLike
      >;
    } catch (error) {
      throw runError(error);
    } finally {
      target.inFlight--;
      this.releaseIfIdle(target);
    }
  }

  /** Unloads a version (its session is released once idle); true if it was loaded or loading. */
  async unload(name: string, version: number): Promise<boolean> {
    const k = key(name, version);
    const entry = this.entries.get(k);
    if (!entry) return false;
    this.entries.delete(k);
    if (entry.state === 'loading') {
      entry.retired = true;
      return true;
    }
    if (entry.state === 'ready') {
      entry.model.retired = true;
      await this.releaseIfIdle(entry.model);
      return true;
    }
    return false;
  }

  /** Unloads every version of `name` not in `versions`; returns the versions unloaded. */
  async retainOnly(
    name: string,
    versions: readonly number[],
  ): Promise<number[]> {
    const keep = new Set(versions);
    const drop: number[] = [];
    for (const entry of this.entries.values()) {
      if (
        entry.name === name &&
        !keep.has(entry.version) &&
        entry.state !== 'failed'
      ) {
        drop.push(entry.version);
      }
    }
    for (const version of drop) {
      await this.unload(name, version);
    }
    return drop.sort((a, b) => a - b);
  }

  /** Releases every session (for shutdown); later `get` calls fail with 503. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) {
      if (entry.state === 'loading') entry.retired = true;
      if (entry.state === 'ready') {
        entry.model.retired = true;
        await this.releaseIfIdle(entry.model);
      }
    }
  }

  // ---------------------------------------------------------------------------

  private async load(name: string, version: number): Promise<LoadedModel> {
    // Not found (unknown version, no artifact) stays a 404.
    const bytes = await this.registry.readArtifact(name, version);
    const started = this.clock();
    const ort = loadOnnxRuntime();
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        {
          intraOpNumThreads: this.intraOpNumThreads,
          interOpNumThreads: this.interOpNumThreads,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
        },
      );
    } catch (error) {
      this.logger?.error(
        `Could not load version ${version} of model '${name}'`,
        error as Error,
      );
      throw new ServiceUnavailableError(
        `Model ${name} version ${version} could not be loaded: ${shortMessage(
          error,
        )}`,
      );
    }
    let model: LoadedModel;
    try {
      model = new LoadedModel(
        name,
        version,
        session,
        readModelMetadata(bytes),
        bytes.byteLength,
        this.clock(),
        this.clock() - started,
      );
    } catch (error) {
      await session.release().catch(() => {});
      throw error;
    }
    if (this.warmup) {
      await this.warmUp(model);
    }
    this.logger?.info(
      `Loaded version ${version} of model '${name}' (${
        bytes.byteLength
      } bytes, ${this.clock() - started} ms)`,
    );
    return model;
  }

  /** One run on zeros, batch 1 (free dimensions as 1), so the first request does not pay for lazy setup. */
  private async warmUp(model: LoadedModel): Promise<void> {
    const ort = loadOnnxRuntime();
    try {
      await model.session.run(zeroFeeds(ort, model.inputs));
    } catch (error) {
      // Some graphs cannot run on zeros; the model still serves real inputs.
      this.logger?.warn(
        `Warm-up of version ${model.version} of model '${
          model.name
        }' failed: ${shortMessage(error)}`,
      );
    }
  }

  private evictOverflow(justLoaded: string) {
    let ready = 0;
    for (const entry of this.entries.values()) {
      if (entry.state === 'ready') ready++;
    }
    for (const [k, entry] of this.entries) {
      if (ready <= this.maxLoaded) break;
      if (entry.state !== 'ready' || k === justLoaded) continue;
      this.entries.delete(k);
      entry.model.retired = true;
      ready--;
      this.logger?.info(
        `Unloaded version ${entry.model.version} of model '${entry.model.name}' (least recently used; at most ${this.maxLoaded} loaded)`,
      );
      void this.releaseIfIdle(entry.model);
    }
  }

  private async releaseIfIdle(model: LoadedModel): Promise<void> {
    if (!model.retired || model.released || model.inFlight > 0) return;
    model.released = true;
    try {
      await model.session.release();
    } catch (error) {
      this.logger?.warn(
        `Could not release the session of version ${model.version} of model '${
          model.name
        }': ${shortMessage(error)}`,
      );
    }
  }
}

function toSpec(
  metadata: InferenceSession.ValueMetadata,
  kind: 'input' | 'output',
  modelName: string,
): ServingTensorSpec {
  if (!metadata.isTensor) {
    throw new ServiceUnavailableError(
      `Model ${modelName} cannot be served: its ${kind} "${metadata.name}" is not a tensor`,
    );
  }
  const datatype = DATATYPE_OF_ORT[metadata.type];
  if (!datatype) {
    throw new ServiceUnavailableError(
      `Model ${modelName} cannot be served: its ${kind} "${metadata.name}" has element type ${metadata.type}`,
    );
  }
  const dims = metadata.shape as ReadonlyArray<number | string>;
  return {
    name: metadata.name,
    datatype,
    shape: dims.map(d =>
      typeof d === 'number' && Number.isSafeInteger(d) && d >= 0 ? d : -1,
    ),
    dimNames: dims.map(d =>
      typeof d === 'string' && d !== '' ? d : undefined,
    ),
  };
}

function plainSpec(spec: ServingTensorSpec): TensorSpec {
  return { name: spec.name, datatype: spec.datatype, shape: [...spec.shape] };
}

/** Inputs of zeros, batch 1 (free dimensions as 1): for warm-ups and latency probes. */
export function zeroFeeds(
  ort: OnnxRuntime,
  inputs: ReadonlyArray<Pick<TensorSpec, 'name' | 'datatype' | 'shape'>>,
): Record<string, InstanceType<OnnxRuntime['Tensor']>> {
  const feeds: Record<string, InstanceType<OnnxRuntime['Tensor']>> = {};
  for (const input of inputs) {
    const dims = input.shape.map(d => (d < 0 ? 1 : d));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = ORT_TYPE_OF[input.datatype];
    feeds[input.name] =
      type === 'string'
        ? new ort.Tensor('string', new Array<string>(count).fill(''), dims)
        : new ort.Tensor(type, zeros(type, count) as any, dims);
  }
  return feeds;
}

function zeros(type: string, count: number) {
  switch (type) {
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'uint16':
    case 'float16':
      return new Uint16Array(count);
    case 'int8':
      return new Int8Array(count);
    default:
      return new Uint8Array(count);
  }
}

/**
 * onnxruntime's own checks of the feeds (ORT_INVALID_ARGUMENT) are the
 * caller's mistake (400); anything else that fails while running is not.
 */
const INVALID_FEED_MESSAGES = [
  /^Got invalid dimensions for input/,
  /^Unexpected input data type/,
  /^input '.*' is missing in 'feeds'/,
  /^Invalid Feed Input Name/,
  /^Invalid rank for input/,
  /^'fetches' contains invalid output name/,
];

function runError(error: unknown): Error {
  const message = shortMessage(error);
  if (INVALID_FEED_MESSAGES.some(pattern => pattern.test(message))) {
    return new InputError(`Invalid inference request: ${message}`);
  }
  return new InferenceError(`Inference failed: ${message}`);
}

function positiveInt(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0
    ? value
    : fallback;
}

function shortMessage(error: unknown): string {
  // Not `instanceof Error`: the native binding's errors may come from another realm.
  const own = (error as { message?: unknown } | undefined)?.message;
  const message =
    typeof own === 'string' ? own : String(error ?? 'unknown error');
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/\u001b\[[0-9;]*m/g, '').trim();
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}
