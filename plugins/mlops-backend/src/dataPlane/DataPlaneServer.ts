/**
 * A data-plane worker's server: `node:http` with no Express and no browser
 * middleware, over the same InferenceService as the portal route. The
 * registry and the rollouts it reads are the routing table pushed by the
 * control plane; tokens and permission decisions are cached here; the
 * inference log events go back to the control plane in batches.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { InputError, NotFoundError } from '@backstage/errors';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { RolloutTrafficRouter } from '../rollout/embedded';
import { oipErrorOf } from '../serving/errors';
import type { FeatureSchemaSource } from '../serving/features';
import { InferenceRoute, InferenceService } from '../serving/InferenceService';
import type { RawInputTensor } from '../serving/log/types';
import { ModelSessions } from '../serving/ModelSessions';
import { ProductionTrafficRouter } from '../serving/TrafficRouter';
import { TtlCache } from '../lib/TtlCache';
import {
  ControlPlaneLink,
  DataPlaneAuth,
  EventShipper,
} from './ControlPlaneLink';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import { bindGrpc, createGrpcServer } from './grpc';
import type { DataPlaneWorkerOptions, VerifiedToken } from './protocol';
import { RateLimitedError, WorkerRateLimiter } from './rateLimits';
import {
  BINARY_HEADER,
  binaryOutputsOf,
  encodeBinaryResponse,
  readBinaryRequest,
  wantsBinary,
} from './binary';
import {
  RoutingTable,
  routedVersions,
  TableRegistry,
  TableRolloutStore,
} from './routingTable';

type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  match: RouteMatch,
) => Promise<void>;

interface RouteMatch {
  name: string;
  version?: string;
}

/** The routes of the data plane: OIP v2 REST and the predict routes. */
const MODEL_ROUTE =
  /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/infer|\/ready)?$/;
const PREDICT_ROUTE = /^\/serving\/models\/([^/]+)\/(predict|predict-batch)$/;

export class DataPlaneServer {
  readonly service: InferenceService;
  readonly sessions: ModelSessions;
  readonly auth: DataPlaneAuth;
  /** Present when rate limits are configured. */
  readonly limiter?: WorkerRateLimiter;
  private readonly registry: TableRegistry;
  private readonly rolloutStore = new TableRolloutStore();
  private readonly production: ProductionTrafficRouter;
  private readonly routing: RolloutTrafficRouter;
  private readonly shipper: EventShipper;
  private readonly server: http.Server;
  private table?: RoutingTable;
  private grpc?: GrpcServer;
  private tableApplied?: () => void;
  readonly tableReady: Promise<void>;

