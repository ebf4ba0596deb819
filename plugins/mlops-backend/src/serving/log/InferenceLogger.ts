import { LoggerService } from '@backstage/backend-plugin-api';
import { jsonMemberText } from '../../lib/jsonMember';
import { unitHash } from '../../lib/hash';
import { RingBuffer } from './RingBuffer';
import {
  InferenceEvent,
  InferenceEventObserver,
  InferenceLogBatch,
  InferenceLogDropReason,
  InferenceLogMetrics,
  InferenceLogWriter,
  KServeLogPart,
  KServeLogPartRow,
  NewInferenceLogRow,
  RawInputTensor,
} from './types';
import { tensorsOfRaw } from '../rawTensor';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Defaults of InferenceLoggerOptions. */
export const INFERENCE_LOG_DEFAULTS = {
  sampleRate: 1,
  flushIntervalMs: 1000,
  maxBatchSize: 500,
  maxBufferSize: 10_000,
  retentionDays: 30,
  maxPayloadChars: 256 * 1024,
  maxWriteAttempts: 3,
} as const;

/** Column sizes of serving_inference_log: longer values are cut, never rejected. */
const MAX_ID = 256;
const MAX_NAME = 256;
const MAX_ROUTE = 64;
const MAX_ENDPOINT = 64;
const MAX_ERROR = 4096;
/** At most one warning per minute while writes keep failing. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/** Timers, injectable so tests decide when a background flush runs. */
export interface InferenceLoggerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface InferenceLoggerOptions {
  store: InferenceLogWriter;
  logger?: LoggerService;
  metrics?: InferenceLogMetrics;
  /** Share (0..1) of successful requests kept; errors are always kept. Default 1. */
  sampleRate?: number;
  /** A background flush runs at most this long after the first buffered event. Default 1000. */
  flushIntervalMs?: number;
  /** Events per database write; a full batch is flushed at once. Default 500. */
  maxBatchSize?: number;
  /** Events held in memory at most; beyond it the oldest are dropped and counted. Default 10000. */
  maxBufferSize?: number;
  /** purge() deletes rows older than this. Default 30. */
  retentionDays?: number;
  /** A serialized inputs/outputs longer than this is stored as a truncation marker. Default 256 KiB. */
  maxPayloadChars?: number;
  /** Writes of a batch before its events are dropped and counted. Default 3. */
  maxWriteAttempts?: number;
  /** ms since the epoch; for tests. */
  clock?: () => number;
  /** Uniform in [0, 1); for tests (seeded). */
  random?: () => number;
  timers?: InferenceLoggerTimers;
}

/** The logger's own counters since it started. */
export interface InferenceLoggerCounters {
  buffered: number;
  /** Events written to the database. */
  written: number;
  /** Successful requests left out by sampling. */
  sampledOut: number;
  dropped: Record<InferenceLogDropReason, number>;
  /** Database writes that failed. */
  writeFailures: number;
}

type Entry =
  | {
      kind: 'event';
      event: InferenceEvent;
      sampleRate: number;
      attempts: number;
    }
  | {
      kind: 'kserve';
      part: KServeLogPart;
      sampleRate: number;
      attempts: number;
    };

const nodeTimers: InferenceLoggerTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: handle => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The inference log's write side. `record` (or `observe`) is synchronous and
 * O(1): it samples and pushes onto a bounded ring buffer, never throws and
 * never waits on the database. A background flush writes the buffer in
 * batches, one write at a time, every `flushIntervalMs` or as soon as a full
 * batch is buffered. A failed write is logged, counted and retried up to
 * `maxWriteAttempts` times; when the database is slower than the traffic, the
 * oldest events are dropped and counted instead of growing memory.
 */
export class InferenceLogger implements InferenceEventObserver {
  readonly sampleRate: number;
  readonly flushIntervalMs: number;
  readonly maxBatchSize: number;
  readonly maxBufferSize: number;
  readonly retentionDays: number;
  private readonly maxPayloadChars: number;
  private readonly maxWriteAttempts: number;
  private readonly store: InferenceLogWriter;
  private readonly logger?: LoggerService;
  private readonly metrics?: InferenceLogMetrics;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly timers: InferenceLoggerTimers;
  private readonly buffer: RingBuffer<Entry>;

