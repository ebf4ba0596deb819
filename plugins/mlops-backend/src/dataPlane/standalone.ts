/**
 * The standalone data plane (`loopline-serving`): one process serving the
 * data-plane routes beside the portal or as one of many replicas behind a
 * load balancer, talking to the control plane over HTTP instead of IPC. It
 * polls the routing table (ETag, so an unchanged table costs a 304), sends
 * its calls and log batches to the backend's /serving/data-plane routes with
 * its own service token, and when the backend is away keeps serving its last
 * table (and the tokens it already verified) until it returns.
 */
import { EventEmitter } from 'node:events';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { InferenceEvent } from '../serving/log/types';
import { tensorsOfRaw } from '../serving/rawTensor';
import type { Channel } from './ControlPlaneLink';
import type { DataPlaneWorkerOptions, WorkerMessage } from './protocol';
import { parseByteSize } from './protocol';
import { decodeCallValue } from './router';
import { consoleLogger, runDataPlaneWorker } from './worker';

export interface StandaloneOptions {
  /** The backend's mlops API, e.g. http://portal:7007/api/mlops. */
  controlPlaneUrl: string;
  /** A service token the backend accepts (an external-access token allowed loopline.serving.dataplane.connect). */
  token: string;
  pollIntervalMs: number;
  logger: LoggerService;
  fetchImpl?: typeof fetch;
}