  constructor(
    private readonly link: ControlPlaneLink,
    private readonly options: DataPlaneWorkerOptions,
    private readonly logger: LoggerService,
  ) {
    this.registry = new TableRegistry(link);
    this.sessions = new ModelSessions({
      registry: this.registry,
      logger,
      intraOpNumThreads: options.intraOpNumThreads,
      interOpNumThreads: options.interOpNumThreads,
      maxLoaded: options.maxLoadedModels,
    });
    // The table is local: nothing to cache in front of it (and a cached
    // route could outlive the table that made it).
    this.production = new ProductionTrafficRouter({
      registry: this.registry,
      cacheTtlMs: 0,
    });
    this.routing = new RolloutTrafficRouter({
      store: this.rolloutStore,
      environment: options.servingEnvironment,
      environments: options.environments,
      fallback: this.production,
      abKeyHeader: options.abKeyHeader,
      cacheTtlMs: 0,
    });
    this.shipper = new EventShipper(link, {
      bufferSize: options.logBufferSize,
      batchSize: options.logBatchSize,
      messageSize: options.logMessageSize,
      sampleRate: options.logSampleRate,
    });
    const features = new TtlCache<
      Awaited<ReturnType<FeatureSchemaSource['featuresFor']>>
    >({ ttlMs: 5000 });
    const featureSource: FeatureSchemaSource = {
      featuresFor: request =>
        features.get(
          `${request.entityRef}\u0000${request.datasetRef ?? ''}`,
          () => link.featuresFor(request),
        ),
    };
    this.service = new InferenceService({
      registry: this.registry,
      sessions: this.sessions,
      trafficRouter: this.routing,
      observers: [this.shipper],
      featureSource,
      logger,
      cacheTtlMs: 0,
    });
    this.auth = new DataPlaneAuth(link, {
      credentialsTtlMs: options.credentialsCacheTtlMs,
      permissionTtlMs: options.permissionCacheTtlMs,
    });
    if (options.rateLimited) {
      this.limiter = new WorkerRateLimiter(
        principal => link.rateLease(principal),
        tier => this.shipper.countRateLimited(tier),
      );
    }
    this.tableReady = new Promise(resolve => {
      this.tableApplied = resolve;
    });
    link.onTable(table => this.applyTable(table));
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Takes a pushed table: the next request routes by it; routed versions load, the others unload. */
  applyTable(table: RoutingTable): void {
    const previous = this.table;
    this.table = table;
    this.registry.update(table);
    this.rolloutStore.update(table);
    this.auth.clearDecisions();
    this.tableApplied?.();
    this.link.post({
      type: 'dataplane:table-applied',
      revision: table.revision,
      workerId: this.options.workerId,
    });
    if (previous?.revision === table.revision) return;
    void this.syncSessions(table);
  }

  private async syncSessions(table: RoutingTable) {
    const routed = routedVersions(table);
    const known = new Set(table.models.map(m => m.name));
    for (const loaded of this.sessions.list()) {
      if (!known.has(loaded.name) && !routed.has(loaded.name)) {
        await this.sessions.unload(loaded.name, loaded.version);
      }
    }
    for (const [name, versions] of routed) {
      await this.sessions.retainOnly(name, [...versions]);
      for (const version of versions) {
        try {
          await this.sessions.get(name, version);
        } catch (error) {
          this.logger.warn(
            `Data plane could not load version ${version} of model '${name}': ${
              (error as Error)?.message
            }`,
          );
        }
      }
    }
  }

  /** Listens on the HTTP port (and the gRPC port, when configured). */
  async listen(): Promise<{ port: number; grpcPort?: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    if (this.options.grpcPort === undefined) return { port };
    this.grpc = createGrpcServer({
      service: this.service,
      auth: this.auth,
      limiter: this.limiter,
      ready: () => this.table !== undefined,
      maxMessageBytes: this.options.jsonBodyLimitBytes,
    });
    const grpcPort = await bindGrpc(
      this.grpc,
      this.options.host,
      this.options.grpcPort,
    );
    return { port, grpcPort };
  }

  async close(): Promise<void> {
    const grpcServer = this.grpc;
    if (grpcServer) {
      await new Promise<void>(resolve =>
        grpcServer.tryShutdown(() => resolve()),
      );
    }
    await new Promise<void>(resolve => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    await this.service.mirrorsSettled();
    await this.shipper.flush();
    await this.sessions.close();
  }

  // ---- requests ----------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    try {
      this.dispatch(req, res);
    } catch (error) {
      req.resume();
      this.fail(res, error);
    }
  }

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let route: Handler | undefined;
    let match: RouteMatch = { name: '' };
    const model = MODEL_ROUTE.exec(path);
    if (model) {
      match = {
        name: safeDecode(model[1]),
        version: model[2] && safeDecode(model[2]),
      };
      if (model[3] === '/infer') {
        route = req.method === 'POST' ? this.infer : undefined;
      } else if (req.method === 'GET') {
        route = model[3] === '/ready' ? this.modelReady : this.modelMetadata;
      }
    } else if (req.method === 'POST' && PREDICT_ROUTE.test(path)) {
      const predict = PREDICT_ROUTE.exec(path)!;
      match = { name: safeDecode(predict[1]), version: predict[2] };
      route = this.predict;
    } else if (req.method === 'GET') {
      route = {
        '/v2/health/live': this.live,
        '/v2/health/ready': this.ready,
        '/v2': this.serverMetadata,
      }[path];
    }
    if (!route) {
      req.resume();
      sendJson(res, 404, { error: `No such route: ${req.method} ${path}` });
      return;
    }
    route.call(this, req, res, match).catch(error => this.fail(res, error));
  }

  private fail(res: http.ServerResponse, error: unknown) {
    const { status, message } = oipErrorOf(error);
    if (status >= 500 && status !== 503) {
      this.logger.error('Data plane request failed', error as Error);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof RateLimitedError) {
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      sendJson(res, 429, { error: message });
      return;
    }
    sendJson(res, status, { error: message });
  }

  /** The caller's token and principal, or AuthenticationError (401). */
  private async caller(
    req: http.IncomingMessage,
  ): Promise<{ token: string; verified: VerifiedToken }> {
    const token = DataPlaneAuth.tokenOf(req.headers);
    const verified = await this.auth.authenticate(token);
    return { token: token!, verified };
  }

  private invoker(caller: { token: string; verified: VerifiedToken }) {
    return (entityRef: string) =>
      this.auth.authorizeInvoke(caller.token, caller.verified, entityRef);
  }

  private live: Handler = async (_req, res) => {
    sendJson(res, 200, this.service.serverLive());
  };

  /** Ready once the first routing table arrived and the runtime loads. */
  private ready: Handler = async (_req, res) => {
    if (!this.table || !this.service.serverReady().ready) {
      sendJson(res, 503, { error: 'The data plane is not ready' });
      return;
    }
    sendJson(res, 200, { ready: true });
  };

  private serverMetadata: Handler = async (req, res) => {
    await this.caller(req);
    sendJson(res, 200, {
      ...this.service.serverMetadata(),
      extensions: ['binary_tensor_data'],
    });
  };

  private modelMetadata: Handler = async (req, res, match) => {
    const caller = await this.caller(req);
    sendJson(
      res,
      200,
      await this.service.modelMetadata(
        match.name,
        match.version,
        this.invoker(caller),
      ),
    );
  };

  private modelReady: Handler = async (req, res, match) => {
    const caller = await this.caller(req);
    const result = await this.service.modelReady(
      match.name,
      match.version,
      this.invoker(caller),
    );
    sendJson(res, 200, { name: result.name, ready: result.ready });
  };

  private infer: Handler = async (req, res, match) => {
    // An unauthenticated caller is refused before its body is read.
    const caller = await this.caller(req);
    await this.limiter?.take(caller.verified.principal);
    const { body, json, rawInputs } = await this.readRequest(
      req,
      match,
      'oip',
      true,
    );
    const { response, requestId } = await this.service.infer({
      modelName: match.name,
      version: match.version,
      request: body,
      route: 'oip',
      authorize: this.invoker(caller),
      hints: hintsOf(req),
      ...(json !== undefined ? { requestJson: json } : {}),
      ...(rawInputs ? { rawInputs } : {}),
    });
    res.setHeader('X-Request-Id', requestId);
    if (wantsBinary(body)) {
      const binary = encodeBinaryResponse(response, binaryOutputsOf(body));
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Inference-Header-Content-Length': binary.jsonLength,
        'Content-Length': binary.body.length,
      });
      res.end(binary.body);
      return;
    }
    sendJson(res, 200, response);
  };

  private predict: Handler = async (req, res, match) => {
    const caller = await this.caller(req);
    await this.limiter?.take(caller.verified.principal);
    const route = match.version as 'predict' | 'predict-batch';
    const { body } = await this.readRequest(req, { name: match.name }, route);
    const call = {
      modelName: match.name,
      body,
      authorize: this.invoker(caller),
      hints: hintsOf(req),
    };
    sendJson(
      res,
      200,
      route === 'predict'
        ? await this.service.predict(call)
        : await this.service.predictBatch(call),
    );
  };

  /**
   * The body parsed, at most `jsonBodyLimitBytes` (or, with
   * `Inference-Header-Content-Length`, the binary extension's JSON header
   * and tensors, as the JSON request they stand for), with its text when
   * it was JSON; a refused body of a known model is reported.
   */
  private async readRequest(
    req: http.IncomingMessage,
    match: RouteMatch,
    route: InferenceRoute,
    binary = false,
  ): Promise<{ body: unknown; json?: string; rawInputs?: RawInputTensor[] }> {
    try {
      const bytes = await readBody(req, this.options.jsonBodyLimitBytes);
      const headerLength = req.headers[BINARY_HEADER];
      if (binary && typeof headerLength === 'string') {
        const { request, rawInputs } = readBinaryRequest(bytes, headerLength);
        return { body: request, ...(rawInputs ? { rawInputs } : {}) };
      }
      try {
        const json = bytes.toString('utf8');
        return { body: JSON.parse(json), json };
      } catch (error) {
        throw new InputError(
          `Malformed JSON body: ${(error as Error).message}`,
        );
      }
    } catch (error) {
      void this.service.reportRejected({
        modelName: match.name,
        version: match.version,
        route,
        error,
      });
      throw error;
    }
  }
}

class PayloadTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}

/** The request body, refused (413) beyond `limit` bytes without reading the rest. */
export function readBody(
  req: http.IncomingMessage,
  limit: number,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(
      new PayloadTooLargeError(
        `Request body too large: ${declared} bytes, at most ${limit}`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          new PayloadTooLargeError(
            `Request body too large: more than ${limit} bytes`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)),
    );
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new NotFoundError(`No such model: ${segment}`);
  }
}

function hintsOf(req: http.IncomingMessage) {
  return {
    header: (name: string) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}
