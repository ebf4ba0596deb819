/**
 * A drift report over columns: per column, clean the values, pick the
 * method (Evidently's automatic choice or the one named), run it, and decide
 * dataset drift by Evidently's rule (share of drifted columns ≥ driftShare).
 * A bad column is a status in the report, never an exception.
 */
import type {
  DriftColumnValue,
  DriftComparison,
  DriftFeatureResult,
  DriftTestMethod,
} from '@loopline/mlops-common';
import { standardDeviation } from 'simple-statistics';
import { ks2samp } from './ks';
import {
  binnedShares,
  Category,
  chiSquareTest,
  countValues,
  jensenShannonDistance,
  klDivergence,
  proportionsZTest,
  psi,
  wassersteinNormed,
} from './methods';

export const DEFAULT_DRIFT_SHARE = 0.5;

/** Evidently's default thresholds: 0.05 for p-values, 0.1 for distances. */
export const DEFAULT_THRESHOLDS: Record<DriftTestMethod, number> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  psi: 0.1,
  kl_div: 0.1,
  jensenshannon: 0.1,
  wasserstein: 0.1,
};

const P_VALUE_METHODS = new Set<DriftTestMethod>(['ks', 'chisquare', 'z']);
const NUMERICAL_ONLY = new Set<DriftTestMethod>(['ks', 'wasserstein']);

/**
 * A column ready for testing: the usable values (null, NaN and ±inf dropped,
 * as Evidently drops them) and what a test needs of them. For a reference
 * this is what a stored profile holds, so a scheduled check never re-reads
 * the training set.
 */
export interface ColumnProfile {
  kind: 'numerical' | 'categorical' | 'empty' | 'mixed';
  /** Rows seen, usable or not. */
  rowCount: number;
  /** Numerical: the usable values sorted ascending. */
  sorted?: Float64Array;
  /** Categorical (and numerical with few values): counts per value. */
  counts?: Map<Category, number>;
  /** Number of usable values. */
  count: number;
  unique: number;
  /** Population standard deviation of a numerical column. */
  std?: number;
}

export function profileColumn(
  values: ArrayLike<DriftColumnValue | undefined>,
): ColumnProfile {
  const numbers: number[] = [];
  const strings: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') {
      if (Number.isFinite(v)) numbers.push(v);
    } else if (typeof v === 'string') {
      strings.push(v);
    }
  }
  const rowCount = values.length;
  if (numbers.length && strings.length) {
    return {
      kind: 'mixed',
      rowCount,
      count: numbers.length + strings.length,
      unique: 0,
    };
  }
  if (strings.length) {
    const counts = countValues(strings);
    return {
      kind: 'categorical',
      rowCount,
      counts,
      count: strings.length,
      unique: counts.size,
    };
  }
  if (numbers.length) {
    const sorted = Float64Array.from(numbers).sort();
    let unique = 1;
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i] !== sorted[i - 1]) unique++;
    return {
      kind: 'numerical',
      rowCount,
      sorted,
      count: sorted.length,
      unique,
      std: standardDeviation(numbers),
      counts: unique <= 20 ? countValues(sorted) : undefined,
    };
  }
  return { kind: 'empty', rowCount, count: 0, unique: 0 };
}

function countsOf(profile: ColumnProfile): Map<Category, number> {
  return profile.counts ?? countValues(profile.sorted!);
}

function uniqueTogether(a: ColumnProfile, b: ColumnProfile): number {
  if (a.kind === 'numerical' && b.kind === 'numerical' && a.unique > 5) {
    return a.unique; // already > 5: only the comparison with 5 matters
  }
  const keys = new Set<Category>(countsOf(a).keys());
  for (const k of countsOf(b).keys()) keys.add(k);
  return keys.size;
}

/**
 * Evidently's `_get_default_stattest`: by the reference's row count (≤ 1000
 * or more) and the number of distinct values in both samples together.
 */
