/**
 * Reading the inference log as monitoring needs it: a logged request's
 * inputs decoded into feature records by the model's feature layout (one
 * [N, k] tensor whose columns are the features, or one tensor per feature)
 * and the positive class's scores. The prediction and the ground truth are
 * read by serving's decoder (`serving/log/decode`), shared with rollouts.
 */
import type { DatasetValue } from '../datasets';
import { isPlainObject } from '../serving/log/decode';

function toValue(value: unknown): DatasetValue {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    // Non-finite floats are logged as strings ("NaN", "Infinity").
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity')
      return Number(value);
    return value;
  }
  if (typeof value === 'boolean') return String(value);
  return null;
}

interface Tensor {
  name: string;
  shape?: number[];
  data: unknown[];
}

function tensorsOf(inputs: unknown): Tensor[] | undefined {
  const list = isPlainObject(inputs) ? inputs.inputs : inputs;
  if (!Array.isArray(list)) return undefined;
  const tensors = list.filter(
    (t): t is Tensor =>
      isPlainObject(t) && typeof t.name === 'string' && Array.isArray(t.data),
  );
  return tensors.length ? tensors : undefined;
}

/**
 * The feature records of one logged request (a batch gives several), or
 * undefined when its inputs do not fit the layout (then the request is
 * counted as a schema mismatch, not silently dropped).
 */
export function decodeFeatureRecords(
  inputs: unknown,
  featureNames: readonly string[],
): Array<Record<string, DatasetValue>> | undefined {
  const tensors = tensorsOf(inputs);
  if (!tensors || featureNames.length === 0) return undefined;
  const k = featureNames.length;
  if (tensors.length === 1 && !featureNames.includes(tensors[0].name)) {
    // Columns layout: one [N, k] tensor, row-major.
    const flat = (tensors[0].data as unknown[]).flat(Infinity);
    const shape = tensors[0].shape;
    const columns = shape && shape.length === 2 ? shape[1] : k;
    if (columns !== k || flat.length % k !== 0) return undefined;
    const records: Array<Record<string, DatasetValue>> = [];
    for (let row = 0; row < flat.length / k; row++) {
      const record: Record<string, DatasetValue> = {};
      for (let j = 0; j < k; j++)
        record[featureNames[j]] = toValue(flat[row * k + j]);
      records.push(record);
    }
    return records;
  }
  // Inputs layout: a tensor per feature, [N] or [N, 1]; a missing feature is null.
  const byName = new Map(
    tensors.map(t => [t.name, (t.data as unknown[]).flat(Infinity)]),
  );
  const n = Math.max(...[...byName.values()].map(d => d.length));
  if (!featureNames.some(name => byName.has(name))) return undefined;
  const records: Array<Record<string, DatasetValue>> = [];
  for (let row = 0; row < n; row++) {
    const record: Record<string, DatasetValue> = {};
    for (const name of featureNames) {
      const data = byName.get(name);
      record[name] = data ? toValue(data[row]) : null;
    }
    records.push(record);
  }
  return records;
}

const SCORE_OUTPUT_NAMES = [
  'probabilities',
  'output_probability',
  'probability',
  'scores',
];

/**
 * The positive class's score per record when the model outputs
 * probabilities ([N, 2] → column 1; [N] → as is), for ROC AUC.
 */
export function positiveScores(outputs: unknown): number[] | undefined {
  const tensors = isPlainObject(outputs) ? outputs.outputs : outputs;
  if (!Array.isArray(tensors)) return undefined;
  const scores = tensors.find(
    t =>
      isPlainObject(t) &&
      typeof t.name === 'string' &&
      SCORE_OUTPUT_NAMES.includes(t.name.toLowerCase()),
  ) as Tensor | undefined;
  if (!scores) return undefined;
  const flat = (scores.data as unknown[]).flat(Infinity).map(Number);
  const shape = scores.shape;
  if (shape && shape.length === 2 && shape[1] === 2) {
    return flat.filter((_, i) => i % 2 === 1);
  }
  if (!shape || shape.length === 1 || (shape.length === 2 && shape[1] === 1))
    return flat;
  return undefined;
}
