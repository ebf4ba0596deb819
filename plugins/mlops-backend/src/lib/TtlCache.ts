/**
 * A small in-memory cache for the serving hot path: values live `ttlMs`
 * milliseconds, concurrent lookups of the same key share one promise, a
 * failed lookup is not kept (unless `cacheError` says so, e.g. for
 * NotFoundError, so that a flood of requests for an unknown name does not
 * become a flood of database queries), and the number of entries is bounded
 * (the oldest entries go first).
 */
export interface TtlCacheOptions {
  /** How long a value (or a cached error) is kept. */
  ttlMs: number;
  /** Most entries kept; the oldest are dropped beyond it. Default 10000. */
  maxEntries?: number;
  /** Which errors to keep like values, for `ttlMs`. Default: none. */
  cacheError?: (error: unknown) => boolean;
  /** Milliseconds; for tests. */
  clock?: () => number;
}

interface Entry<V> {
  promise: Promise<V>;
  /** When the entry stops being valid; Infinity while the lookup runs. */
  expiresAt: number;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly cacheError: (error: unknown) => boolean;
  private readonly clock: () => number;

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 10000;
    this.cacheError = options.cacheError ?? (() => false);
    this.clock = options.clock ?? Date.now;
  }

  /** The cached value of `key`, or the result of `load()` (shared by concurrent callers). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.clock()) {
      return entry.promise;
    }
    if (entry) {
      this.entries.delete(key);
    }
    if (this.ttlMs <= 0) {
      return load();
    }
    const created: Entry<V> = {
      promise: Promise.resolve().then(load),
      expiresAt: Number.POSITIVE_INFINITY,
    };
    this.entries.set(key, created);
    this.evictOverflow();
    created.promise.then(
      () => {
        created.expiresAt = this.clock() + this.ttlMs;
      },
      error => {
        if (this.cacheError(error)) {
          created.expiresAt = this.clock() + this.ttlMs;
        } else if (this.entries.get(key) === created) {
          this.entries.delete(key);
        }
      },
    );
    return created.promise;
  }

  /** Forgets one key, or everything. */
  invalidate(key?: string): void {
    if (key === undefined) {
      this.entries.clear();
    } else {
      this.entries.delete(key);
    }
  }

  /** Forgets the keys `predicate` accepts. */
  invalidateWhere(predicate: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) {
      if (predicate(key)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOverflow() {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