/** The worker's channel over HTTP to the backend. */
export class HttpControlPlaneChannel extends EventEmitter implements Channel {
  private etag?: string;
  private timer?: NodeJS.Timeout;
  private reachable = true;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: StandaloneOptions) {
    super();
    this.fetch = options.fetchImpl ?? fetch;
  }

  private async request(path: string, init: RequestInit = {}) {
    return this.fetch(`${this.options.controlPlaneUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
  }

  /** Polls the table now and every `pollIntervalMs`. */
  start(): void {
    const poll = async () => {
      try {
        const res = await this.request('/serving/data-plane/table', {
          headers: this.etag ? { 'if-none-match': this.etag } : {},
        });
        if (res.status === 200) {
          this.etag = res.headers.get('etag') ?? undefined;
          this.emit('message', {
            type: 'dataplane:table',
            table: await res.json(),
          });
        } else if (res.status !== 304) {
          throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
        }
        if (!this.reachable) {
          this.options.logger.info(
            'The control plane is back; routing table in sync',
          );
        }
        this.reachable = true;
      } catch (error) {
        if (this.reachable) {
          this.options.logger.warn(
            `The control plane cannot be reached (${
              (error as Error)?.message
            }); serving the last routing table until it returns`,
          );
        }
        this.reachable = false;
      } finally {
        this.timer = setTimeout(poll, this.options.pollIntervalMs);
        this.timer.unref?.();
      }
    };
    void poll();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  send(raw: unknown, callback?: (error: Error | null) => void): boolean {
    const message = raw as WorkerMessage;
    const done = (error: Error | null) => callback?.(error);
    if (message.type === 'dataplane:call') {
      this.request('/serving/data-plane/calls', {
        method: 'POST',
        body: JSON.stringify({ method: message.method, args: message.args }),
      })
        .then(async res => {
          const body = (await res.json().catch(() => ({}))) as {
            value?: unknown;
            error?: { name?: string; message?: string };
          };
          this.emit(
            'message',
            res.ok
              ? {
                  type: 'dataplane:result',
                  id: message.id,
                  value: decodeCallValue(body.value),
                }
              : {
                  type: 'dataplane:result',
                  id: message.id,
                  error: {
                    name: body.error?.name ?? 'ServiceUnavailableError',
                    message:
                      body.error?.message ??
                      `The control plane answered ${res.status}`,
                  },
                },
          );
          done(null);
        })
        .catch(error => {
          this.emit('message', {
            type: 'dataplane:result',
            id: message.id,
            error: {
              name: 'ServiceUnavailableError',
              message: `The control plane cannot be reached: ${error?.message}`,
            },
          });
          done(null);
        });
      return true;
    }
    if (message.type === 'dataplane:events') {
      this.request('/serving/data-plane/events', {
        method: 'POST',
        body: JSON.stringify({
          events: message.events.map(jsonEvent),
          ...(message.rateLimited ? { rateLimited: message.rateLimited } : {}),
          dropped: message.dropped,
        }),
      }).then(
        res => done(res.ok ? null : new Error(`events refused: ${res.status}`)),
        error => done(error),
      );
      return true;
    }
    // listening, table-applied: nothing to tell a remote control plane.
    done(null);
    return true;
  }
}

/** An event as JSON can carry it: raw input bytes decoded into `inputs`. */
function jsonEvent(event: InferenceEvent): InferenceEvent {
  if (event.rawInputs === undefined) return event;
  const { rawInputs, ...rest } = event;
  return { ...rest, inputs: tensorsOfRaw(rawInputs) };
}

/**
 * `loopline-serving`'s settings from its environment: the control plane's
 * URL and token are required; numbers must be whole and in range, so a
 * typo fails at startup with the variable's name instead of serving on NaN.
 */
export function standaloneSettingsFromEnv(env: NodeJS.ProcessEnv): {
  channel: Omit<StandaloneOptions, 'logger'>;
  worker: DataPlaneWorkerOptions;
} {
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const number = (name: string, fallback: number, min = 0, max = Infinity) => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(
        `${name} must be a whole number from ${min}${
          max < Infinity ? ` to ${max}` : ''
        }, not '${raw}'`,
      );
    }
    return value;
  };
  const url = required('LOOPLINE_CONTROL_PLANE_URL').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new Error(
      `LOOPLINE_CONTROL_PLANE_URL must be an http(s) URL such as http://portal:7007/api/mlops, not '${url}'`,
    );
  }
  let jsonBodyLimitBytes: number;
  try {
    jsonBodyLimitBytes = parseByteSize(env.LOOPLINE_JSON_BODY_LIMIT ?? '1mb');
  } catch {
    throw new Error(
      `LOOPLINE_JSON_BODY_LIMIT must be a size such as 1mb or 512kb, not '${env.LOOPLINE_JSON_BODY_LIMIT}'`,
    );
  }
  const grpcPort = env.GRPC_PORT?.trim()
    ? number('GRPC_PORT', 0, 0, 65535)
    : undefined;
  return {
    channel: {
      controlPlaneUrl: url,
      token: required('LOOPLINE_DATA_PLANE_TOKEN'),
      pollIntervalMs: number('LOOPLINE_ROUTING_REFRESH_MS', 2000, 100),
    },
    worker: {
      port: number('PORT', 7008, 0, 65535),
      host: env.HOST?.trim() || '0.0.0.0',
      ...(grpcPort !== undefined ? { grpcPort } : {}),
      jsonBodyLimitBytes,
      intraOpNumThreads: number('LOOPLINE_INTRA_OP_THREADS', 1, 1),
      interOpNumThreads: number('LOOPLINE_INTER_OP_THREADS', 1, 1),
      maxLoadedModels: number('LOOPLINE_MAX_LOADED_MODELS', 16, 1),
      permissionCacheTtlMs: number('LOOPLINE_PERMISSION_CACHE_TTL_MS', 5000),
      credentialsCacheTtlMs: number('LOOPLINE_CREDENTIALS_CACHE_TTL_MS', 60000),
      logBufferSize: number('LOOPLINE_LOG_BUFFER_SIZE', 10000, 1),
      logBatchSize: 100,
      // With 500 tensor-less events (about 300 bytes each), a post stays
      // under the portal's default JSON body limit (1mb).
      logMessageSize: 600,
      servingEnvironment:
        env.LOOPLINE_SERVING_ENVIRONMENT?.trim() || 'production',
      environments: (env.LOOPLINE_ENVIRONMENTS ?? 'production,staging')
        .split(',')
        .map(e => e.trim())
        .filter(Boolean),
      abKeyHeader: env.LOOPLINE_AB_KEY_HEADER?.trim() || 'x-loopline-ab-key',
      workerId: 0,
      // Whether the backend limits anyone is its config's business: leases
      // for principals it does not limit are unbounded (one call a second).
      rateLimited: true,
    },
  };
}

/** `loopline-serving`: reads its settings from the environment and serves until stopped. */
export async function runStandaloneDataPlane(
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const settings = standaloneSettingsFromEnv(env);
  const logger = consoleLogger({ service: 'loopline-serving' });
  const channel = new HttpControlPlaneChannel({ ...settings.channel, logger });
  const options = settings.worker;
  channel.start();
  await runDataPlaneWorker(options, channel);
  logger.info(`loopline-serving listening on ${options.host}:${options.port}`);
}
