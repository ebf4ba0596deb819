/**
 * The embedded model server: runs registry versions' ONNX models on Open
 * Inference Protocol v2 requests and on the convenience routes' records,
 * answers health and metadata, and reports every request (success or
 * failure) to its observers (the inference log, the metrics). No Express
 * here: the router authenticates, the service decides and runs.
 */
import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  OipInferResponse,
  OipModelMetadata,
  OipTensor,
  PredictBatchResponse,
  PredictResponse,
  ServingFeature,
  ServingModelInfo,
  TensorSpec,
} from '@loopline/mlops-common';
import { randomUUID } from 'crypto';
import { performance } from 'perf_hooks';
import { z } from 'zod';
import type { EntityAuthorizer } from '../lib/http';
import { tryParseVersion } from '../lib/version';
import type { RegistryService } from '../registry';
import {
  CODEC_LIMITS,
  decodeTensor,
  parseInferRequest,
  ParsedInferRequest,
  selectOutputs,
  toFeeds,
} from './codec';
import { CandidateFailure, oipErrorOf } from './errors';
import { FeatureSchemaSource } from './features';
import {
  FeatureLayouts,
  recordsToTensors,
  splitRecords,
} from './featureLayout';
import { ModelMetadataReader } from './ModelMetadataReader';
import { ModelResolver } from './ModelResolver';
import type {
  InferenceEvent,
  InferenceEventObserver,
  RawInputTensor,
} from './log/types';
import { LoadedModel, loadOnnxRuntime, ModelSessions } from './ModelSessions';
import { RoutingHints, TrafficRoute, TrafficRouter } from './TrafficRouter';
import { parseInput } from '../lib/validation';

const { version: PACKAGE_VERSION } = require('../../package.json') as {
  version: string;
};

/** The routes a request came through (the log's and the metrics' `route`). */
export type InferenceRoute = 'oip' | 'predict' | 'predict-batch';

/** Sees every inference request: the log and the metrics implement it. */
export type InferenceObserver = InferenceEventObserver;

/** What the service needs from the registry. */
export type ServingRegistry = Pick<
  RegistryService,
  | 'getRegisteredModel'
  | 'getVersion'
  | 'listVersions'
  | 'getLatestVersions'
  | 'searchVersions'
  | 'readArtifact'
>;

export interface InferenceServiceOptions {
  registry: ServingRegistry;
  sessions: ModelSessions;
  trafficRouter: TrafficRouter;
  /** Told of every request; an observer's failure never fails a request. */
  observers?: InferenceObserver[];
  /** Features from the catalog Dataset when the ONNX file does not name them. */
  featureSource?: FeatureSchemaSource;
  logger?: LoggerService;
  /** Server metadata `name`; default `loopline`. */
  serverName?: string;
  /** Server metadata `version`; default this package's version. */
  serverVersion?: string;
  /** How long registry lookups (model → entity, version exists) are kept. Default 2000 ms. */
  cacheTtlMs?: number;
  /** Milliseconds since the epoch (event timestamps); for tests. */
  clock?: () => number;
  /** A monotonic clock in milliseconds (latency); for tests. */
  now?: () => number;
  /** Request ids for requests without one; default random UUIDs. */
  newRequestId?: () => string;
}

export interface InferRequest {
  modelName: string;
  /** A version from the path (number or digits); else the traffic router decides. */
  version?: number | string;
  /** The OIP infer request body, unchecked. */
  request: unknown;
  route?: InferenceRoute;
  credentials?: BackstageCredentials;
  authorize?: EntityAuthorizer;
  /** What the traffic router may read of the request (e.g. an A/B key header). */
  hints?: RoutingHints;
  /** The JSON text `request` was parsed from: reported in place of the parsed inputs (see InferenceEvent.requestJson). */
  requestJson?: string;
  /** The raw bytes `request`'s inputs were decoded from: reported in place of the parsed inputs (see InferenceEvent.rawInputs). */
  rawInputs?: RawInputTensor[];
}

export interface InferResult {
  response: OipInferResponse;
  version: number;
  latencyMs: number;
  requestId: string;
}

export interface PredictCall {
  modelName: string;
  /** The PredictRequest / PredictBatchRequest body, unchecked. */
  body: unknown;
  credentials?: BackstageCredentials;
  authorize?: EntityAuthorizer;
  hints?: RoutingHints;
}

