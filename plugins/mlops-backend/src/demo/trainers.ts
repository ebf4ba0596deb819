import { InputError } from '@backstage/errors';
import { solveLinearSystem } from './linalg';
import { checkMatrix, Matrix } from './preprocessing';

/** A linear model: prediction (or logit) = x · weights + bias. */
export interface LinearModel {
  weights: number[];
  bias: number;
}

export interface RidgeOptions {
  /** L2 penalty λ on the weights (not the intercept), as in min ||y - Xw - b||² + λ||w||². Default 1. */
  lambda?: number;
}

/**
 * Ridge regression (ordinary least squares when λ = 0) in closed form: the
 * normal equations (XcᵀXc + λI) w = Xcᵀyc on centred data, then
 * b = mean(y) - mean(x) · w, so the intercept is not penalised.
 */
export function trainRidgeRegression(
  x: Matrix,
  y: number[],
  options: RidgeOptions = {},
): LinearModel {
  const lambda = options.lambda ?? 1;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new InputError(
      `The ridge penalty lambda must be >= 0, got ${lambda}`,
    );
  }
  const { rows, cols } = checkMatrix(x, 'x');
  checkTargets(y, rows);
  const xMean = new Array<number>(cols).fill(0);
  for (const row of x) for (let j = 0; j < cols; j++) xMean[j] += row[j] / rows;
  const yMean = y.reduce((s, v) => s + v, 0) / rows;

  const gram = Array.from({ length: cols }, () =>
    new Array<number>(cols).fill(0),
  );
  const rhs = new Array<number>(cols).fill(0);
  x.forEach((row, i) => {
    const centred = row.map((v, j) => v - xMean[j]);
    const yc = y[i] - yMean;
    for (let a = 0; a < cols; a++) {
      rhs[a] += centred[a] * yc;
      for (let b = a; b < cols; b++) gram[a][b] += centred[a] * centred[b];
    }
  });
  for (let a = 0; a < cols; a++) {
    gram[a][a] += lambda;
    for (let b = 0; b < a; b++) gram[a][b] = gram[b][a];
  }
  const weights = solveLinearSystem(gram, rhs);
  const bias = yMean - weights.reduce((s, w, j) => s + w * xMean[j], 0);
  return { weights, bias };
}

/** x · weights + bias for each row. */
export function predictLinear(model: LinearModel, x: Matrix): number[] {
  return x.map(row => {
    if (row.length !== model.weights.length) {
      throw new InputError(
        `A row has ${row.length} values, the model has ${model.weights.length} weights`,
      );
    }
    return row.reduce((s, v, j) => s + v * model.weights[j], model.bias);
  });
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** P(class 1) for each row. */
export function predictProbability(model: LinearModel, x: Matrix): number[] {
  return predictLinear(model, x).map(sigmoid);
}

export interface LogisticRegressionOptions {
  /** Gradient descent step size. Default 0.1. */
  learningRate?: number;
  /** Full passes over the training data (one gradient step each). Default 100. */
  epochs?: number;
  /** L2 penalty on the weights (not the bias): loss += l2/2 · ||w||². Default 0. */
  l2?: number;
  /** Data to compute a validation loss on after each epoch. */
  validation?: { x: Matrix; y: number[] };
}

export interface LogisticRegressionResult extends LinearModel {
  /** Training loss (mean log loss + the L2 term) after each epoch; lossHistory[e] is after epoch e + 1. */
  lossHistory: number[];
  /** Mean log loss on the validation data after each epoch (when given). */
  validationLossHistory?: number[];
}

/**
 * Binary logistic regression by full-batch gradient descent from zero
 * weights, minimising mean log loss + l2/2 · ||w||². Targets are 0 or 1.
 */
export function trainLogisticRegression(
  x: Matrix,
  y: number[],
  options: LogisticRegressionOptions = {},
): LogisticRegressionResult {
  const learningRate = options.learningRate ?? 0.1;
  const epochs = options.epochs ?? 100;
  const l2 = options.l2 ?? 0;
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new InputError(`learningRate must be > 0, got ${learningRate}`);
  }
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1_000_000) {
    throw new InputError(
      `epochs must be an integer from 1 to 1000000, got ${epochs}`,
    );
  }
  if (!(l2 >= 0) || !Number.isFinite(l2)) {
    throw new InputError(`l2 must be >= 0, got ${l2}`);
  }
  const { rows, cols } = checkMatrix(x, 'x');
  checkBinaryTargets(y, rows, 'y');
  if (options.validation) {
    const { cols: vCols } = checkMatrix(options.validation.x, 'validation x');
    if (vCols !== cols) {
      throw new InputError(`validation x has ${vCols} columns, x has ${cols}`);
    }
    checkBinaryTargets(
      options.validation.y,
      options.validation.x.length,
      'validation y',
    );
  }

  const model: LinearModel = {
    weights: new Array<number>(cols).fill(0),
    bias: 0,
  };
  const lossHistory: number[] = [];
  const validationLossHistory: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gradW = new Array<number>(cols).fill(0);
    let gradB = 0;
    x.forEach((row, i) => {
      const error = sigmoid(dot(model.weights, row) + model.bias) - y[i];
      for (let j = 0; j < cols; j++) gradW[j] += error * row[j];
      gradB += error;
    });
    for (let j = 0; j < cols; j++) {
      model.weights[j] -=
        learningRate * (gradW[j] / rows + l2 * model.weights[j]);
    }
    model.bias -= learningRate * (gradB / rows);

    const penalty = (l2 / 2) * model.weights.reduce((s, w) => s + w * w, 0);
    lossHistory.push(meanLogLoss(model, x, y) + penalty);
    if (options.validation) {
      validationLossHistory.push(
        meanLogLoss(model, options.validation.x, options.validation.y),
      );
    }
  }
  const result: LogisticRegressionResult = {
    weights: model.weights,
    bias: model.bias,
    lossHistory,
  };
  if (options.validation) {
    result.validationLossHistory = validationLossHistory;
  }
  return result;
}

function meanLogLoss(model: LinearModel, x: Matrix, y: number[]): number {
  let sum = 0;
  x.forEach((row, i) => {
    const z = dot(model.weights, row) + model.bias;
    // log(1 + e^-z) for y = 1 and log(1 + e^z) for y = 0, computed stably.
    const margin = y[i] === 1 ? z : -z;
    sum +=
      margin > 0
        ? Math.log1p(Math.exp(-margin))
        : -margin + Math.log1p(Math.exp(margin));
  });
  return sum / x.length;
}

function dot(w: number[], x: number[]): number {
  let s = 0;
  for (let j = 0; j < w.length; j++) s += w[j] * x[j];
  return s;
}

function checkTargets(y: number[], rows: number) {
  if (y.length !== rows) {
    throw new InputError(`${y.length} targets for ${rows} rows`);
  }
  y.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new InputError(`y[${i}] is not a finite number: ${v}`);
  });
}

function checkBinaryTargets(y: number[], rows: number, what: string) {
  if (y.length !== rows) {
    throw new InputError(`${y.length} values in ${what} for ${rows} rows`);
  }
  y.forEach((v, i) => {
    if (v !== 0 && v !== 1)
      throw new InputError(`${what}[${i}] must be 0 or 1, got ${v}`);
  });
}