  private timer: unknown = undefined;
  private timerDelay = 0;
  private writing: Promise<unknown> = Promise.resolve();
  private writeInProgress = false;
  private closed = false;
  private failingSince?: number;
  private lastFailureLog = 0;
  private readonly counters = {
    written: 0,
    sampledOut: 0,
    writeFailures: 0,
    dropped: { buffer_full: 0, write_failed: 0, closed: 0 },
  };

  constructor(options: InferenceLoggerOptions) {
    const d = INFERENCE_LOG_DEFAULTS;
    this.sampleRate = checkNumber(
      'sampleRate',
      options.sampleRate,
      d.sampleRate,
      0,
      1,
    );
    this.flushIntervalMs = checkNumber(
      'flushIntervalMs',
      options.flushIntervalMs,
      d.flushIntervalMs,
      0,
    );
    this.maxBatchSize = checkInteger(
      'maxBatchSize',
      options.maxBatchSize,
      d.maxBatchSize,
      1,
    );
    this.maxBufferSize = checkInteger(
      'maxBufferSize',
      options.maxBufferSize,
      d.maxBufferSize,
      1,
    );
    this.retentionDays = checkNumber(
      'retentionDays',
      options.retentionDays,
      d.retentionDays,
      Number.MIN_VALUE,
    );
    this.maxPayloadChars = checkInteger(
      'maxPayloadChars',
      options.maxPayloadChars,
      d.maxPayloadChars,
      16,
    );
    this.maxWriteAttempts = checkInteger(
      'maxWriteAttempts',
      options.maxWriteAttempts,
      d.maxWriteAttempts,
      1,
    );
    this.store = options.store;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? nodeTimers;
    this.buffer = new RingBuffer(this.maxBufferSize);
    this.metrics?.watchLogBuffer(() => this.buffer.size);
  }

  /** Records one inference request of the embedded server. Never throws. */
  record(event: InferenceEvent): void {
    try {
      // Counted as dropped where it was served (loopline_dataplane_log_dropped_total).
      if (event.logDropped) return;
      if (this.refuseWhenClosed()) {
        return;
      }
      const isError = event.status === 'error';
      const sampled = event.sampled;
      if (
        !isError &&
        (sampled ? !sampled.kept : !(this.random() < this.sampleRate))
      ) {
        this.counters.sampledOut += 1;
        return;
      }
      this.enqueue({
        kind: 'event',
        event,
        sampleRate: isError ? 1 : sampled?.rate ?? this.sampleRate,
        attempts: 0,
      });
    } catch {
      // Recording must never fail a request.
    }
  }

  /** InferenceEventObserver: the same as record. */
  observe(event: InferenceEvent): void {
    this.record(event);
  }

  /**
   * Records one half of a KServe request/response pair. Sampling is decided
   * by the request id, so both halves of a pair are kept or left out
   * together; error responses are always kept. Never throws.
   */
  recordKServe(part: KServeLogPart): void {
    try {
      if (this.refuseWhenClosed()) {
        return;
      }
      const isError = part.error !== undefined;
      if (
        !isError &&
        !(
          unitHash(`${part.modelName}\u0000${part.requestId}`) < this.sampleRate
        )
      ) {
        this.counters.sampledOut += 1;
        return;
      }
      this.enqueue({
        kind: 'kserve',
        part,
        sampleRate: isError ? 1 : this.sampleRate,
        attempts: 0,
      });
    } catch {
      // Recording must never fail a request.
    }
  }

  /** Counters since start, for tests and diagnostics. */
  getCounters(): InferenceLoggerCounters {
    return {
      buffered: this.buffer.size,
      written: this.counters.written,
      sampledOut: this.counters.sampledOut,
      writeFailures: this.counters.writeFailures,
      dropped: { ...this.counters.dropped },
    };
  }

