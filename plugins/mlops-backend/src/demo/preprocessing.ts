import { InputError } from '@backstage/errors';

/** A dense matrix: one array of numbers per row. */
export type Matrix = number[][];

/** Per-column mean and (population) standard deviation. */
export interface StandardScaler {
  mean: number[];
  /** Standard deviation per column; 1 for a constant column, so it maps to 0. */
  scale: number[];
}

/** Fits a standard scaler (z = (x - mean) / std, population std) on the rows. */
export function fitStandardScaler(x: Matrix): StandardScaler {
  const { rows, cols } = checkMatrix(x, 'x');
  const mean = new Array<number>(cols).fill(0);
  for (const row of x) {
    for (let j = 0; j < cols; j++) mean[j] += row[j];
  }
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  const variance = new Array<number>(cols).fill(0);
  for (const row of x) {
    for (let j = 0; j < cols; j++) variance[j] += (row[j] - mean[j]) ** 2;
  }
  const scale = variance.map(v => {
    const std = Math.sqrt(v / rows);
    return std > 1e-12 ? std : 1;
  });
  return { mean, scale };
}

/** Applies a fitted scaler. */
export function standardize(x: Matrix, scaler: StandardScaler): Matrix {
  const { cols } = checkMatrix(x, 'x');
  if (scaler.mean.length !== cols) {
    throw new InputError(
      `The scaler was fitted on ${scaler.mean.length} columns, the data has ${cols}`,
    );
  }
  return x.map(row =>
    row.map((v, j) => (v - scaler.mean[j]) / scaler.scale[j]),
  );
}

/**
 * Weights and bias that give on raw inputs what (weights, bias) give on
 * standardised ones: w'_j = w_j / scale_j, b' = b - Σ w_j mean_j / scale_j.
 */
export function unstandardizeLinear(
  weights: number[],
  bias: number,
  scaler: StandardScaler,
): { weights: number[]; bias: number } {
  if (weights.length !== scaler.mean.length) {
    throw new InputError(
      `${weights.length} weights for a scaler of ${scaler.mean.length} columns`,
    );
  }
  const raw = weights.map((w, j) => w / scaler.scale[j]);
  const shift = raw.reduce((sum, w, j) => sum + w * scaler.mean[j], 0);
  return { weights: raw, bias: bias - shift };
}

/** Rows and columns of a non-empty rectangular matrix of finite numbers. */
export function checkMatrix(
  x: Matrix,
  what: string,
): { rows: number; cols: number } {
  if (!Array.isArray(x) || x.length === 0) {
    throw new InputError(`${what} has no rows`);
  }
  const cols = x[0].length;
  if (cols === 0) {
    throw new InputError(`${what} has no columns`);
  }
  x.forEach((row, i) => {
    if (row.length !== cols) {
      throw new InputError(
        `${what} row ${i} has ${row.length} values, row 0 has ${cols}`,
      );
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        throw new InputError(
          `${what}[${i}][${j}] is not a finite number: ${v}`,
        );
      }
    });
  });
  return { rows: x.length, cols };
}
