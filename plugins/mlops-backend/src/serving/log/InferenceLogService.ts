import { ServingStats } from '@loopline/mlops-common';
import { InferenceLogger } from './InferenceLogger';
import { InferenceLogStore } from './InferenceLogStore';
import { InferenceLogRecord, InferenceSource, KServeLogPart } from './types';

export interface InferenceLogServiceOptions {
  store: InferenceLogStore;
  logger: InferenceLogger;
  /** Identical stats queries within this many ms share one database read. Default 1000. */
  statsCacheMs?: number;
  clock?: () => number;
}

/**
 * The inference log's logic behind its routes (no HTTP): KServe's logged
 * halves into the log, ground truth, live stats and recent requests.
 */
export class InferenceLogService {
  private readonly store: InferenceLogStore;
  private readonly logger: InferenceLogger;
  private readonly statsCacheMs: number;
  private readonly clock: () => number;
  private readonly statsCache = new Map<
    string,
    { at: number; value: Promise<ServingStats> }
  >();

  constructor(options: InferenceLogServiceOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.statsCacheMs = options.statsCacheMs ?? 1000;
    this.clock = options.clock ?? Date.now;
  }

  /** Buffers one half of a KServe pair; it is paired and written in the background. */
  acceptKServePart(part: KServeLogPart): void {
    this.logger.recordKServe(part);
  }

  /**
   * Stores ground truth by request id (the last value reported wins). It is
   * accepted even when the request is not in the log (yet): the log is
   * written in the background and sampled, and the join happens on read.
   */
  async recordGroundTruth(
    items: Array<{ requestId: string; value: unknown }>,
  ): Promise<void> {
    await this.store.upsertGroundTruth(items, this.clock());
  }

  /** Live figures of the last `windowSeconds`. */
  async getStats(
    modelName: string,
    windowSeconds: number,
  ): Promise<ServingStats> {
    const now = this.clock();
    const key = `${windowSeconds}\u0000${modelName}`;
    const cached = this.statsCache.get(key);
    if (cached && now - cached.at < this.statsCacheMs) {
      return cached.value;
    }
    const value = this.store.stats({
      modelName,
      since: now - windowSeconds * 1000,
      until: now,
    });
    if (this.statsCacheMs > 0) {
      this.pruneCache(now);
      this.statsCache.set(key, { at: now, value });
      value.catch(() => this.statsCache.delete(key));
    }
    return value;
  }

  /** A model's logged requests, newest first, with ground truth. */
  listRecent(options: {
    modelName: string;
    since?: number;
    version?: number;
    source?: InferenceSource;
    limit: number;
  }): Promise<InferenceLogRecord[]> {
    return this.store.listRecent(options);
  }

  private pruneCache(now: number) {
    if (this.statsCache.size < 1000) {
      return;
    }
    for (const [key, entry] of this.statsCache) {
      if (now - entry.at >= this.statsCacheMs) {
        this.statsCache.delete(key);
      }
    }
  }
}