export function defaultMethod(
  reference: ColumnProfile,
  current: ColumnProfile,
): DriftTestMethod {
  const nValues = uniqueTogether(reference, current);
  const numerical = reference.kind === 'numerical';
  if (reference.count <= 1000) {
    if (numerical && nValues > 5) return 'ks';
    return nValues > 2 ? 'chisquare' : 'z';
  }
  if (numerical && nValues > 5) return 'wasserstein';
  return 'jensenshannon';
}

export interface ColumnTestOptions {
  method?: DriftTestMethod;
  threshold?: number;
  /** Fewer usable values than this on either side: `insufficient_data`. */
  minCount?: number;
}

export function testColumn(
  name: string,
  reference: ColumnProfile | undefined,
  current: ColumnProfile | undefined,
  options: ColumnTestOptions = {},
): DriftFeatureResult {
  const columnType =
    reference?.kind === 'categorical' || current?.kind === 'categorical'
      ? 'categorical'
      : 'numerical';
  const base = {
    name,
    columnType,
    method: options.method ?? null,
    statistic: null,
    pValue: null,
    score: null,
    threshold:
      options.threshold ??
      (options.method ? DEFAULT_THRESHOLDS[options.method] : 0.05),
    direction:
      options.method && !P_VALUE_METHODS.has(options.method)
        ? 'distance'
        : 'p_value',
    drifted: false,
    referenceCount: reference?.count ?? 0,
    currentCount: current?.count ?? 0,
  } satisfies Omit<DriftFeatureResult, 'status'>;
  const untested = (
    status: DriftFeatureResult['status'],
    message: string,
  ): DriftFeatureResult => ({
    ...base,
    status,
    message,
  });
  if (!reference)
    return untested('schema_mismatch', 'The reference has no such column');
  if (!current)
    return untested(
      'missing_in_current',
      'The current window has no such feature',
    );
  if (reference.kind === 'empty')
    return untested('empty', 'The reference has no usable value');
  if (current.kind === 'empty')
    return untested('empty', 'The current window has no usable value');
  if (
    reference.kind === 'mixed' ||
    current.kind === 'mixed' ||
    reference.kind !== current.kind
  ) {
    return untested(
      'schema_mismatch',
      `The reference is ${reference.kind}, the current window ${current.kind}`,
    );
  }
  const minCount = options.minCount ?? 1;
  if (reference.count < minCount || current.count < minCount) {
    return untested('insufficient_data', `Fewer than ${minCount} values`);
  }
  const method = options.method ?? defaultMethod(reference, current);
  if (NUMERICAL_ONLY.has(method) && reference.kind !== 'numerical') {
    return untested('schema_mismatch', `${method} needs a numerical column`);
  }
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  const direction = P_VALUE_METHODS.has(method) ? 'p_value' : 'distance';
  let statistic: number;
  let pValue: number | null = null;
  try {
    switch (method) {
      case 'ks': {
        const r = ks2samp(reference.sorted!, current.sorted!);
        statistic = r.statistic;
        pValue = r.pValue;
        break;
      }
      case 'chisquare':
      case 'z': {
        const test = method === 'z' ? proportionsZTest : chiSquareTest;
        const r = test(
          countsOf(reference),
          reference.count,
          countsOf(current),
          current.count,
        );
        statistic = r.statistic;
        pValue = r.pValue;
        break;
      }
      case 'wasserstein':
        statistic = wassersteinNormed(
          reference.sorted!,
          current.sorted!,
          reference.std,
        );
        break;
      default: {
        const shares = binnedShares(
          reference.kind === 'numerical'
            ? {
                kind: 'numerical',
                sortedReference: reference.sorted!,
                sortedCurrent: current.sorted!,
                referenceUnique: reference.unique,
              }
            : {
                kind: 'categorical',
                reference: countsOf(reference),
                current: countsOf(current),
              },
          method !== 'jensenshannon',
        );
        statistic =
          method === 'psi'
            ? psi(shares)
            : method === 'kl_div'
            ? klDivergence(shares)
            : jensenShannonDistance(shares);
      }
    }
  } catch (error) {
    return {
      ...untested('error', String((error as Error).message ?? error)),
      method,
      threshold,
      direction,
    };
  }
  const score = pValue ?? statistic;
  // Evidently: KS drifts when p ≤ thr, the other tests when p < thr,
  // distances when ≥ thr.
  const drifted =
    direction === 'distance'
      ? score >= threshold
      : method === 'ks'
      ? score <= threshold
      : score < threshold;
  let status: DriftFeatureResult['status'] = 'ok';
  let message: string | undefined;
  if (
    reference.count < reference.rowCount ||
    current.count < current.rowCount
  ) {
    status = 'missing_values';
    message = `Missing values dropped: ${
      reference.rowCount - reference.count
    } in the reference, ${
      current.rowCount - current.count
    } in the current window`;
  }
  if (
    reference.kind === 'categorical' ||
    (reference.counts && current.counts)
  ) {
    const known = countsOf(reference);
    const unseen = [...countsOf(current).keys()].filter(k => !known.has(k));
    if (unseen.length && reference.kind === 'categorical') {
      status = 'new_category';
      message = `Categories the reference never had: ${unseen
        .slice(0, 5)
        .join(', ')}`;
    }
  }
  if (status === 'ok' && reference.unique === 1) {
    status = 'constant';
    message = 'The reference holds a single value';
  }
  return {
    ...base,
    method,
    threshold,
    direction,
    statistic,
    pValue,
    score,
    drifted,
    status,
    ...(message ? { message } : {}),
  };
}