/** `GET /serving/models/:name/schema`. */
export interface ServingModelSchema {
  model: string;
  entityRef: string;
  /** The version described: the one asked for, else the one served now. */
  version: number;
  /** How predict takes features: columns of one input, or one input per feature. */
  layout: 'columns' | 'inputs';
  features: ServingFeature[];
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
}

/** A registered model and its catalog entity. */
export interface ModelRef {
  name: string;
  entityRef: string;
}

const recordValue = z.union([z.number(), z.string(), z.boolean()]);
const record = z.record(recordValue, {
  invalid_type_error: 'must be an object of feature name → value',
});
const versionField = z
  .number({ invalid_type_error: 'must be a positive integer' })
  .int('must be a positive integer')
  .positive('must be a positive integer')
  .optional();
const predictBody = z
  .object(
    { features: record, version: versionField },
    { invalid_type_error: 'The body must be a JSON object' },
  )
  .strict();
const predictBatchBody = z
  .object(
    {
      records: z.array(record).min(1, 'must hold at least one record'),
      version: versionField,
    },
    { invalid_type_error: 'The body must be a JSON object' },
  )
  .strict();

/** Shadow copies running at once, beyond which further copies are skipped. */
const MAX_MIRRORS_IN_FLIGHT = 32;

export class InferenceService {
  private readonly registry: ServingRegistry;
  private readonly sessions: ModelSessions;
  private readonly trafficRouter: TrafficRouter;
  private readonly observers: InferenceObserver[];
  private readonly logger?: LoggerService;
  private readonly serverName: string;
  private readonly serverVersion: string;
  private readonly clock: () => number;
  private readonly now: () => number;
  private readonly newRequestId: () => string;
  private readonly resolver: ModelResolver;
  private readonly layouts: FeatureLayouts;
  private readonly metadata: ModelMetadataReader;
  private readonly mirrorsInFlight = new Set<Promise<void>>();

  constructor(options: InferenceServiceOptions) {
    this.registry = options.registry;
    this.sessions = options.sessions;
    this.trafficRouter = options.trafficRouter;
    this.observers = [...(options.observers ?? [])];
    this.logger = options.logger;
    this.serverName = options.serverName ?? 'loopline';
    this.serverVersion = options.serverVersion ?? PACKAGE_VERSION;
    this.clock = options.clock ?? Date.now;
    this.now = options.now ?? (() => performance.now());
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.resolver = new ModelResolver({
      registry: options.registry,
      trafficRouter: options.trafficRouter,
      cacheTtlMs: options.cacheTtlMs,
    });
    this.layouts = new FeatureLayouts({
      featureSource: options.featureSource,
      logger: options.logger,
    });
    this.metadata = new ModelMetadataReader({
      registry: options.registry,
      sessions: options.sessions,
      trafficRouter: options.trafficRouter,
      resolver: this.resolver,
      layouts: this.layouts,
      logger: options.logger,
    });
  }

  /** Adds an observer (e.g. once the inference log is built). */
  addObserver(observer: InferenceObserver): void {
    this.observers.push(observer);
  }

  // ---- inference -----------------------------------------------------------

  /**
   * One OIP v2 inference: the model must exist (404), the caller be allowed
   * (`authorize`), the body be a valid request for the version's signature
   * (400); the version is the one asked for or the traffic router's. The
   * response echoes `id` only when the request gave one; the request id
   * reported to observers is that `id` or a new UUID.
   */
  async infer(request: InferRequest): Promise<InferResult> {
    const started = this.now();
    const timestamp = this.clock();
    const route = request.route ?? 'oip';
    const body = request.request as { id?: unknown } | undefined;
    const givenId =
      body &&
      typeof body === 'object' &&
      typeof body.id === 'string' &&
      body.id.length <= CODEC_LIMITS.idLength
        ? body.id
        : undefined;
    let requestId = givenId ?? this.newRequestId();
    const trace: Trace = { modelName: request.modelName, route, timestamp };
    try {
      const model = await this.resolver.requireModel(request.modelName);
      trace.known = true;
      await request.authorize?.(model.entityRef);
      const parsed = parseInferRequest(request.request);
      if (parsed.id !== undefined) requestId = parsed.id;
      trace.inputs = parsed.inputs;
      trace.requestJson = request.requestJson;
      trace.rawInputs = request.rawInputs;
      const target = await this.resolver.routeVersion(
        model.name,
        request.version,
        requestId,
        {
          header: request.hints?.header ?? (() => undefined),
          parameters: parsed.parameters,
        },
      );
      const served = await this.serveRouted(
        model.name,
        target,
        trace,
        requestId,
        started,
        loaded => this.runParsed(loaded, parsed),
      );
      const outputs = served.outputs;
      const response: OipInferResponse = {
        model_name: model.name,
        model_version: String(served.version),
        ...(parsed.id !== undefined ? { id: parsed.id } : {}),
        outputs,
      };
      const latencyMs = this.now() - started;
      this.notify(trace, requestId, latencyMs, { outputs });
      return { response, version: served.version, latencyMs, requestId };
    } catch (error) {
      this.notify(trace, requestId, this.now() - started, { error });
      throw error;
    }
  }

