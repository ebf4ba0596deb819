/**
 * How a rollout scores what an arm answered: the prediction read from a
 * logged `outputs`, the ground truth posted for it, model quality over the
 * pairs, and whether a shadow's answer agrees with stable's. Pure functions
 * over the inference log's rows.
 */
import type { ArmMetrics, QualitySlo } from '@loopline/mlops-common';
import { mainOutputValues, Scalar } from '../serving/log/decode';

/** Shadow agreement: relative difference under which two numbers agree. */
const DEFAULT_RELATIVE_TOLERANCE = 1e-6;

/** A finite number from a number or a numeric string (INT64 data may be logged as strings). */
function numberOf(value: Scalar): number | undefined {
  if (typeof value === 'number') {
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** Labels equal: numerically when either is a number, else by their string form. */
function labelsEqual(a: Scalar, b: Scalar): boolean {
  if (typeof a === 'number' || typeof b === 'number') {
    const x = numberOf(a);
    const y = numberOf(b);
    if (x !== undefined && y !== undefined) {
      return x === y;
    }
  }
  return String(a) === String(b);
}

/** Numbers within `tolerance` (absolute) or else 1e-6 relative; labels equal. */
export function outputsAgree(
  a: Scalar,
  b: Scalar,
  tolerance?: number,
): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    const allowed =
      tolerance !== undefined && Number.isFinite(tolerance)
        ? tolerance
        : DEFAULT_RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
    return Math.abs(a - b) <= allowed;
  }
  return labelsEqual(a, b);
}

/**
 * Accuracy (share of equal labels), or mae / rmse over the pairs where both
 * sides are numbers; undefined when no pair counted.
 */
export function qualityOf(
  metric: QualitySlo['metric'],
  pairs: Array<[predicted: Scalar, truth: Scalar]>,
): ArmMetrics['quality'] {
  if (metric === 'accuracy') {
    const correct = pairs.filter(([p, t]) => labelsEqual(p, t)).length;
    return pairs.length > 0
      ? { metric, value: correct / pairs.length, samples: pairs.length }
      : undefined;
  }
  const differences: number[] = [];
  for (const [predicted, truth] of pairs) {
    const x = numberOf(predicted);
    const y = numberOf(truth);
    if (x !== undefined && y !== undefined) {
      differences.push(x - y);
    }
  }
  const n = differences.length;
  if (n === 0) {
    return undefined;
  }
  const value =
    metric === 'mae'
      ? differences.reduce((sum, d) => sum + Math.abs(d), 0) / n
      : Math.sqrt(differences.reduce((sum, d) => sum + d * d, 0) / n);
  return { metric, value, samples: n };
}

/**
 * Of (stable, shadow) output pairs, those with a readable main output on
 * both sides, and the share of them whose outputs agree value by value.
 * `rate` is 0 when nothing was compared.
 */
export function agreementOf(
  pairs: Array<[stable: unknown, shadow: unknown]>,
  tolerance?: number,
): { rate: number; samples: number } {
  let samples = 0;
  let agreeing = 0;
  for (const [stableOutputs, shadowOutputs] of pairs) {
    const stable = mainOutputValues(stableOutputs);
    const shadow = mainOutputValues(shadowOutputs);
    if (!stable?.length || !shadow?.length) {
      continue;
    }
    samples += 1;
    if (
      stable.length === shadow.length &&
      stable.every((value, i) => outputsAgree(value, shadow[i], tolerance))
    ) {
      agreeing += 1;
    }
  }
  return { rate: samples > 0 ? agreeing / samples : 0, samples };
}
