/**
 * The control plane's side of the data plane: starts the worker processes
 * (Node's cluster: they share the data-plane port), restarts one that dies,
 * pushes the routing table to every worker whenever it changes, answers the
 * workers' calls (tokens, permission decisions, artifacts, features) and
 * hands their inference events to the log and the metrics, so the backend
 * stays the only writer.
 */
import cluster, { Worker } from 'node:cluster';
import path from 'node:path';
import {
  AuthService,
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { modelInvokePermission } from '@loopline/mlops-common';
import { Counter, Registry } from 'prom-client';
import {
  PermissionDecisionCache,
  principalKey,
} from '../serving/authorization';
import type { FeatureSchemaSource } from '../serving/features';
import type {
  InferenceEvent,
  InferenceEventObserver,
} from '../serving/log/types';
import { TtlCache } from '../lib/TtlCache';
import type { Channel } from './ControlPlaneLink';
import {
  ControlPlaneCalls,
  ControlPlaneMessage,
  DataPlaneWorkerOptions,
  isWorkerMessage,
  VerifiedToken,
  WorkerMessage,
} from './protocol';
import { buildRoutingTable, RoutingTable } from './routingTable';
import { RateLease, RateLimitConfig, TokenBuckets } from './rateLimits';

export interface ControlPlaneEndpointOptions {
  auth: Pick<AuthService, 'authenticate'>;
  permissions: PermissionsService;
  registry: Parameters<typeof buildRoutingTable>[0]['registry'] & {
    readArtifact(name: string, version: number): Promise<Buffer>;
  };
  rolloutStore?: Parameters<typeof buildRoutingTable>[0]['rolloutStore'];
  featureSource?: FeatureSchemaSource;
  /** The log and the metrics. */
  observers: InferenceEventObserver[];
  logger: LoggerService;
  permissionCacheTtlMs: number;
  credentialsCacheTtlMs: number;
  /** Where the data plane's own counters go (the metrics' registry). */
  metricsRegistry?: Registry;
  /** Rate limits per principal; absent: none. */
  rateLimits?: RateLimitConfig;
}

/**
 * Answers the workers: one instance for all of them, so the token and
 * decision caches here are shared by every worker.
 */
export class ControlPlaneEndpoint implements ControlPlaneCalls {
  private readonly credentials: TtlCache<BackstageCredentials>;
  private readonly decisions: PermissionDecisionCache;
  private readonly dropped?: Counter;
  private readonly limited?: Counter<'tier'>;
  private readonly buckets?: TokenBuckets;
  private table?: RoutingTable;
  private rebuilding?: Promise<{ table: RoutingTable; changed: boolean }>;

  constructor(private readonly options: ControlPlaneEndpointOptions) {
    this.credentials = new TtlCache({
      ttlMs: options.credentialsCacheTtlMs,
    });
    this.decisions = new PermissionDecisionCache({
      permissions: options.permissions,
      ttlMs: options.permissionCacheTtlMs,
    });
    if (options.metricsRegistry) {
      this.dropped = new Counter({
        name: 'loopline_dataplane_log_dropped_total',
        help: 'Inference events a data-plane worker dropped because its buffer to the control plane was full.',
        registers: [options.metricsRegistry],
      });
      this.limited = new Counter({
        name: 'loopline_dataplane_rate_limited_total',
        help: 'Data-plane inference requests refused with 429 because their principal was past its rate-limit tier, by tier.',
        labelNames: ['tier'],
        registers: [options.metricsRegistry],
      });
    }
    if (options.rateLimits) this.buckets = new TokenBuckets(options.rateLimits);
  }

  /** A slice of the principal's bucket, shared by every worker (unlimited without rate limits). */
  async rateLease(principal: string): Promise<RateLease> {
    if (typeof principal !== 'string')
      throw new Error('principal must be a string');
    return (
      this.buckets?.lease(principal) ?? { granted: Number.MAX_SAFE_INTEGER }
    );
  }

  private verify(token: string): Promise<BackstageCredentials> {
    return this.credentials
      .get(token, () => this.options.auth.authenticate(token))
      .then(credentials =>
        credentials.expiresAt && credentials.expiresAt.getTime() <= Date.now()
          ? this.options.auth.authenticate(token) // expired since: refused as usual
          : credentials,
      );
  }

  async authenticate(token: string): Promise<VerifiedToken> {
    const credentials = await this.verify(token);
    const expiresAt = credentials.expiresAt?.getTime();
    return {
      principal: principalKey(credentials),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  async authorize(token: string, entityRef: string): Promise<boolean> {
    return this.decisions.isAllowed(
      modelInvokePermission,
      entityRef,
      await this.verify(token),
    );
  }

  readArtifact(name: string, version: number): Promise<Buffer> {
    return this.options.registry.readArtifact(name, version);
  }

  async featuresFor(request: { entityRef: string; datasetRef?: string }) {
    return this.options.featureSource?.featuresFor(request);
  }

  /** The current routing table, rebuilt; `changed` when it differs from the last. */
  async refreshTable(): Promise<{ table: RoutingTable; changed: boolean }> {
    const table = await buildRoutingTable({
      registry: this.options.registry,
      rolloutStore: this.options.rolloutStore,
    });
    const changed = table.revision !== this.table?.revision;
    this.table = table;
    // A model may have moved to another entity, or a policy changed with it.
    if (changed) this.decisions.clear();
    return { table, changed };
  }

  get currentTable(): RoutingTable | undefined {
    return this.table;
  }

  /** A worker's inference events, to the log and the metrics; `dropped` counted. */
  observe(
    events: InferenceEvent[],
    dropped: number,
    rateLimited?: Record<string, number>,
  ): void {
    for (const [tier, count] of Object.entries(rateLimited ?? {})) {
      if (Number.isFinite(count) && count > 0) {
        this.limited?.inc({ tier: String(tier).slice(0, 64) }, count);
      }
    }
    for (const event of events) {
      for (const observer of this.options.observers) {
        try {
          observer.observe(event);
        } catch (error) {
          this.options.logger.warn(
            `An inference observer failed: ${(error as Error)?.message}`,
          );
        }
      }
    }
    if (dropped > 0) this.dropped?.inc(dropped);
  }

  /** The table, rebuilt when older than `maxAgeMs` (for data planes that poll). */
  async tableNotOlderThan(maxAgeMs: number): Promise<RoutingTable> {
    if (this.table && Date.now() - this.table.builtAt <= maxAgeMs) {
      return this.table;
    }
    this.rebuilding ??= this.refreshTable().finally(() => {
      this.rebuilding = undefined;
    });
    return (await this.rebuilding).table;
  }

  /** Serves one worker's channel. */
  attach(channel: Channel): void {
    channel.on('message', raw => {
      if (!isWorkerMessage(raw)) return; // e.g. the dev server's file watch messages
      void this.receive(raw, channel);
    });
  }

  private async receive(message: WorkerMessage, channel: Channel) {
    if (message.type === 'dataplane:events') {
      this.observe(message.events, message.dropped, message.rateLimited);
      return;
    }
    if (message.type !== 'dataplane:call') return;
    let reply: ControlPlaneMessage;
    try {
      const method = this[message.method] as (
        ...a: unknown[]
      ) => Promise<unknown>;
      if (
        ![
          'authenticate',
          'authorize',
          'readArtifact',
          'featuresFor',
          'rateLease',
        ].includes(message.method)
      ) {
        throw new Error(`Unknown call ${message.method}`);
      }
      const value = await method.apply(this, message.args);
      reply = { type: 'dataplane:result', id: message.id, value };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      reply = {
        type: 'dataplane:result',
        id: message.id,
        error: {
          name: typeof e?.name === 'string' ? e.name : 'Error',
          message: typeof e?.message === 'string' ? e.message : String(error),
        },
      };
    }
    try {
      channel.send(reply);
    } catch {
      // The worker is gone; its request died with it.
    }
  }
}

export interface DataPlaneSupervisorOptions {
  endpoint: ControlPlaneEndpoint;
  worker: Omit<DataPlaneWorkerOptions, 'workerId'>;
  workers: number;
  routingRefreshMs: number;
  logger: LoggerService;
  metricsRegistry?: Registry;
  /** Delay before a dead worker is started again. Default 1000 ms. */
  restartDelayMs?: number;
}

/** The worker script: this folder's worker module, as source in development, as built output in production. */
function workerScript(): { exec: string; execArgv: string[] } {
  const typescript = __filename.endsWith('.ts');
  const exec = path.join(__dirname, typescript ? 'worker.ts' : 'worker.cjs.js');
  if (!typescript) return { exec, execArgv: [] };
  const transform = require.resolve('@backstage/cli/config/nodeTransform.cjs');
  const inherited = process.execArgv.filter(a => !a.startsWith('--inspect'));
  const hasTransform = inherited.some(a => a.includes('nodeTransform'));
  return {
    exec,
    execArgv: hasTransform ? inherited : [...inherited, '--require', transform],
  };
}

export class DataPlaneSupervisor {
  private readonly workers = new Map<number, Worker>();
  private closing = false;
  private timer?: NodeJS.Timeout;
  private readonly restarts?: Counter;
  private refreshing?: Promise<void>;
  private port?: number;
  private grpcPort?: number;

  constructor(private readonly options: DataPlaneSupervisorOptions) {
    if (options.metricsRegistry) {
      this.restarts = new Counter({
        name: 'loopline_dataplane_worker_restarts_total',
        help: 'Data-plane workers started again after they died.',
        registers: [options.metricsRegistry],
      });
    }
  }

  /** Starts the workers and resolves once all listen; returns the ports. */
  async start(): Promise<{ port: number; grpcPort?: number }> {
    const { table } = await this.options.endpoint.refreshTable();
    const script = workerScript();
    // The workers accept their connections themselves: under round-robin
    // the backend's event loop hands each new connection over, so a busy
    // control plane would stall the data plane's new clients.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({
      exec: script.exec,
      execArgv: script.execArgv,
      serialization: 'advanced',
      silent: false,
    } as Parameters<typeof cluster.setupPrimary>[0]);
    const started: Promise<{ port: number; grpcPort?: number }>[] = [];
    for (let slot = 1; slot <= this.options.workers; slot++) {
      started.push(this.fork(slot, table));
    }
    const ports = await Promise.all(started);
    this.port = ports[0].port;
    this.grpcPort = ports[0].grpcPort;
    this.timer = setInterval(() => {
      void this.refresh();
    }, this.options.routingRefreshMs);
    this.timer.unref?.();
    this.options.logger.info(
      `Serving data plane listening on ${this.options.worker.host}:${
        this.port
      } (${this.options.workers} worker processes${
        this.grpcPort !== undefined ? `; gRPC on :${this.grpcPort}` : ''
      })`,
    );
    return { port: this.port, grpcPort: this.grpcPort };
  }

  /** Rebuilds the routing table now and pushes it if it changed (e.g. right after a deployment changed). */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const { table, changed } = await this.options.endpoint.refreshTable();
          if (changed) this.broadcast({ type: 'dataplane:table', table });
        } catch (error) {
          // The workers keep serving their last table.
          this.options.logger.warn(
            `Could not rebuild the data plane's routing table: ${
              (error as Error)?.message
            }`,
          );
        } finally {
          this.refreshing = undefined;
        }
      })();
    }
    return this.refreshing;
  }

  /** Process ids of the workers (for tests and diagnostics). */
  workerPids(): number[] {
    return [...this.workers.values()].map(w => w.process.pid!);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      [...this.workers.values()].map(
        worker =>
          new Promise<void>(resolve => {
            if (worker.isDead()) {
              resolve();
              return;
            }
            const force = setTimeout(
              () => worker.process.kill('SIGKILL'),
              5000,
            );
            worker.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    this.workers.clear();
  }

  private broadcast(message: ControlPlaneMessage) {
    for (const worker of this.workers.values()) {
      if (!worker.isDead() && worker.isConnected()) {
        try {
          worker.send(message);
        } catch {
          // Dead meanwhile; it gets the table when it is started again.
        }
      }
    }
  }

  private fork(
    slot: number,
    table?: RoutingTable,
  ): Promise<{ port: number; grpcPort?: number }> {
    const options: DataPlaneWorkerOptions = {
      ...this.options.worker,
      // Restarted workers listen on the port the first ones got (port 0 in tests).
      port: this.port ?? this.options.worker.port,
      ...(this.options.worker.grpcPort !== undefined
        ? { grpcPort: this.grpcPort ?? this.options.worker.grpcPort }
        : {}),
      workerId: slot,
    };
    const env = { ...process.env };
    delete env.BACKSTAGE_CLI_CHANNEL; // the dev server's IPC is the backend's, not the workers'
    const worker = cluster.fork({
      ...env,
      LOOPLINE_DATA_PLANE_WORKER: JSON.stringify(options),
    });
    this.workers.set(slot, worker);
    this.options.endpoint.attach(worker);
    const initial = table ?? this.options.endpoint.currentTable;
    if (initial) worker.send({ type: 'dataplane:table', table: initial });
    const listening = new Promise<{ port: number; grpcPort?: number }>(
      (resolve, reject) => {
        let failure: string | undefined;
        const onMessage = (message: unknown) => {
          const m = message as WorkerMessage;
          if (m?.type === 'dataplane:listening') {
            worker.off('message', onMessage);
            resolve({ port: m.port, grpcPort: m.grpcPort });
          } else if (m?.type === 'dataplane:failed') {
            failure = m.message;
          }
        };
        worker.on('message', onMessage);
        worker.once('exit', code =>
          reject(
            new Error(
              `Data-plane worker ${slot} exited with ${code} before listening${
                failure ? ` (${failure})` : ''
              }`,
            ),
          ),
        );
      },
    );
    worker.once('exit', (code, signal) => {
      if (this.workers.get(slot) === worker) this.workers.delete(slot);
      // Before all first listened, start() fails instead (no restart loop on a taken port).
      if (this.closing || this.port === undefined) return;
      this.options.logger.warn(
        `Data-plane worker ${slot} (pid ${worker.process.pid}) died (${
          signal ?? `code ${code}`
        }); starting it again`,
      );
      this.restarts?.inc();
      setTimeout(() => {
        if (this.closing) return;
        this.fork(slot).catch(error =>
          this.options.logger.error(
            `Data-plane worker ${slot} could not be started again`,
            error,
          ),
        );
      }, this.options.restartDelayMs ?? 1000).unref?.();
    });
    return listening;
  }
}
