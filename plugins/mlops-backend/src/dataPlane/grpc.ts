/**
 * OIP over gRPC: `inference.GRPCInferenceService` (KServe's
 * grpc_predict_v2.proto, shipped in this package's proto/ folder) with
 * @grpc/grpc-js, on `mlops.serving.dataPlane.grpcPort`. ModelInfer takes
 * tensors in `raw_input_contents` (little-endian bytes, as the binary
 * extension) or in the typed `contents`, turns them into the JSON request
 * the codec checks, and answers raw in `raw_output_contents` when the
 * request came raw. The same InferenceService, token and permission caches,
 * log and metrics as the HTTP routes; errors map to gRPC status codes.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { InputError } from '@backstage/errors';
import type { OipTensor, TensorDatatype } from '@loopline/mlops-common';
import { oipErrorOf } from '../serving/errors';
import type { InferenceService } from '../serving/InferenceService';
import type { RawInputTensor } from '../serving/log/types';
import { decodeRawTensor } from '../serving/rawTensor';
import { encodeRawTensor } from './binary';
import { DataPlaneAuth } from './ControlPlaneLink';
import type { VerifiedToken } from './protocol';
import { RateLimitedError, WorkerRateLimiter } from './rateLimits';

/** The proto, in src/ and dist/ alike two folders up from here. */
export const PROTO_PATH = path.resolve(
  __dirname,
  '../../proto/grpc_predict_v2.proto',
);

export function loadInferenceProto() {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition) as any;
}

const STATUS_OF_HTTP: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ALREADY_EXISTS,
  413: grpc.status.RESOURCE_EXHAUSTED,
  501: grpc.status.UNIMPLEMENTED,
  503: grpc.status.UNAVAILABLE,
};

function grpcError(error: unknown): grpc.ServiceError {
  const { status, message } = oipErrorOf(error);
  const metadata = new grpc.Metadata();
  if (error instanceof RateLimitedError) {
    // gRPC's 429: RESOURCE_EXHAUSTED, with the same Retry-After as HTTP.
    metadata.set('retry-after', String(error.retryAfterSeconds));
    return Object.assign(new Error(message), {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: message,
      metadata,
    }) as grpc.ServiceError;
  }
  return Object.assign(new Error(message), {
    code: STATUS_OF_HTTP[status] ?? grpc.status.INTERNAL,
    details: message,
    metadata,
  }) as grpc.ServiceError;
}

type Parameters = Record<
  string,
  { parameter_choice?: string } & Record<string, unknown>
>;

/** InferParameter map → plain values. */
function plainParameters(parameters: Parameters | undefined) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    const choice = value?.parameter_choice;
    if (!choice) continue;
    const v = value[choice];
    out[key] = choice === 'int64_param' ? Number(v) : v;
  }
  return out;
}

function grpcParameters(parameters: Record<string, unknown> | undefined) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    if (typeof value === 'boolean') out[key] = { bool_param: value };
    else if (typeof value === 'number' && Number.isSafeInteger(value)) {
      out[key] = { int64_param: String(value) };
    } else out[key] = { string_param: String(value) };
  }
  return out;
}

/** Which typed field of InferTensorContents holds a datatype's elements. */
const CONTENTS_FIELD: Record<TensorDatatype, string> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: 'fp32_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Parameters;
  inputs: Array<{
    name: string;
    datatype: string;
    shape: string[];
    parameters?: Parameters;
    contents?: Record<string, unknown[]>;
  }>;
  outputs: Array<{ name: string; parameters?: Parameters }>;
  raw_input_contents: Buffer[];
}

/** A ModelInferRequest as the JSON OIP request it stands for; wrong raw sizes are an InputError. */
export function jsonRequestOf(request: GrpcInferRequest): unknown {
  return readGrpcRequest(request).request;
}

/**
 * `jsonRequestOf`, with the `raw_input_contents` (copies: the event
 * outlives the call) for the log when the tensors came raw (see
 * InferenceEvent.rawInputs).
 */
export function readGrpcRequest(request: GrpcInferRequest): {
  request: unknown;
  rawInputs?: RawInputTensor[];
} {
  const raw = request.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw new InputError(
      `raw_input_contents has ${raw.length} entries but there are ${request.inputs.length} inputs`,
    );
  }
  const rawInputs: RawInputTensor[] = [];
  const inputs = request.inputs.map((input, i) => {
    const datatype = input.datatype as TensorDatatype;
    const label = `input "${input.name}"`;
    const field = CONTENTS_FIELD[datatype];
    let data: unknown[] | undefined;
    if (raw.length > 0) {
      if (!field) {
        throw new InputError(`Invalid ${label}: unknown datatype ${datatype}`);
      }
      data = decodeRawTensor(datatype, raw[i], label);
      // Refused here, before routing: a size that does not fit the shape is
      // the caller's mistake whatever model it names.
      const elements = input.shape.reduce((n, d) => n * Number(d), 1);
      if (data.length !== elements) {
        throw new InputError(
          `Invalid ${label}: raw_input_contents[${i}] holds ${
            data.length
          } elements but shape [${input.shape.join(', ')}] needs ${elements}`,
        );
      }
    } else if (field) {
      const values = input.contents?.[field] ?? [];
      data =
        datatype === 'BYTES'
          ? values.map(v => Buffer.from(v as Buffer).toString('utf8'))
          : datatype === 'BOOL'
          ? values
          : values.map(v =>
              typeof v === 'string' &&
              datatype !== 'INT64' &&
              datatype !== 'UINT64'
                ? Number(v)
                : v,
            );
    }
    const parameters = plainParameters(input.parameters);
    const shape = input.shape.map(Number);
    const given = Object.keys(parameters).length > 0 ? { parameters } : {};
    if (raw.length > 0) {
      rawInputs.push({
        name: input.name,
        datatype,
        shape,
        ...given,
        contents: Buffer.from(raw[i]),
      });
    }
    return {
      name: input.name,
      datatype: input.datatype,
      shape,
      data: data ?? [],
      ...given,
    };
  });
  const parameters = plainParameters(request.parameters);
  const json = {
    ...(request.id ? { id: request.id } : {}),
    ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
    inputs,
    ...(request.outputs?.length
      ? {
          outputs: request.outputs.map(o => ({
            name: o.name,
            parameters: plainParameters(o.parameters),
          })),
        }
      : {}),
  };
  return raw.length > 0 ? { request: json, rawInputs } : { request: json };
}