  /** `POST /serving/models/:name/predict`: one record, features by name. */
  async predict(call: PredictCall): Promise<PredictResponse> {
    const result = await this.predictRecords(call, 'predict');
    return {
      model: result.model,
      version: result.version,
      requestId: result.requestId,
      outputs: result.predictions[0].outputs,
      prediction: result.predictions[0].prediction,
      latencyMs: result.latencyMs,
    };
  }

  /** `POST /serving/models/:name/predict-batch`: records in one batch, answers in order. */
  async predictBatch(call: PredictCall): Promise<PredictBatchResponse> {
    return this.predictRecords(call, 'predict-batch');
  }

  private async predictRecords(
    call: PredictCall,
    route: 'predict' | 'predict-batch',
  ): Promise<PredictBatchResponse> {
    const started = this.now();
    const timestamp = this.clock();
    const requestId = this.newRequestId();
    const trace: Trace = { modelName: call.modelName, route, timestamp };
    try {
      const model = await this.resolver.requireModel(call.modelName);
      trace.known = true;
      await call.authorize?.(model.entityRef);
      let records: Array<Record<string, number | string | boolean>>;
      let version: number | undefined;
      if (route === 'predict') {
        const body = parseInput(predictBody, call.body, 'predict request');
        records = [body.features];
        version = body.version;
      } else {
        const body = parseInput(
          predictBatchBody,
          call.body,
          'predict-batch request',
        );
        records = body.records;
        version = body.version;
      }
      const target = await this.resolver.routeVersion(
        model.name,
        version,
        requestId,
        call.hints,
      );
      const served = await this.serveRouted(
        model.name,
        target,
        trace,
        requestId,
        started,
        async loaded => {
          const layout = await this.layouts.layoutOf(
            loaded,
            model.entityRef,
            true,
          );
          const inputs = recordsToTensors(
            records,
            layout,
            route === 'predict-batch',
          );
          trace.inputs = inputs;
          return this.runParsed(loaded, { inputs });
        },
      );
      const outputs = served.outputs;
      const predictions = splitRecords(outputs, records.length);
      const latencyMs = this.now() - started;
      this.notify(trace, requestId, latencyMs, { outputs });
      return {
        model: model.name,
        version: served.version,
        requestId,
        predictions,
        latencyMs,
      };
    } catch (error) {
      this.notify(trace, requestId, this.now() - started, { error });
      throw error;
    }
  }

  /**
   * Reports a request refused before it reached the service (a body that is
   * not JSON or too large), when the model exists, so the log and the
   * metrics count it.
   */
  async reportRejected(rejection: {
    modelName: string;
    version?: number | string;
    route: InferenceRoute;
    error: unknown;
  }): Promise<void> {
    try {
      await this.resolver.requireModel(rejection.modelName);
    } catch {
      return;
    }
    const version = tryParseVersion(rejection.version);
    this.notify(
      {
        modelName: rejection.modelName,
        route: rejection.route,
        timestamp: this.clock(),
        known: true,
        ...(version !== undefined ? { version } : {}),
      },
      this.newRequestId(),
      0,
      { error: rejection.error },
    );
  }

  // ---- health and metadata ---------------------------------------------------

  serverLive(): { live: true } {
    return { live: true };
  }

  /** Ready when the runtime's native binding loads (models load on first use, or with `preload`). */
  serverReady(): { ready: boolean } {
    try {
      loadOnnxRuntime();
      return { ready: true };
    } catch (error) {
      this.logger?.error('onnxruntime-node cannot be loaded', error as Error);
      return { ready: false };
    }
  }

