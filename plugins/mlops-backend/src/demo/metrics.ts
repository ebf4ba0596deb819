import { InputError } from '@backstage/errors';

function checkPair(actual: readonly number[], predicted: readonly number[]) {
  if (actual.length === 0) {
    throw new InputError('A metric needs at least one value');
  }
  if (actual.length !== predicted.length) {
    throw new InputError(
      `${actual.length} actual values but ${predicted.length} predictions`,
    );
  }
}

function checkBinary(values: readonly number[], what: string) {
  values.forEach((v, i) => {
    if (v !== 0 && v !== 1)
      throw new InputError(`${what}[${i}] must be 0 or 1, got ${v}`);
  });
}

/** Mean squared error. */
export function mse(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  checkPair(actual, predicted);
  return (
    actual.reduce((s, a, i) => s + (a - predicted[i]) ** 2, 0) / actual.length
  );
}

/** Root mean squared error. */
export function rmse(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  return Math.sqrt(mse(actual, predicted));
}

/** Mean absolute error. */
export function mae(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  checkPair(actual, predicted);
  return (
    actual.reduce((s, a, i) => s + Math.abs(a - predicted[i]), 0) /
    actual.length
  );
}

/**
 * Coefficient of determination 1 - SS_res / SS_tot. When the actual values
 * are all equal: 1 for a perfect prediction, 0 otherwise (as scikit-learn).
 */
export function r2(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  checkPair(actual, predicted);
  const mean = actual.reduce((s, a) => s + a, 0) / actual.length;
  const ssTot = actual.reduce((s, a) => s + (a - mean) ** 2, 0);
  const ssRes = actual.reduce((s, a, i) => s + (a - predicted[i]) ** 2, 0);
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

/** Share of labels predicted right. */
export function accuracy(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  checkPair(actual, predicted);
  return actual.filter((a, i) => a === predicted[i]).length / actual.length;
}

/** True/false positives and negatives of 0/1 labels (1 is the positive class). */
export function confusion(
  actual: readonly number[],
  predicted: readonly number[],
) {
  checkPair(actual, predicted);
  checkBinary(actual, 'actual');
  checkBinary(predicted, 'predicted');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  actual.forEach((a, i) => {
    const p = predicted[i];
    if (p === 1 && a === 1) tp++;
    else if (p === 1) fp++;
    else if (a === 1) fn++;
    else tn++;
  });
  return { tp, fp, tn, fn };
}

/** TP / (TP + FP); 0 when nothing is predicted positive. */
export function precision(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  const { tp, fp } = confusion(actual, predicted);
  return tp + fp === 0 ? 0 : tp / (tp + fp);
}

/** TP / (TP + FN); 0 when there are no positives. */
export function recall(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  const { tp, fn } = confusion(actual, predicted);
  return tp + fn === 0 ? 0 : tp / (tp + fn);
}

/** Harmonic mean of precision and recall: 2TP / (2TP + FP + FN); 0 when that is 0/0. */
export function f1(
  actual: readonly number[],
  predicted: readonly number[],
): number {
  const { tp, fp, fn } = confusion(actual, predicted);
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Area under the ROC curve of scores for 0/1 labels: the probability that a
 * random positive scores higher than a random negative, ties counting half
 * (Mann-Whitney U with average ranks). Needs both classes.
 */
export function rocAuc(
  actual: readonly number[],
  scores: readonly number[],
): number {
  checkPair(actual, scores);
  checkBinary(actual, 'actual');
  scores.forEach((s, i) => {
    if (Number.isNaN(s)) throw new InputError(`scores[${i}] is NaN`);
  });
  const positives = actual.filter(a => a === 1).length;
  const negatives = actual.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new InputError(
      'ROC AUC needs at least one positive and one negative label',
    );
  }
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPositives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (
      end + 1 < order.length &&
      scores[order[end + 1]] === scores[order[start]]
    )
      end++;
    const averageRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let k = start; k <= end; k++) {
      if (actual[order[k]] === 1) rankSumPositives += averageRank;
    }
    start = end + 1;
  }
  return (
    (rankSumPositives - (positives * (positives + 1)) / 2) /
    (positives * negatives)
  );
}

/** Mean log loss of P(class 1) for 0/1 labels (probabilities clipped to [1e-15, 1 - 1e-15]). */
export function logLoss(
  actual: readonly number[],
  probabilities: readonly number[],
): number {
  checkPair(actual, probabilities);
  checkBinary(actual, 'actual');
  const eps = 1e-15;
  return (
    actual.reduce((s, a, i) => {
      const p = Math.min(Math.max(probabilities[i], eps), 1 - eps);
      return s - (a === 1 ? Math.log(p) : Math.log(1 - p));
    }, 0) / actual.length
  );
}

/**
 * Precision among the top `fraction` of rows by score (at least one row;
 * ties at the cut broken by row order), e.g. fraction 0.1 for
 * "precision at 10%": of the customers a campaign would target, how many churn.
 */
export function precisionAtFraction(
  actual: readonly number[],
  scores: readonly number[],
  fraction: number,
): number {
  checkPair(actual, scores);
  checkBinary(actual, 'actual');
  if (!(fraction > 0 && fraction <= 1)) {
    throw new InputError(`fraction must be in (0, 1], got ${fraction}`);
  }
  const k = Math.max(1, Math.round(actual.length * fraction));
  const top = scores
    .map((_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
  return top.filter(i => actual[i] === 1).length / k;
}

/** 0/1 labels from probabilities: 1 when p > threshold (default 0.5). */
export function threshold(
  probabilities: readonly number[],
  cut = 0.5,
): number[] {
  return probabilities.map(p => (p > cut ? 1 : 0));
}