export interface CompareOptions {
  methods?: Record<string, DriftTestMethod>;
  thresholds?: Record<string, number>;
  driftShare?: number;
  correction?: 'bonferroni';
  minCount?: number;
}

/** Dataset drift by Evidently's rule, over the features that could be tested. */
export function summarize(
  features: DriftFeatureResult[],
  driftShare = DEFAULT_DRIFT_SHARE,
  correction?: 'bonferroni',
): DriftComparison {
  const tested = features.filter(f => f.score !== null);
  if (correction === 'bonferroni') {
    // Alibi Detect: each p-value against threshold / n_features.
    const n = tested.length;
    for (const f of tested) {
      if (f.direction === 'p_value' && f.pValue !== null) {
        f.threshold = f.threshold / n;
        f.drifted =
          f.method === 'ks' ? f.pValue <= f.threshold : f.pValue < f.threshold;
      }
    }
  }
  const drifted = tested.filter(f => f.drifted).length;
  const share = tested.length ? drifted / tested.length : 0;
  return {
    datasetDrift: tested.length > 0 && share >= driftShare,
    driftShare,
    numberOfColumns: tested.length,
    numberOfDriftedColumns: drifted,
    shareOfDriftedColumns: share,
    ...(correction ? { correction } : {}),
    features,
  };
}

export function compareProfiles(
  reference: Record<string, ColumnProfile>,
  current: Record<string, ColumnProfile>,
  options: CompareOptions = {},
): DriftComparison {
  const names = Object.keys(reference);
  for (const name of Object.keys(current))
    if (!(name in reference)) names.push(name);
  const features = names.map(name =>
    testColumn(name, reference[name], current[name], {
      method: options.methods?.[name],
      threshold: options.thresholds?.[name],
      minCount: options.minCount,
    }),
  );
  return summarize(features, options.driftShare, options.correction);
}

export function compareColumns(
  reference: Record<string, ArrayLike<DriftColumnValue>>,
  current: Record<string, ArrayLike<DriftColumnValue>>,
  options: CompareOptions = {},
): DriftComparison {
  const profile = (columns: Record<string, ArrayLike<DriftColumnValue>>) =>
    Object.fromEntries(
      Object.entries(columns).map(([n, v]) => [n, profileColumn(v)]),
    );
  return compareProfiles(profile(reference), profile(current), options);
}
