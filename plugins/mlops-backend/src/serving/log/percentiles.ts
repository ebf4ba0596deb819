/**
 * Percentiles by linear interpolation between closest ranks: the definition of
 * numpy's default `percentile(..., method='linear')`, R's type 7 and
 * PostgreSQL's `percentile_cont`, so that figures computed here and in SQL
 * agree.
 */

/** The `p` quantile (0..1) of values already sorted ascending; undefined when empty. */
export function quantileSorted(
  sorted: ArrayLike<number>,
  p: number,
): number | undefined {
  const n = sorted.length;
  if (n === 0 || !(p >= 0 && p <= 1)) {
    return undefined;
  }
  const position = (n - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const fraction = position - lower;
  const low = sorted[lower];
  // The same arithmetic as PostgreSQL's percentile_cont (lo + (hi - lo) * f).
  return fraction === 0 ? low : low + (sorted[upper] - low) * fraction;
}

/** p50, p95 and p99 of `values` (any order; NaN and infinities ignored). */
export function latencyPercentiles(values: Iterable<number>): {
  p50?: number;
  p95?: number;
  p99?: number;
} {
  const sorted = Float64Array.from(
    Array.from(values).filter(v => Number.isFinite(v)),
  ).sort();
  if (sorted.length === 0) {
    return {};
  }
  return {
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
  };
}
