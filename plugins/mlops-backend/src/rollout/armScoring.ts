/**
 * How a rollout scores what an arm answered: the prediction read from a
 * logged `outputs`, the ground truth posted for it, model quality over the
 * pairs, and whether a shadow's answer agrees with stable's. Pure functions
 * over the inference log's rows.
 */
import type { ArmMetrics, QualitySlo } from '@loopline/mlops-common';

export type Scalar = number | string | boolean;

/** Shadow agreement: relative difference under which two numbers agree. */
const DEFAULT_RELATIVE_TOLERANCE = 1e-6;
/**
 * Outputs that are the prediction when a model has them (skl2onnx and
 * OnnxWriter names), as the serving routes choose them.
 */
const MAIN_OUTPUT_NAMES = [
  'label',
  'output_label',
  'prediction',
  'predictions',
  'variable',
];

function isScalar(value: unknown): value is Scalar {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'string' ||
    typeof value === 'boolean'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The scalars of a (possibly nested) tensor's data, in row-major order. */
function scalarsOf(data: unknown[]): Scalar[] {
  return (data.flat(Infinity) as unknown[]).filter(isScalar);
}

/**
 * The prediction's values from a logged `outputs`: OIP tensors (as the
 * embedded server and KServe V2 log them) → the data of the output named
 * label, output_label, prediction, predictions or variable, else of the
 * first; a KServe V1 body → its `predictions`. Undefined for anything else
 * (a truncation marker, an unparsed body).
 */
export function mainOutputValues(outputs: unknown): Scalar[] | undefined {
  let tensors = outputs;
  if (isPlainObject(outputs)) {
    if (Array.isArray(outputs.predictions)) {
      return scalarsOf(outputs.predictions);
    }
    tensors = outputs.outputs;
  }
  if (!Array.isArray(tensors) || tensors.length === 0) {
    return undefined;
  }
  const main =
    tensors.find(
      tensor =>
        isPlainObject(tensor) &&
        typeof tensor.name === 'string' &&
        MAIN_OUTPUT_NAMES.includes(tensor.name.toLowerCase()),
    ) ?? tensors[0];
  if (!isPlainObject(main) || !Array.isArray(main.data)) {
    return undefined;
  }
  return scalarsOf(main.data);
}

/**
 * A ground truth as posted to `/serving/ground-truth` (any JSON): a number,
 * string or boolean; an array of them for a batch; or an object wrapping one
 * — `{ value }`, or a single field like `{ quality: 6 }`. Undefined when it
 * is none of these.
 */
export function groundTruthOf(
  value: unknown,
  depth = 0,
): Scalar | Scalar[] | undefined {
  if (isScalar(value)) {
    return value;
  }
  if (Array.isArray(value)) {
    return scalarsOf(value);
  }
  if (!isPlainObject(value) || depth >= 2) {
    return undefined;
  }
  if ('value' in value) {
    return groundTruthOf(value.value, depth + 1);
  }
  const keys = Object.keys(value);
  return keys.length === 1
    ? groundTruthOf(value[keys[0]], depth + 1)
    : undefined;
}

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
 * The (prediction, truth) pairs of logged requests with ground truth: one
 * per record of a batch (in the order of the outputs), else the first
 * prediction against the one truth. Rows without a readable prediction or
 * truth give none.
 */
export function predictionPairs(
  rows: Array<{ outputs: unknown; groundTruth: unknown }>,
): Array<[predicted: Scalar, truth: Scalar]> {
  const pairs: Array<[Scalar, Scalar]> = [];
  for (const row of rows) {
    const predicted = mainOutputValues(row.outputs);
    const truth = groundTruthOf(row.groundTruth);
    if (!predicted || truth === undefined) {
      continue;
    }
    if (Array.isArray(truth)) {
      const n = Math.min(truth.length, predicted.length);
      for (let i = 0; i < n; i++) {
        pairs.push([predicted[i], truth[i]]);
      }
    } else if (predicted.length > 0) {
      pairs.push([predicted[0], truth]);
    }
  }
  return pairs;
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
