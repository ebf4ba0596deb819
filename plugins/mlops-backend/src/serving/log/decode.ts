/**
 * Reading what the inference log holds: the prediction in a logged
 * `outputs` and the ground truth posted for a request. The one decoder the
 * serving routes, rollout analysis and monitoring share, so that they agree
 * on which output is the prediction and on what a ground truth means.
 */

export type Scalar = number | string | boolean;

/**
 * Outputs that are the prediction when a model has them (skl2onnx and
 * OnnxWriter names); else a model's first output is.
 */
export const MAIN_OUTPUT_NAMES: readonly string[] = [
  'label',
  'output_label',
  'prediction',
  'predictions',
  'variable',
];

/** True for an output or tensor name that is the prediction. */
export function isMainOutputName(name: string): boolean {
  return MAIN_OUTPUT_NAMES.includes(name.toLowerCase());
}

export function isScalar(value: unknown): value is Scalar {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'string' ||
    typeof value === 'boolean'
  );
}

export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
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
        isMainOutputName(tensor.name),
    ) ?? tensors[0];
  if (!isPlainObject(main) || !Array.isArray(main.data)) {
    return undefined;
  }
  return scalarsOf(main.data);
}

/**
 * A ground truth as posted to `/serving/ground-truth` (any JSON), one value
 * per record: a number, string or boolean; an array of them for a batch; or
 * an object wrapping one (`{ value }`, or a single field like
 * `{ quality: 6 }`). Undefined when it is none of these.
 */
export function groundTruthValues(
  value: unknown,
  depth = 0,
): Scalar[] | undefined {
  if (isScalar(value)) {
    return [value];
  }
  if (Array.isArray(value)) {
    return scalarsOf(value);
  }
  if (!isPlainObject(value) || depth >= 2) {
    return undefined;
  }
  if ('value' in value) {
    return groundTruthValues(value.value, depth + 1);
  }
  const keys = Object.keys(value);
  return keys.length === 1
    ? groundTruthValues(value[keys[0]], depth + 1)
    : undefined;
}

/**
 * The (prediction, truth) pairs of logged requests with ground truth: one
 * per record of a batch, in the order of the outputs (a single truth pairs
 * with the first prediction). Rows without a readable prediction or truth
 * give none.
 */
export function predictionPairs(
  rows: Array<{ outputs: unknown; groundTruth: unknown }>,
): Array<[predicted: Scalar, truth: Scalar]> {
  const pairs: Array<[Scalar, Scalar]> = [];
  for (const row of rows) {
    const predicted = mainOutputValues(row.outputs);
    const truth = groundTruthValues(row.groundTruth);
    if (!predicted || !truth) {
      continue;
    }
    const n = Math.min(truth.length, predicted.length);
    for (let i = 0; i < n; i++) {
      pairs.push([predicted[i], truth[i]]);
    }
  }
  return pairs;
}
