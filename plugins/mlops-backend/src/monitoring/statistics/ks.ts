import { kolmogornSf, outerProbInside, probOutsideSquare } from './kolmogorov';

/** `ks_2samp`'s `auto` method is exact while both samples have at most this many values. */
export const KS_MAX_AUTO_N = 10000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/**
 * The two-sided two-sample Kolmogorov–Smirnov test, as
 * `scipy.stats.ks_2samp(a, b, method='auto')`: exact when both samples have
 * at most 10,000 values (falling back to the asymptotic distribution if the
 * exact sum overflows, as scipy does), else `kstwo.sf(D, round(n1·n2/(n1+n2)))`.
 *
 * Both inputs must be sorted ascending (reference profiles are stored
 * sorted, so a check never sorts the reference again).
 */
export function ks2samp(
  sorted1: ArrayLike<number>,
  sorted2: ArrayLike<number>,
): KsResult {
  const n1 = sorted1.length;
  const n2 = sorted2.length;
  if (n1 === 0 || n2 === 0) {
    throw new Error('ks2samp needs two non-empty samples');
  }
  // D = max |F1 − F2| over all values, the ECDFs evaluated right-continuous
  // (searchsorted 'right'), by one merge of the sorted samples.
  let i = 0;
  let j = 0;
  let maxS = 0; // max(F1 − F2)
  let minS = 0; // max(F2 − F1)
  while (i < n1 || j < n2) {
    const v =
      j >= n2 || (i < n1 && sorted1[i] <= sorted2[j]) ? sorted1[i] : sorted2[j];
    while (i < n1 && sorted1[i] <= v) i++;
    while (j < n2 && sorted2[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (-diff > minS) minS = -diff;
  }
  let d = Math.min(1, minS > maxS ? minS : maxS);
  const g = gcd(n1, n2);
  let mode: 'exact' | 'asymp' =
    Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  let prob = NaN;
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) {
      prob = 1;
    } else {
      prob =
        n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
      if (!Number.isFinite(prob) || prob < 0 || prob > 1) {
        mode = 'asymp';
      }
    }
  }
  if (mode === 'asymp') {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    prob = kolmogornSf(roundHalfEven(en), d);
  }
  return { statistic: d, pValue: Math.min(1, Math.max(0, prob)), method: mode };
}

/** numpy's `round`: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
