/**
 * Quality against ground truth, as scikit-learn defines the metrics:
 * accuracy, F1 (binary when the labels are two, with the positive class
 * 1 / "true" / the larger label; else macro-averaged) and ROC AUC (the
 * Mann–Whitney rank form, ties averaged: `roc_auc_score`) for
 * classification; RMSE, MAE and R² (`r2_score`) for regression.
 */
import type { QualityMetrics } from '@loopline/mlops-common';
import { mean } from 'simple-statistics';
import type { Scalar } from '../serving/log/decode';

export interface QualityPair {
  predicted: Scalar;
  actual: Scalar;
  /** The positive class's score, when the model outputs one. */
  score?: number;
}

function asNumber(v: Scalar): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
    return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function labelOf(v: Scalar): string {
  const n = asNumber(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v === 'true') return '1';
  if (v === 'false') return '0';
  return n !== undefined ? String(n) : String(v);
}

export function regressionQuality(pairs: QualityPair[]): QualityMetrics {
  const rows = pairs
    .map(p => [asNumber(p.predicted), asNumber(p.actual)] as const)
    .filter(
      (r): r is readonly [number, number] =>
        r[0] !== undefined && r[1] !== undefined,
    );
  if (!rows.length) return { count: 0 };
  const errors = rows.map(([p, a]) => p - a);
  const actualMean = mean(rows.map(r => r[1]));
  const ssRes = errors.reduce((s, e) => s + e * e, 0);
  const ssTot = rows.reduce((s, [, a]) => s + (a - actualMean) ** 2, 0);
  return {
    count: rows.length,
    rmse: Math.sqrt(ssRes / rows.length),
    mae: errors.reduce((s, e) => s + Math.abs(e), 0) / rows.length,
    // scikit-learn: 1 when both sums are 0, 0 when only ssTot is.
    r2: ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot,
  };
}

export function classificationQuality(pairs: QualityPair[]): QualityMetrics {
  if (!pairs.length) return { count: 0 };
  const predicted = pairs.map(p => labelOf(p.predicted));
  const actual = pairs.map(p => labelOf(p.actual));
  const labels = [...new Set([...actual, ...predicted])].sort((a, b) => {
    const x = Number(a);
    const y = Number(b);
    return Number.isFinite(x) && Number.isFinite(y)
      ? x - y
      : a.localeCompare(b);
  });
  const accuracy =
    predicted.filter((p, i) => p === actual[i]).length / pairs.length;
  const f1Of = (label: string) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < pairs.length; i++) {
      if (predicted[i] === label && actual[i] === label) tp++;
      else if (predicted[i] === label) fp++;
      else if (actual[i] === label) fn++;
    }
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  };
  const positive = labels.includes('1') ? '1' : labels[labels.length - 1];
  const f1 = labels.length <= 2 ? f1Of(positive) : mean(labels.map(f1Of));
  const metrics: QualityMetrics = { count: pairs.length, accuracy, f1 };
  const scored = pairs.filter(
    p => typeof p.score === 'number' && Number.isFinite(p.score),
  );
  if (labels.length <= 2 && scored.length === pairs.length) {
    const auc = rocAuc(
      scored.map(p => p.score!),
      scored.map(p => labelOf(p.actual) === positive),
    );
    if (auc !== undefined) metrics.rocAuc = auc;
  }
  return metrics;
}

/** ROC AUC as the probability a positive outranks a negative (ties count half). */
export function rocAuc(
  scores: number[],
  positives: boolean[],
): number | undefined {
  const nPos = positives.filter(Boolean).length;
  const nNeg = positives.length - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;
  const order = scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank;
    i = j + 1;
  }
  let sum = 0;
  positives.forEach((p, i) => {
    if (p) sum += ranks[i];
  });
  return (sum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The per-request error ADWIN watches: |error| for regression, 0/1 misclassification otherwise. */
export function requestError(
  pair: QualityPair,
  regression: boolean,
): number | undefined {
  if (regression) {
    const p = asNumber(pair.predicted);
    const a = asNumber(pair.actual);
    return p === undefined || a === undefined ? undefined : Math.abs(p - a);
  }
  return labelOf(pair.predicted) === labelOf(pair.actual) ? 0 : 1;
}