  /**
   * Writes everything buffered now (after any write in progress). Never
   * rejects: failures are logged and counted, and failed events stay
   * buffered for a later attempt until `maxWriteAttempts`.
   */
  async flush(): Promise<void> {
    this.cancelTimer();
    await this.exclusive(async () => {
      const batches = Math.ceil(this.buffer.size / this.maxBatchSize);
      // Each failed event is retried at most maxWriteAttempts times, so this ends.
      let budget = batches * this.maxWriteAttempts + 1;
      while (this.buffer.size > 0 && budget-- > 0) {
        await this.writeOneBatch();
      }
    });
    this.scheduleAfterWrite(true);
  }

  /** Resolves once no write is running or queued (it starts none). */
  async whenIdle(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.writing;
      await current;
    } while (current !== this.writing);
  }

  /** Stops the timer and flushes; later events are dropped (counted as `closed`). */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    await this.flush();
  }

  /** Deletes log rows and ground truth older than `retentionDays`; returns the log rows deleted. */
  async purge(): Promise<number> {
    const cutoff = this.clock() - this.retentionDays * DAY_MS;
    const deleted = await this.store.deleteOlderThan(cutoff);
    if (deleted > 0) {
      this.logger?.info(
        `Inference log retention: deleted ${deleted} rows older than ${this.retentionDays} days`,
      );
    }
    return deleted;
  }

  private refuseWhenClosed(): boolean {
    if (this.closed) {
      this.drop(1, 'closed');
      return true;
    }
    return false;
  }

  private enqueue(entry: Entry) {
    if (this.buffer.push(entry) !== undefined) {
      this.drop(1, 'buffer_full');
    }
    if (!this.writeInProgress) {
      this.schedule(
        this.buffer.size >= this.maxBatchSize ? 0 : this.flushIntervalMs,
      );
    }
  }

  private drop(count: number, reason: InferenceLogDropReason) {
    if (count <= 0) {
      return;
    }
    this.counters.dropped[reason] += count;
    try {
      this.metrics?.logDropped(count, reason);
    } catch {
      // Metrics must not break logging.
    }
  }

  /** Arms the timer unless one fires at least as soon. */
  private schedule(delay: number) {
    if (this.closed && delay > 0) {
      return;
    }
    if (this.timer !== undefined) {
      if (this.timerDelay <= delay) {
        return;
      }
      this.cancelTimer();
    }
    this.timerDelay = delay;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.backgroundFlush();
    }, delay);
  }

  private cancelTimer() {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async backgroundFlush(): Promise<void> {
    let ok = true;
    await this.exclusive(async () => {
      // What is buffered now, not what keeps arriving, so a tick ends.
      let batches = Math.ceil(this.buffer.size / this.maxBatchSize);
      while (ok && batches-- > 0 && this.buffer.size > 0) {
        ok = await this.writeOneBatch();
      }
    });
    this.scheduleAfterWrite(ok);
  }

  private scheduleAfterWrite(ok: boolean) {
    if (this.buffer.size === 0 || (this.closed && !ok)) {
      return;
    }
    if (!ok) {
      // Back off while the database fails: up to 30 intervals.
      const failures = Math.min(this.counters.writeFailures, 5);
      this.schedule(
        Math.min(
          this.flushIntervalMs * 2 ** failures,
          this.flushIntervalMs * 30,
        ),
      );
      return;
    }
    this.schedule(
      this.buffer.size >= this.maxBatchSize ? 0 : this.flushIntervalMs,
    );
  }

  /** Runs `fn` after the write in progress: one database write at a time. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.writing.then(async () => {
      this.writeInProgress = true;
      try {
        await fn();
      } finally {
        this.writeInProgress = false;
      }
    });
    this.writing = run.catch(() => undefined);
    return run.catch(() => undefined);
  }

  /** Writes the oldest batch; on failure puts it back (or drops what ran out of attempts). */
  private async writeOneBatch(): Promise<boolean> {
    const entries = this.buffer.shiftMany(this.maxBatchSize);
    if (entries.length === 0) {
      return true;
    }
    try {
      await this.store.writeBatch(this.toBatch(entries));
      this.counters.written += entries.length;
      try {
        this.metrics?.logWritten(entries.length);
      } catch {
        // ignore
      }
      if (this.failingSince !== undefined) {
        this.logger?.info(
          `Inference log writes recovered after ${
            this.clock() - this.failingSince
          } ms`,
        );
        this.failingSince = undefined;
      }
      return true;
    } catch (error) {
      this.counters.writeFailures += 1;
      try {
        this.metrics?.logFlushFailed();
      } catch {
        // ignore
      }
      const retry: Entry[] = [];
      for (const entry of entries) {
        entry.attempts += 1;
        if (entry.attempts < this.maxWriteAttempts) {
          retry.push(entry);
        }
      }
      this.drop(entries.length - retry.length, 'write_failed');
      this.drop(this.buffer.unshiftMany(retry).length, 'buffer_full');
      this.logFailure(error);
      return false;
    }
  }

  private logFailure(error: unknown) {
    const now = this.clock();
    if (
      this.failingSince === undefined ||
      now - this.lastFailureLog >= FAILURE_LOG_INTERVAL_MS
    ) {
      this.failingSince ??= now;
      this.lastFailureLog = now;
      const { dropped } = this.counters;
      this.logger?.warn(
        `Could not write the inference log (${this.counters.writeFailures} failed writes, ` +
          `${
            dropped.write_failed + dropped.buffer_full
          } events dropped so far): ${
            (error as Error)?.message ?? String(error)
          }`,
      );
    }
  }

  /** Serializes a batch: events to rows, KServe halves paired within the batch where possible. */
  private toBatch(entries: Entry[]): InferenceLogBatch {
    const rows: NewInferenceLogRow[] = [];
    const halves = new Map<
      string,
      {
        request?: Entry & { kind: 'kserve' };
        response?: Entry & { kind: 'kserve' };
      }
    >();
    for (const entry of entries) {
      if (entry.kind === 'event') {
        rows.push(this.eventRow(entry.event, entry.sampleRate));
        continue;
      }
      const key = `${entry.part.modelName}\u0000${entry.part.requestId}`;
      const pair = halves.get(key) ?? {};
      if (pair[entry.part.kind] === undefined) {
        pair[entry.part.kind] = entry; // a redelivered half in the same batch is ignored
      }
      halves.set(key, pair);
    }
    const kserveParts: KServeLogPartRow[] = [];
    for (const { request, response } of halves.values()) {
      if (request && response) {
        rows.push(this.pairRow(request, response));
      } else {
        const half = (request ?? response)!;
        kserveParts.push(this.partRow(half.part, half.sampleRate));
      }
    }
    return { rows, kserveParts };
  }

  private eventRow(
    event: InferenceEvent,
    sampleRate: number,
  ): NewInferenceLogRow {
    return {
      requestId: cut(event.requestId, MAX_ID) || 'unknown',
      modelName: cut(event.modelName, MAX_NAME) || 'unknown',
      version: toVersion(event.version),
      route: cut(event.route, MAX_ROUTE) || 'unknown',
      source: event.source === 'kserve' ? 'kserve' : 'embedded',
      endpoint: optionalCut(event.endpoint, MAX_ENDPOINT),
      status: event.status === 'error' ? 'error' : 'ok',
      httpStatus: toHttpStatus(event.httpStatus),
      latencyMs: toLatency(event.latencyMs),
      sampleRate,
      inputs: this.inputsOf(event),
      outputs: this.serialize(event.outputs),
      error: optionalCut(event.error, MAX_ERROR),
      createdAt: toTimestamp(event.timestamp, this.clock),
    };
  }

  private pairRow(
    request: Entry & { kind: 'kserve' },
    response: Entry & { kind: 'kserve' },
  ): NewInferenceLogRow {
    const req = request.part;
    const res = response.part;
    const start = toTimestamp(req.timestamp, this.clock);
    const end = toTimestamp(res.timestamp, this.clock);
    return {
      requestId: cut(req.requestId, MAX_ID),
      modelName: cut(req.modelName, MAX_NAME),
      version: toVersion(res.version),
      route: cut(req.component ?? res.component ?? 'predictor', MAX_ROUTE),
      source: 'kserve',
      endpoint: optionalCut(req.endpoint ?? res.endpoint, MAX_ENDPOINT),
      status: res.error !== undefined ? 'error' : 'ok',
      latencyMs: Math.max(0, end - start),
      sampleRate: res.error !== undefined ? 1 : request.sampleRate,
      inputs: this.serialize(req.payload) ?? 'null',
      outputs: this.serialize(res.payload) ?? 'null',
      error: optionalCut(res.error, MAX_ERROR),
      createdAt: start,
    };
  }

  private partRow(part: KServeLogPart, sampleRate: number): KServeLogPartRow {
    return {
      kind: part.kind,
      requestId: cut(part.requestId, MAX_ID),
      modelName: cut(part.modelName, MAX_NAME),
      route: cut(part.component ?? 'predictor', MAX_ROUTE),
      endpoint: optionalCut(part.endpoint, MAX_ENDPOINT),
      timestamp: toTimestamp(part.timestamp, this.clock),
      sampleRate,
      payload: this.serialize(part.payload) ?? 'null',
      version: toVersion(part.version),
      error: optionalCut(part.error, MAX_ERROR),
    };
  }

  /** The `inputs` member of an OIP request's JSON body, as sent (see InferenceEvent.requestJson). */
  private inputsOfBody(body: string): string | undefined {
    const inputs = jsonMemberText(body, 'inputs');
    if (inputs === undefined) return undefined;
    return inputs.length > this.maxPayloadChars
      ? JSON.stringify({ truncated: true, length: inputs.length })
      : inputs;
  }

  /** The event's inputs as JSON, from whichever form it carries them in. */
  private inputsOf(event: InferenceEvent): string | undefined {
    if (event.inputs !== undefined) return this.serialize(event.inputs);
    if (event.requestJson !== undefined) {
      return this.inputsOfBody(event.requestJson);
    }
    if (event.rawInputs !== undefined) {
      return this.serializeRaw(event.rawInputs);
    }
    return undefined;
  }

  /** Raw input tensors as the JSON of the tensors they stand for. */
  private serializeRaw(tensors: RawInputTensor[]): string | undefined {
    let decoded: unknown;
    try {
      decoded = tensorsOfRaw(tensors);
    } catch (error) {
      return unserializable(error);
    }
    return this.serialize(decoded);
  }

  /** JSON text of a payload; a marker when it is too large or cannot be serialized. */
  private serialize(value: unknown): string | undefined {
    if (value === undefined) {
      return undefined;
    }
    let text: string | undefined;
    try {
      // Without a replacer first: calling one per value costs more than
      // the rest of the write; only a BigInt (INT64 outputs) needs it.
      try {
        text = JSON.stringify(value);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        text = JSON.stringify(value, (_key, v) =>
          typeof v === 'bigint' ? v.toString() : v,
        );
      }
    } catch (error) {
      return unserializable(error);
    }
    if (text === undefined) {
      return undefined;
    }
    if (text.length > this.maxPayloadChars) {
      return JSON.stringify({ truncated: true, length: text.length });
    }
    return text;
  }
}