  serverMetadata(): { name: string; version: string; extensions: string[] } {
    return {
      name: this.serverName,
      version: this.serverVersion,
      extensions: [],
    };
  }

  /** The model's catalog entity ref (404 for an unknown model), cached a couple of seconds. */
  async entityRefOf(modelName: string): Promise<string> {
    return (await this.resolver.requireModel(modelName)).entityRef;
  }

  /** Models that serve requests without a version: those with a version in Production. */
  async listModels(): Promise<ModelRef[]> {
    const models = new Map<string, ModelRef>();
    let pageToken: string | undefined;
    do {
      const page = await this.registry.searchVersions({
        filter: "current_stage = 'Production'",
        maxResults: 1000,
        pageToken,
      });
      for (const version of page.items) {
        if (version.artifact && !models.has(version.name)) {
          models.set(version.name, {
            name: version.name,
            entityRef: version.entityRef,
          });
        }
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return [...models.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `GET /v2/models/:name[/versions/:v]`: the signature from the registry, no load needed. */
  modelMetadata(
    modelName: string,
    version?: number | string,
    authorize?: EntityAuthorizer,
  ): Promise<OipModelMetadata> {
    return this.metadata.modelMetadata(modelName, version, authorize);
  }

  /**
   * `GET /v2/models/:name[/versions/:v]/ready`: loads the version if needed;
   * a version that cannot be loaded is a ServiceUnavailableError (503).
   */
  async modelReady(
    modelName: string,
    version?: number | string,
    authorize?: EntityAuthorizer,
  ): Promise<{ name: string; version: number; ready: true }> {
    const model = await this.resolver.requireModel(modelName);
    await authorize?.(model.entityRef);
    const target = await this.resolver.routeVersion(model.name, version);
    await this.sessions.get(model.name, target.version);
    return { name: model.name, version: target.version, ready: true };
  }

  /** `GET /serving/models/:name/info`: what is served, what is loaded, the features. */
  modelInfo(
    modelName: string,
    authorize?: EntityAuthorizer,
  ): Promise<ServingModelInfo> {
    return this.metadata.modelInfo(modelName, authorize);
  }

  /** `GET /serving/models/:name/schema`: the features predict takes and the signature. */
  modelSchema(
    modelName: string,
    version?: number | string,
    authorize?: EntityAuthorizer,
  ): Promise<ServingModelSchema> {
    return this.metadata.modelSchema(modelName, version, authorize);
  }

  /**
   * Loads every model's Production version (e.g. at startup, so that the
   * first requests do not pay for loading). Failures are logged, not thrown.
   */
  async preload(): Promise<{ loaded: string[]; failed: string[] }> {
    const loaded: string[] = [];
    const failed: string[] = [];
    for (const model of await this.listModels()) {
      try {
        const { version } = await this.trafficRouter.resolve(model.name);
        await this.sessions.get(model.name, version);
        loaded.push(`${model.name}/${version}`);
      } catch (error) {
        failed.push(model.name);
        this.logger?.warn(
          `Could not preload model '${model.name}': ${
            (error as Error)?.message
          }`,
        );
      }
    }
    return { loaded, failed };
  }

  // ---- internals -------------------------------------------------------------

  private async runParsed(
    loaded: LoadedModel,
    parsed: Pick<ParsedInferRequest, 'inputs' | 'outputs'>,
  ): Promise<OipTensor[]> {
    const feeds = toFeeds(parsed as ParsedInferRequest, loaded.inputs);
    const outputNames = selectOutputs(parsed, loaded.outputs);
    const results = await this.sessions.run(loaded, feeds, outputNames);
    return outputNames.map(name => {
      const tensor = results[name];
      if (!tensor) {
        throw new Error(`The runtime gave no output "${name}"`);
      }
      return decodeTensor(name, tensor);
    });
  }

  /**
   * Runs a routed request: on the routed version, else (when it fails and
   * the route has a fallback) on the fallback, and mirrors a copy when the
   * route says so. The failed attempt is reported as a server-side failure
   * of its arm, so the rollout's analysis sees it; the client only sees the
   * fallback's answer. `trace` ends up describing the answering arm.
   */
  private async serveRouted(
    modelName: string,
    target: TrafficRoute,
    trace: Trace,
    requestId: string,
    started: number,
    run: (loaded: LoadedModel) => Promise<OipTensor[]>,
  ): Promise<{ version: number; outputs: OipTensor[] }> {
    const attempt = async (version: number) =>
      run(await this.sessions.get(modelName, version));
    trace.version = target.version;
    trace.endpoint = target.endpoint;
    let version = target.version;
    let outputs: OipTensor[];
    try {
      outputs = await attempt(version);
    } catch (error) {
      const fallback = target.fallback;
      if (!fallback) throw error;
      let rescued: OipTensor[];
      try {
        rescued = await attempt(fallback.version);
      } catch {
        // The fallback fails too: the request itself is at fault (e.g. a
        // wrong shape), so the routed arm's error is the answer.
        throw error;
      }
      this.notify({ ...trace }, requestId, this.now() - started, {
        error: new CandidateFailure(error),
      });
      this.logger?.warn(
        `Version ${version} of model '${modelName}' failed a request; answered by version ${
          fallback.version
        }: ${(error as Error)?.message}`,
      );
      trace.version = fallback.version;
      trace.endpoint = fallback.endpoint;
      version = fallback.version;
      outputs = rescued;
    }
    if (target.mirror) {
      this.mirror(modelName, target.mirror, trace, requestId, run);
    }
    return { version, outputs };
  }

  /**
   * Shadow traffic: the copy runs after the answer, off the request's path,
   * and is skipped when too many copies are already in flight, so the
   * shadow can never slow stable down.
   */
  private mirror(
    modelName: string,
    mirror: { version: number; endpoint: string },
    trace: Trace,
    requestId: string,
    run: (loaded: LoadedModel) => Promise<OipTensor[]>,
  ): void {
    if (this.mirrorsInFlight.size >= MAX_MIRRORS_IN_FLIGHT) return;
    const copy: Trace = {
      ...trace,
      version: mirror.version,
      endpoint: mirror.endpoint,
      timestamp: this.clock(),
    };
    const started = this.now();
    const running: Promise<void> = new Promise<void>(resolve =>
      setImmediate(resolve),
    )
      .then(() => this.sessions.get(modelName, mirror.version))
      .then(run)
      .then(
        outputs =>
          this.notify(copy, requestId, this.now() - started, { outputs }),
        error =>
          this.notify(copy, requestId, this.now() - started, {
            error: new CandidateFailure(error),
          }),
      )
      .finally(() => {
        this.mirrorsInFlight.delete(running);
      });
    this.mirrorsInFlight.add(running);
  }

  /** Resolves once the shadow copies running now have finished (shutdown, tests). */
  async mirrorsSettled(): Promise<void> {
    while (this.mirrorsInFlight.size > 0) {
      await Promise.all([...this.mirrorsInFlight]);
    }
  }

  private notify(
    trace: Trace,
    requestId: string,
    latencyMs: number,
    result: { outputs?: OipTensor[]; error?: unknown },
  ): void {
    // Requests for models that do not exist are not reported: their names
    // are the caller's to invent and would flood the log and the metrics.
    if (!trace.known || this.observers.length === 0) return;
    const failed = result.error !== undefined;
    const { status, message } = failed
      ? oipErrorOf(result.error)
      : { status: 200, message: undefined };
    const event: InferenceEvent = {
      requestId,
      modelName: trace.modelName,
      ...(trace.version !== undefined ? { version: trace.version } : {}),
      route: trace.route,
      source: 'embedded',
      ...(trace.endpoint !== undefined ? { endpoint: trace.endpoint } : {}),
      status: failed ? 'error' : 'ok',
      httpStatus: status,
      latencyMs,
      ...(trace.requestJson !== undefined
        ? { requestJson: trace.requestJson }
        : trace.rawInputs !== undefined
        ? { rawInputs: trace.rawInputs }
        : trace.inputs !== undefined
        ? { inputs: trace.inputs }
        : {}),
      ...(result.outputs !== undefined ? { outputs: result.outputs } : {}),
      ...(failed ? { error: message } : {}),
      timestamp: trace.timestamp,
    };
    for (const observer of this.observers) {
      try {
        observer.observe(event);
      } catch (error) {
        this.logger?.warn(
          `An inference observer failed: ${(error as Error)?.message}`,
        );
      }
    }
  }
}

interface Trace {
  modelName: string;
  route: InferenceRoute;
  timestamp: number;
  /** The model exists (so the request is reported). */
  known?: boolean;
  version?: number;
  endpoint?: string;
  inputs?: OipTensor[];
  requestJson?: string;
  rawInputs?: RawInputTensor[];
}
