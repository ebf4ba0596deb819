import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import type {
  InferenceEvent,
  InferenceEventObserver,
  InferenceLogDropReason,
  InferenceLogMetrics,
} from './log/types';

/** Request duration buckets in seconds, 1 ms .. 5 s. */
export const INFERENCE_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** The `model` label of requests beyond `maxModels` distinct names (e.g. a scan of unknown names). */
export const OTHER_MODELS_LABEL = '__other__';
/** The `version` label of a request that failed before a version was chosen. */
export const NO_VERSION_LABEL = 'none';

export interface ServingMetricsOptions {
  /** Also export Node's default process metrics (on this registry only). Default false. */
  collectDefaultMetrics?: boolean;
  /** Distinct `model` label values of unresolved requests at most; beyond, `__other__`. Default 1000. */
  maxModels?: number;
  /** Histogram buckets in seconds. */
  buckets?: number[];
}

/**
 * Prometheus metrics of serving, on a registry of their own (never prom-client's
 * global one), so that two plugin instances in one process do not clash:
 * - `loopline_inference_requests_total{model,version,route,status}`
 * - `loopline_inference_request_duration_seconds{model,version,route}`
 * - `loopline_inference_log_dropped_total{reason}`, `loopline_inference_log_written_total`,
 *   `loopline_inference_log_write_failures_total`, `loopline_inference_log_buffered`
 */
export class ServingMetrics
  implements InferenceEventObserver, InferenceLogMetrics
{
  readonly registry: Registry;
  private readonly requests: Counter<'model' | 'version' | 'route' | 'status'>;
  private readonly duration: Histogram<'model' | 'version' | 'route'>;
  private readonly dropped: Counter<'reason'>;
  private readonly written: Counter;
  private readonly writeFailures: Counter;
  private readonly maxModels: number;
  private readonly models = new Set<string>();
  private bufferReaders: Array<() => number> = [];

  constructor(options: ServingMetricsOptions = {}) {
    this.registry = new Registry();
    this.maxModels = options.maxModels ?? 1000;
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'loopline_inference_requests_total',
      help: 'Inference requests served, by model, version, route and status (ok or error).',
      labelNames: ['model', 'version', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'loopline_inference_request_duration_seconds',
      help: 'Inference request duration in seconds, by model, version and route.',
      labelNames: ['model', 'version', 'route'],
      buckets: options.buckets ?? INFERENCE_DURATION_BUCKETS,
      registers,
    });
    this.dropped = new Counter({
      name: 'loopline_inference_log_dropped_total',
      help: 'Inference log events that never reached the database, by reason (buffer_full, write_failed, closed).',
      labelNames: ['reason'],
      registers,
    });
    this.written = new Counter({
      name: 'loopline_inference_log_written_total',
      help: 'Inference log events written to the database.',
      registers,
    });
    this.writeFailures = new Counter({
      name: 'loopline_inference_log_write_failures_total',
      help: 'Failed batch writes of the inference log.',
      registers,
    });
    const readers = () => this.bufferReaders;
    // eslint-disable-next-line no-new
    new Gauge({
      name: 'loopline_inference_log_buffered',
      help: 'Inference log events waiting in memory for the next write.',
      registers,
      collect() {
        this.set(readers().reduce((sum, read) => sum + safeRead(read), 0));
      },
    });
    // Every reason appears from the start, so rate() sees its first increment.
    for (const reason of ['buffer_full', 'write_failed', 'closed']) {
      this.dropped.inc({ reason }, 0);
    }
    if (options.collectDefaultMetrics) {
      collectDefaultMetrics({ register: this.registry });
    }
  }

  /** Counts one request and its duration. Never throws. */
  observe(event: InferenceEvent): void {
    try {
      const model = this.modelLabel(
        event.modelName,
        event.version !== undefined && event.version !== null,
      );
      const version =
        event.version === undefined || event.version === null
          ? NO_VERSION_LABEL
          : String(event.version);
      const route = String(event.route ?? 'unknown').slice(0, 64);
      this.requests.inc({
        model,
        version,
        route,
        status: event.status === 'error' ? 'error' : 'ok',
      });
      if (Number.isFinite(event.latencyMs) && event.latencyMs >= 0) {
        this.duration.observe(
          { model, version, route },
          event.latencyMs / 1000,
        );
      }
    } catch {
      // Metrics must never fail a request.
    }
  }

  logDropped(count: number, reason: InferenceLogDropReason): void {
    this.dropped.inc({ reason }, count);
  }

  logWritten(count: number): void {
    this.written.inc(count);
  }

  logFlushFailed(): void {
    this.writeFailures.inc();
  }

  watchLogBuffer(read: () => number): void {
    this.bufferReaders.push(read);
  }

  /** The Prometheus text exposition of this registry. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of metricsText(). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * A name that resolved to a version is a registered model and always gets
   * its own label; other names (unknown models) only while fewer than
   * `maxModels` names were seen, so a scan of random names cannot grow the
   * registry without bound.
   */
  private modelLabel(name: unknown, resolved: boolean): string {
    const model = String(name ?? '').slice(0, 256);
    if (this.models.has(model)) {
      return model;
    }
    if (!resolved && this.models.size >= this.maxModels) {
      return OTHER_MODELS_LABEL;
    }
    this.models.add(model);
    return model;
  }
}

function safeRead(read: () => number): number {
  try {
    const value = read();
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}