/** The marker stored in place of a payload that could not be serialized. */
function unserializable(error: unknown): string {
  return JSON.stringify({
    unserializable: true,
    reason: String((error as Error)?.message ?? error).slice(0, 200),
  });
}

function checkNumber(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new Error(
      `InferenceLogger option ${name} must be a number in [${min}, ${max}], got ${value}`,
    );
  }
  return v;
}

function checkInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  const v = checkNumber(name, value, fallback, min);
  if (!Number.isInteger(v)) {
    throw new Error(
      `InferenceLogger option ${name} must be an integer, got ${value}`,
    );
  }
  return v;
}

/** PostgreSQL rejects NUL in text; varchar columns reject longer values. */
function cut(value: unknown, max: number): string {
  const text = typeof value === 'string' ? value : String(value ?? '');
  // eslint-disable-next-line no-control-regex
  const clean = text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
  return clean.length > max ? clean.slice(0, max) : clean;
}

function optionalCut(value: unknown, max: number): string | undefined {
  return value === undefined || value === null ? undefined : cut(value, max);
}

function toVersion(value: unknown): number | undefined {
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= 2_147_483_647
    ? value
    : undefined;
}

function toHttpStatus(value: unknown): number | undefined {
  return typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 100 &&
    value <= 599
    ? value
    : undefined;
}

function toLatency(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value
    : undefined;
}

function toTimestamp(value: unknown, clock: () => number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Math.round(value)
    : clock();
}
