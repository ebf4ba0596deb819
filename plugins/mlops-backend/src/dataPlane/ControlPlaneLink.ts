/**
 * A worker's side of its channel to the control plane: calls answered by the
 * backend (token verification, permission decisions, artifacts, catalog
 * features), the routing tables it pushes, and the inference log events the
 * worker ships back in batches.
 */
import { AuthenticationError, NotAllowedError } from '@backstage/errors';
import type { ServingFeature } from '@loopline/mlops-common';
import type {
  InferenceEvent,
  InferenceEventObserver,
} from '../serving/log/types';
import { RingBuffer } from '../serving/log/RingBuffer';
import {
  CallMethod,
  ControlPlaneCalls,
  ControlPlaneMessage,
  VerifiedToken,
  WorkerMessage,
} from './protocol';
import type { RoutingTable } from './routingTable';
import type { RateLease } from './rateLimits';

/** Both ends of an IPC channel look like this (process, cluster Worker, or a test pair). */
export interface Channel {
  send(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** Errors keep their name across the channel, so statuses survive (401, 403, 404, 503). */
function revive(error: { name: string; message: string }): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}

export class ControlPlaneLink implements ControlPlaneCalls {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >();
  private tableListener?: (table: RoutingTable) => void;

  constructor(private readonly channel: Channel) {
    channel.on('message', message => this.receive(message));
  }

  onTable(listener: (table: RoutingTable) => void): void {
    this.tableListener = listener;
  }

  post(message: WorkerMessage, callback?: (error: Error | null) => void) {
    return this.channel.send(message, callback);
  }

  private call<T>(method: CallMethod, args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.post({ type: 'dataplane:call', id, method, args }, error => {
        if (error) {
          this.pending.delete(id);
          reject(error);
        }
      });
    });
  }

  private receive(raw: unknown) {
    const message = raw as ControlPlaneMessage;
    if (message?.type === 'dataplane:result') {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(revive(message.error));
      else waiting.resolve(message.value);
    } else if (message?.type === 'dataplane:table') {
      this.tableListener?.(message.table);
    }
  }

  authenticate(token: string): Promise<VerifiedToken> {
    return this.call('authenticate', [token]);
  }

  authorize(token: string, entityRef: string): Promise<boolean> {
    return this.call('authorize', [token, entityRef]);
  }

  async readArtifact(name: string, version: number): Promise<Buffer> {
    const bytes = await this.call<Uint8Array>('readArtifact', [name, version]);
    return Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  featuresFor(request: {
    entityRef: string;
    datasetRef?: string;
  }): Promise<ServingFeature[] | undefined> {
    return this.call('featuresFor', [request]);
  }

  rateLease(principal: string): Promise<RateLease> {
    return this.call('rateLease', [principal]);
  }
}

/**
 * Tokens and permission decisions, cached in the worker so that a client's
 * steady stream of requests costs no round trip: a verified token is reused
 * for `credentialsTtlMs`, never past its expiry; an invoke decision per
 * (principal, model entity) for `permissionTtlMs`, and all decisions are
 * forgotten when a new routing table arrives. Failures are not cached.
 */
