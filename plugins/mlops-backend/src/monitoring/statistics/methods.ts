/**
 * The per-feature drift methods, each as Evidently computes it
 * (`src/evidently/legacy/calculations/stattests/*.py`), with scipy's
 * definitions underneath. Distribution functions come from stdlib-js
 * (`gammainc`, `erfc`), not hand-rolled special functions.
 */
import gammainc from '@stdlib/math-base-special-gammainc';
import erfc from '@stdlib/math-base-special-erfc';
import { standardDeviation } from 'simple-statistics';

export type Category = number | string;

/** Counts per value. */
export function countValues(
  values: ArrayLike<Category>,
): Map<Category, number> {
  const counts = new Map<Category, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

function unionKeys(
  a: Map<Category, number>,
  b: Map<Category, number>,
): Category[] {
  const keys = new Set<Category>(a.keys());
  for (const k of b.keys()) keys.add(k);
  return [...keys];
}

/** P(χ²_k > x): the regularized upper incomplete gamma Q(k/2, x/2). */
export function chi2Sf(x: number, k: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0) return 1;
  return gammainc(x / 2, k / 2, true, true);
}

/** 2·P(Z > |z|) for a standard normal Z. */
export function normalTwoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Evidently's `chisquare`: `scipy.stats.chisquare(f_obs = current counts,
 * f_exp = reference counts · n_cur / n_ref)` over the union of values.
 * A value the reference never had has an expected count of 0: χ² = ∞, p = 0,
 * as scipy.
 */
export function chiSquareTest(
  reference: Map<Category, number>,
  referenceCount: number,
  current: Map<Category, number>,
  currentCount: number,
): TestResult {
  const keys = unionKeys(reference, current);
  const kNorm = currentCount / referenceCount;
  let statistic = 0;
  for (const key of keys) {
    const expected = (reference.get(key) ?? 0) * kNorm;
    const observed = current.get(key) ?? 0;
    const d = observed - expected;
    statistic +=
      expected === 0 ? (d === 0 ? NaN : Infinity) : (d * d) / expected;
  }
  return { statistic, pValue: chi2Sf(statistic, keys.length - 1) };
}

/**
 * Evidently's `z`: the two-proportion z-test on the share of one value
 * (either: the two-sided p-value is the same), p = 1 when both samples hold
 * the same single value.
 */
export function proportionsZTest(
  reference: Map<Category, number>,
  referenceCount: number,
  current: Map<Category, number>,
  currentCount: number,
): TestResult {
  const keys = unionKeys(reference, current);
  if (reference.size === 1 && current.size === 1 && keys.length === 1) {
    return { statistic: 0, pValue: 1 };
  }
  const key = keys[0];
  const p1 = (reference.get(key) ?? 0) / referenceCount;
  const p2 = (current.get(key) ?? 0) / currentCount;
  const P =
    (p1 * referenceCount + p2 * currentCount) / (referenceCount + currentCount);
  const z =
    (p1 - p2) /
    Math.sqrt(P * (1 - P) * (1 / referenceCount + 1 / currentCount));
  return { statistic: z, pValue: normalTwoSidedP(z) };
}

/**
 * `scipy.stats.wasserstein_distance(u, v)`: ∫|U − V| over the merged sorted
 * values. Both samples sorted ascending.
 */
export function wassersteinDistance(
  u: ArrayLike<number>,
  v: ArrayLike<number>,
): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let previous = Math.min(u[0], v[0]);
  let distance = 0;
  while (i < nu || j < nv) {
    const value = j >= nv || (i < nu && u[i] <= v[j]) ? u[i] : v[j];
    // CDFs are constant on [previous, value).
    distance += Math.abs(i / nu - j / nv) * (value - previous);
    while (i < nu && u[i] <= value) i++;
    while (j < nv && v[j] <= value) j++;
    previous = value;
  }
  return distance;
}

/**
 * Evidently's `wasserstein`: the distance over the reference's population
 * standard deviation (numpy's `std`, ddof 0), floored at 0.001.
 */
export function wassersteinNormed(
  sortedReference: ArrayLike<number>,
  sortedCurrent: ArrayLike<number>,
  referenceStd = standardDeviation(Array.from(sortedReference)),
): number {
  return (
    wassersteinDistance(sortedReference, sortedCurrent) /
    Math.max(referenceStd, 0.001)
  );
}

/** `np.histogram_bin_edges(values, bins='sturges')` for the min and max of the values and their count. */
export function sturgesEdges(
  min: number,
  max: number,
  count: number,
): number[] {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = (max - min) / (Math.log2(count) + 1);
  const bins = width ? Math.ceil((last - first) / width) : 1;
  // np.linspace: start + i·step, with the last edge set to stop exactly.
  const step = (last - first) / bins;
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(i * step + first);
  edges[bins] = last;
  return edges;
}

/** `np.histogram(sorted, edges)[0]`: [e_i, e_{i+1}) and the last bin closed. */
export function histogramSorted(
  sorted: ArrayLike<number>,
  edges: number[],
): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const lowerBound = (x: number, right: boolean) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (right ? sorted[mid] <= x : sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let previous = lowerBound(edges[0], false);
  for (let b = 0; b < bins; b++) {
    const end =
      b === bins - 1
        ? lowerBound(edges[b + 1], true)
        : lowerBound(edges[b + 1], false);
    counts[b] = end - previous;
    previous = end;
  }
  return counts;
}

/** Shares per bin of both samples, as Evidently's `get_binned_data`. */
export interface BinnedShares {
  labels: string[];
  reference: number[];
  current: number[];
}

/**
 * Evidently's `get_binned_data`: Sturges bins over both samples for a
 * numerical column whose reference has more than 20 distinct values, else one
 * bin per value. With `fillZeroes` (PSI and KL), empty bins get 0.0001, or
 * the smallest non-zero share / 1e6 when that is ≤ 0.0001.
 */
export function binnedShares(
  input:
    | {
        kind: 'numerical';
        sortedReference: ArrayLike<number>;
        sortedCurrent: ArrayLike<number>;
        referenceUnique: number;
      }
    | {
        kind: 'categorical';
        reference: Map<Category, number>;
        current: Map<Category, number>;
      },
  fillZeroes: boolean,
): BinnedShares {
  let labels: string[];
  let reference: number[];
  let current: number[];
  if (input.kind === 'numerical' && input.referenceUnique > 20) {
    const r = input.sortedReference;
    const c = input.sortedCurrent;
    const min = Math.min(r[0], c[0]);
    const max = Math.max(r[r.length - 1], c[c.length - 1]);
    const edges = sturgesEdges(min, max, r.length + c.length);
    reference = histogramSorted(r, edges).map(n => n / r.length);
    current = histogramSorted(c, edges).map(n => n / c.length);
    labels = edges
      .slice(0, -1)
      .map((e, i) => `[${formatEdge(e)}, ${formatEdge(edges[i + 1])})`);
  } else {
    const refCounts =
      input.kind === 'numerical'
        ? countValues(input.sortedReference)
        : input.reference;
    const curCounts =
      input.kind === 'numerical'
        ? countValues(input.sortedCurrent)
        : input.current;
    const keys = unionKeys(refCounts, curCounts);
    if (input.kind === 'numerical') (keys as number[]).sort((a, b) => a - b);
    const nRef = sumValues(refCounts);
    const nCur = sumValues(curCounts);
    labels = keys.map(String);
    reference = keys.map(k => (refCounts.get(k) ?? 0) / nRef);
    current = keys.map(k => (curCounts.get(k) ?? 0) / nCur);
  }
  if (fillZeroes) {
    reference = fillZeroShares(reference);
    current = fillZeroShares(current);
  }
  return { labels, reference, current };
}

function sumValues(counts: Map<Category, number>): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}

function formatEdge(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

function fillZeroShares(shares: number[]): number[] {
  let minNonZero = Infinity;
  for (const s of shares) if (s !== 0 && s < minNonZero) minNonZero = s;
  const fill = minNonZero <= 0.0001 ? minNonZero / 1e6 : 0.0001;
  return shares.map(s => (s === 0 ? fill : s));
}

/** scipy's `rel_entr(x, y)`. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** Evidently's `psi`: Σ (ref − cur) · ln(ref / cur) over zero-filled shares. */
export function psi(shares: BinnedShares): number {
  let total = 0;
  for (let i = 0; i < shares.reference.length; i++) {
    const r = shares.reference[i];
    const c = shares.current[i];
    total += (r - c) * Math.log(r / c);
  }
  return total;
}

function normalize(p: number[]): number[] {
  let s = 0;
  for (const v of p) s += v;
  return p.map(v => v / s);
}

/** Evidently's `kl_div`: `scipy.stats.entropy(ref, cur)` (both renormalised) over zero-filled shares. */
export function klDivergence(shares: BinnedShares): number {
  const p = normalize(shares.reference);
  const q = normalize(shares.current);
  let total = 0;
  for (let i = 0; i < p.length; i++) total += relEntr(p[i], q[i]);
  return total;
}

/** Evidently's `jensenshannon`: `scipy.spatial.distance.jensenshannon(ref, cur)` (natural log). */
export function jensenShannonDistance(shares: BinnedShares): number {
  const p = normalize(shares.reference);
  const q = normalize(shares.current);
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    total += relEntr(p[i], m) + relEntr(q[i], m);
  }
  return Math.sqrt(total / 2);
}