/** An output tensor in the typed contents of InferOutputTensor. */
function typedOutput(output: OipTensor) {
  const field = CONTENTS_FIELD[output.datatype];
  const values =
    output.datatype === 'BYTES'
      ? output.data.map(v => Buffer.from(String(v), 'utf8'))
      : output.data.map(v =>
          typeof v === 'string' && output.datatype.startsWith('FP')
            ? Number(v)
            : v,
        );
  return {
    name: output.name,
    datatype: output.datatype,
    shape: output.shape.map(String),
    contents: { [field]: values },
  };
}

export function createGrpcServer(options: {
  service: InferenceService;
  auth: DataPlaneAuth;
  /** Rate limits per principal, when configured. */
  limiter?: WorkerRateLimiter;
  /** Whether the worker has a routing table yet. */
  ready: () => boolean;
  maxMessageBytes: number;
}): grpc.Server {
  const { service, auth } = options;
  const proto = loadInferenceProto();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });

  const caller = async (
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): Promise<{ token: string; verified: VerifiedToken }> => {
    const header = call.metadata.get('authorization')[0];
    const key = call.metadata.get('x-api-key')[0];
    const token = DataPlaneAuth.tokenOf({
      authorization: typeof header === 'string' ? header : undefined,
      'x-api-key': typeof key === 'string' ? key : undefined,
    });
    return { token: token!, verified: await auth.authenticate(token) };
  };
  const invoker =
    (c: { token: string; verified: VerifiedToken }) => (entityRef: string) =>
      auth.authorizeInvoke(c.token, c.verified, entityRef);
  const unary =
    <Req, Res>(run: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, done: grpc.sendUnaryData<Res>) => {
      run(call).then(
        value => done(null, value),
        error => done(grpcError(error)),
      );
    };

  server.addService(proto.inference.GRPCInferenceService.service, {
    ServerLive: unary(async () => ({ live: true })),
    ServerReady: unary(async () => ({
      ready: options.ready() && service.serverReady().ready,
    })),
    ServerMetadata: unary(async call => {
      await caller(call);
      return {
        ...service.serverMetadata(),
        extensions: ['binary_tensor_data'],
      };
    }),
    ModelMetadata: unary(
      async (
        call: grpc.ServerUnaryCall<{ name: string; version: string }, unknown>,
      ) => {
        const c = await caller(call);
        const meta = await service.modelMetadata(
          call.request.name,
          call.request.version || undefined,
          invoker(c),
        );
        const spec = (t: {
          name: string;
          datatype: string;
          shape: number[];
        }) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape.map(String),
        });
        return {
          name: meta.name,
          versions: meta.versions,
          platform: meta.platform,
          inputs: meta.inputs.map(spec),
          outputs: meta.outputs.map(spec),
        };
      },
    ),
    ModelReady: unary(
      async (
        call: grpc.ServerUnaryCall<{ name: string; version: string }, unknown>,
      ) => {
        const c = await caller(call);
        const result = await service.modelReady(
          call.request.name,
          call.request.version || undefined,
          invoker(c),
        );
        return { ready: result.ready };
      },
    ),
    ModelInfer: unary(
      async (call: grpc.ServerUnaryCall<GrpcInferRequest, unknown>) => {
        const c = await caller(call);
        await options.limiter?.take(c.verified.principal);
        const request = call.request;
        const { request: body, rawInputs } = readGrpcRequest(request);
        const { response } = await service.infer({
          modelName: request.model_name,
          version: request.model_version || undefined,
          request: body,
          route: 'oip',
          ...(rawInputs ? { rawInputs } : {}),
          authorize: invoker(c),
          hints: {
            header: name => {
              const value = call.metadata.get(name.toLowerCase())[0];
              return typeof value === 'string' ? value : undefined;
            },
          },
        });
        const raw = (request.raw_input_contents ?? []).length > 0;
        return {
          model_name: response.model_name,
          model_version: response.model_version ?? '',
          id: response.id ?? '',
          parameters: grpcParameters(response.parameters),
          outputs: response.outputs.map(o =>
            raw
              ? {
                  name: o.name,
                  datatype: o.datatype,
                  shape: o.shape.map(String),
                }
              : typedOutput(o),
          ),
          raw_output_contents: raw ? response.outputs.map(encodeRawTensor) : [],
        };
      },
    ),
  });
  return server;
}

/** Binds the server (to the port the control plane shares among the workers). */
export function bindGrpc(
  server: grpc.Server,
  host: string,
  port: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(
      `${host}:${port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  });
}