export class DataPlaneAuth {
  private readonly tokens = new Map<
    string,
    { verified: VerifiedToken; until: number }
  >();
  private readonly verifying = new Map<string, Promise<VerifiedToken>>();
  private readonly decisions = new Map<
    string,
    { allowed: boolean; until: number }
  >();
  private readonly clock: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly calls: Pick<
      ControlPlaneCalls,
      'authenticate' | 'authorize'
    >,
    private readonly options: {
      credentialsTtlMs: number;
      permissionTtlMs: number;
      maxEntries?: number;
      clock?: () => number;
    },
  ) {
    this.clock = options.clock ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10000;
  }

  /** The token of `Authorization: Bearer <token>`, else of `X-API-Key: <token>`. */
  static tokenOf(headers: {
    authorization?: string;
    'x-api-key'?: string | string[];
  }): string | undefined {
    const header = headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return match ? match[1] : undefined;
    }
    const key = headers['x-api-key'];
    return typeof key === 'string' && key.trim() !== ''
      ? key.trim()
      : undefined;
  }

  /** The token's principal, from the cache when it can be (synchronously). */
  authenticate(
    token: string | undefined,
  ): VerifiedToken | Promise<VerifiedToken> {
    if (!token) {
      return Promise.reject(new AuthenticationError('Missing credentials'));
    }
    const cached = this.tokens.get(token);
    const now = this.clock();
    if (cached && cached.until > now) return cached.verified;
    if (cached) this.tokens.delete(token);
    const running = this.verifying.get(token);
    if (running) return running;
    const verifying = this.calls.authenticate(token).then(
      verified => {
        this.verifying.delete(token);
        const until = Math.min(
          this.clock() + this.options.credentialsTtlMs,
          verified.expiresAt ?? Infinity,
        );
        if (until > this.clock()) {
          this.bound(this.tokens);
          this.tokens.set(token, { verified, until });
        }
        return verified;
      },
      error => {
        this.verifying.delete(token);
        throw error;
      },
    );
    this.verifying.set(token, verifying);
    return verifying;
  }

  /** Resolves when the principal may invoke the model entity; NotAllowedError (403) else. */
  async authorizeInvoke(
    token: string,
    verified: VerifiedToken,
    entityRef: string,
  ): Promise<void> {
    const key = `${verified.principal}\u0000${entityRef}`;
    const cached = this.decisions.get(key);
    let allowed: boolean;
    if (cached && cached.until > this.clock()) {
      allowed = cached.allowed;
    } else {
      allowed = await this.calls.authorize(token, entityRef);
      if (this.options.permissionTtlMs > 0) {
        this.bound(this.decisions);
        this.decisions.set(key, {
          allowed,
          until: this.clock() + this.options.permissionTtlMs,
        });
      }
    }
    if (!allowed) {
      throw new NotAllowedError(
        `You are not allowed to mlops.model.invoke on ${entityRef}`,
      );
    }
  }

  /** A new routing table (e.g. a model moved to another entity): decisions are asked again. */
  clearDecisions(): void {
    this.decisions.clear();
  }

  private bound(map: Map<string, unknown>) {
    while (map.size >= this.maxEntries) {
      map.delete(map.keys().next().value as string);
    }
  }
}

/** Most events in one message over a worker's IPC (the default `messageSize`). */
export const MAX_EVENTS_PER_MESSAGE = 5000;

/** An event without its tensors or body: what the metrics need. */
function withoutTensors(event: InferenceEvent): InferenceEvent {
  const {
    inputs: _inputs,
    requestJson: _requestJson,
    rawInputs: _rawInputs,
    outputs: _outputs,
    ...counts
  } = event;
  return counts;
}

/**
 * The worker's inference log observer: events wait in a bounded buffer and
 * go to the control plane in batches, one message at a time. When the
 * channel cannot keep up, the oldest lose their log record (counted, the
 * count travelling with the next batch) but not their place in the
 * metrics: they travel on without tensors, marked `logDropped`, up to ten
 * buffers' worth. A request never waits for the log.
 */
