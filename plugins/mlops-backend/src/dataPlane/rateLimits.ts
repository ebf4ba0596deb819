/**
 * Rate limits per principal on the data plane's inference routes: a token
 * bucket per principal (`user:<ref>` or `service:<subject>`) with the rate and
 * burst of its tier.
 *
 * The buckets live in the control plane (ControlPlaneEndpoint), so a
 * principal's budget is shared by every worker process and every standalone
 * data plane. A worker does not ask per request: it leases a slice of the
 * bucket (a tenth of the burst, at least 1) and spends it locally, so a
 * steady client costs one round trip per slice; a refusal is remembered
 * until the bucket refills (Retry-After), so a client past its limit costs
 * none. A slice unspent after `LEASE_TTL_MS` lapses, so a principal can
 * exceed its budget by at most one slice per worker, and never for long.
 * When the control plane cannot be reached, a data plane keeps serving (as
 * it keeps its last routing table) without limits until it can again.
 */
import type { RateLimitConfig } from '../serving/config';

export type { RateLimitConfig, RateLimitTier } from '../serving/config';

/** What the control plane grants a worker for one principal. */
export interface RateLease {
  /** Requests the worker may serve now (0: refused). */
  granted: number;
  /** With `granted: 0`: when the next request may pass, in ms. */
  retryAfterMs?: number;
  /** The principal's tier (the metric's label); absent: not limited. */
  tier?: string;
}

/** How long a worker keeps an unspent slice. */
export const LEASE_TTL_MS = 1000;

/** The control plane's buckets, one per limited principal. */
export class TokenBuckets {
  private readonly buckets = new Map<
    string,
    { tokens: number; at: number; tier: string }
  >();
  private readonly clock: () => number;

  constructor(
    private readonly config: RateLimitConfig,
    options: { clock?: () => number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  tierOf(principal: string): string | undefined {
    return this.config.principals[principal] ?? this.config.defaultTier;
  }

  /** Takes up to a slice (a tenth of the burst, at least 1) from the principal's bucket. */
  lease(principal: string): RateLease {
    const tierName = this.tierOf(principal);
    if (tierName === undefined) return { granted: Number.MAX_SAFE_INTEGER };
    const tier = this.config.tiers[tierName];
    const perMs = tier.perMinute / 60_000;
    const now = this.clock();
    let bucket = this.buckets.get(principal);
    if (!bucket || bucket.tier !== tierName) {
      bucket = { tokens: tier.burst, at: now, tier: tierName };
      this.buckets.set(principal, bucket);
    }
    bucket.tokens = Math.min(
      tier.burst,
      bucket.tokens + (now - bucket.at) * perMs,
    );
    bucket.at = now;
    const slice = Math.max(1, Math.floor(tier.burst / 10));
    const granted = Math.min(slice, Math.floor(bucket.tokens));
    if (granted < 1) {
      return {
        granted: 0,
        retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs),
        tier: tierName,
      };
    }
    bucket.tokens -= granted;
    return { granted, tier: tierName };
  }
}

/** 429: the principal is past its tier's rate. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number, readonly tier: string) {
    super(
      `Rate limit of tier '${tier}' exceeded; retry after ${retryAfterSeconds} s`,
    );
    this.name = 'RateLimitedError';
  }
}

/**
 * A worker's side: spends leased slices locally, asks the control plane for
 * the next slice only when one is spent, and remembers a refusal until its
 * Retry-After.
 */
export class WorkerRateLimiter {
  private readonly allowances = new Map<
    string,
    { tokens: number; until: number; deniedUntil: number; tier?: string }
  >();
  private readonly leasing = new Map<string, Promise<void>>();
  private readonly clock: () => number;

  constructor(
    private readonly lease: (principal: string) => Promise<RateLease>,
    private readonly onLimited: (tier: string) => void,
    options: { clock?: () => number; maxEntries?: number } = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Passes (synchronously, from a slice) or throws RateLimitedError (429). */
  take(principal: string): void | Promise<void> {
    const now = this.clock();
    const allowance = this.allowances.get(principal);
    if (allowance) {
      if (allowance.tokens > 0 && allowance.until > now) {
        allowance.tokens--;
        return undefined;
      }
      if (allowance.deniedUntil > now) {
        this.onLimited(allowance.tier ?? 'unknown');
        throw new RateLimitedError(
          Math.max(1, Math.ceil((allowance.deniedUntil - now) / 1000)),
          allowance.tier ?? 'unknown',
        );
      }
    }
    let running = this.leasing.get(principal);
    if (!running) {
      running = this.lease(principal).then(
        lease => {
          this.leasing.delete(principal);
          const at = this.clock();
          if (
            this.allowances.size >= 10000 &&
            !this.allowances.has(principal)
          ) {
            this.allowances.delete(this.allowances.keys().next().value!);
          }
          this.allowances.set(principal, {
            tokens: lease.granted,
            until: at + LEASE_TTL_MS,
            deniedUntil:
              lease.granted > 0 ? 0 : at + (lease.retryAfterMs ?? 1000),
            tier: lease.tier,
          });
        },
        () => {
          // The control plane cannot be reached: serving goes on (as with
          // the last routing table), unlimited until the next lease try.
          this.leasing.delete(principal);
          this.allowances.set(principal, {
            tokens: Number.MAX_SAFE_INTEGER,
            until: this.clock() + LEASE_TTL_MS,
            deniedUntil: 0,
          });
        },
      );
      this.leasing.set(principal, running);
    }
    // Once the lease is in, this request takes its token like the others.
    return running.then(() => this.take(principal));
  }
}