export class EventShipper implements InferenceEventObserver {
  private readonly buffer: RingBuffer<InferenceEvent>;
  /** Events whose log record was dropped, still to be counted by the metrics. */
  private unlogged: InferenceEvent[] = [];
  private dropped = 0;
  private rateLimited: Record<string, number> | undefined;
  private sending = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly link: Pick<ControlPlaneLink, 'post'>,
    private readonly options: {
      bufferSize: number;
      /** Most events with their tensors per message. Default 500. */
      batchSize?: number;
      /**
       * Most events per message, those travelling without their log record
       * included (the standalone link keeps its posts under the portal's
       * body limit with it). Default MAX_EVENTS_PER_MESSAGE.
       */
      messageSize?: number;
      /** How long an event may wait for its batch. Default 20 ms. */
      intervalMs?: number;
      /**
       * The inference log's sample rate (mlops.serving.log.sampleRate),
       * decided here: an event the log leaves out travels without its
       * tensors (the metrics need only its counts and latency). Default 1.
       */
      sampleRate?: number;
      /** Uniform in [0, 1); for tests. */
      random?: () => number;
    },
  ) {
    this.buffer = new RingBuffer(options.bufferSize);
    this.sampleRate = options.sampleRate ?? 1;
    this.random = options.random ?? Math.random;
  }

  private readonly sampleRate: number;
  private readonly random: () => number;

  observe(event: InferenceEvent): void {
    let shipped = event;
    if (this.sampleRate < 1 && event.status !== 'error') {
      if (this.random() < this.sampleRate) {
        shipped = { ...event, sampled: { kept: true, rate: this.sampleRate } };
      } else {
        shipped = {
          ...withoutTensors(event),
          sampled: { kept: false, rate: this.sampleRate },
        };
      }
    }
    const evicted = this.buffer.push(shipped);
    if (evicted !== undefined) {
      this.dropped++;
      if (this.unlogged.length < 10 * this.buffer.capacity) {
        this.unlogged.push({ ...withoutTensors(evicted), logDropped: true });
      }
    }
    if (!this.timer && !this.sending) {
      this.timer = setTimeout(() => this.send(), this.options.intervalMs ?? 20);
    }
  }

  /** A request refused by its rate limit: counted here, sent with the next batch. */
  countRateLimited(tier: string): void {
    this.rateLimited ??= {};
    this.rateLimited[tier] = (this.rateLimited[tier] ?? 0) + 1;
    if (!this.timer && !this.sending) {
      this.timer = setTimeout(() => this.send(), this.options.intervalMs ?? 20);
    }
  }

  /** Events waiting (for tests and shutdown). */
  get size(): number {
    return this.buffer.size + this.unlogged.length;
  }

  private send() {
    this.timer = undefined;
    if (
      this.sending ||
      (this.size === 0 && this.dropped === 0 && !this.rateLimited)
    ) {
      return;
    }
    // The unlogged first (they are older), with the next batch of the rest.
    const logged = this.buffer.shiftMany(this.options.batchSize ?? 500);
    const unlogged = this.unlogged.splice(
      0,
      Math.max(
        0,
        Math.min(
          this.options.messageSize ?? MAX_EVENTS_PER_MESSAGE,
          MAX_EVENTS_PER_MESSAGE,
        ) - logged.length,
      ),
    );
    const events = unlogged.length ? [...unlogged, ...logged] : logged;
    const dropped = this.dropped;
    const rateLimited = this.rateLimited;
    this.dropped = 0;
    this.rateLimited = undefined;
    this.sending = true;
    try {
      const message: WorkerMessage = {
        type: 'dataplane:events',
        events,
        dropped,
        ...(rateLimited ? { rateLimited } : {}),
      };
      this.link.post(message, error => {
        this.sending = false;
        // Not delivered (e.g. the control plane is down): counted as dropped.
        if (error) this.dropped += logged.length + dropped;
        if (this.size > 0 && !this.timer) {
          this.timer = setTimeout(() => this.send(), 0);
        }
      });
    } catch {
      // The channel is closed (the control plane is going away): counted as dropped.
      this.sending = false;
      this.dropped += logged.length + dropped;
    }
  }

  /** Sends what is buffered now (shutdown). */
  flush(): Promise<void> {
    return new Promise(resolve => {
      const tick = () => {
        if (this.size === 0 && !this.sending) {
          resolve();
          return;
        }
        if (!this.sending) this.send();
        setTimeout(tick, 5);
      };
      tick();
    });
  }
}
