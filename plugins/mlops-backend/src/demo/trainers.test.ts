import { solveLinearSystem } from './linalg';
import {
  fitStandardScaler,
  standardize,
  unstandardizeLinear,
} from './preprocessing';
import {
  predictLinear,
  predictProbability,
  sigmoid,
  trainLogisticRegression,
  trainRidgeRegression,
} from './trainers';
import { createRng } from './random';

describe('solveLinearSystem', () => {
  it('solves a system that needs pivoting', () => {
    // 0·x + 2y = 4, 3x + y = 5 -> x = 1, y = 2
    const x = solveLinearSystem(
      [
        [0, 2],
        [3, 1],
      ],
      [4, 5],
    );
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(2, 12);
  });

  it('throws on a singular matrix', () => {
    expect(() =>
      solveLinearSystem(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toThrow('singular');
  });
});

describe('standard scaler', () => {
  it('uses the population standard deviation and maps constant columns to 0', () => {
    const scaler = fitStandardScaler([
      [1, 5],
      [3, 5],
    ]);
    expect(scaler).toEqual({ mean: [2, 5], scale: [1, 1] });
    expect(
      standardize(
        [
          [1, 5],
          [3, 5],
          [4, 6],
        ],
        scaler,
      ),
    ).toEqual([
      [-1, 0],
      [1, 0],
      [2, 1],
    ]);
    expect(fitStandardScaler([[0], [4]]).scale).toEqual([2]);
  });

  it('folds into raw-scale weights', () => {
    const scaler = { mean: [1, -2], scale: [2, 0.5] };
    const model = { weights: [0.3, -1.2], bias: 0.7 };
    const raw = unstandardizeLinear(model.weights, model.bias, scaler);
    const x = [
      [3, 1],
      [-1, 0.5],
    ];
    const a = predictLinear(model, standardize(x, scaler));
    const b = predictLinear(raw, x);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 12));
  });

  it('rejects ragged and non-finite input', () => {
    expect(() => fitStandardScaler([[1, 2], [1]])).toThrow(
      'row 1 has 1 values',
    );
    expect(() => fitStandardScaler([[NaN]])).toThrow('not a finite number');
    expect(() => fitStandardScaler([])).toThrow('no rows');
  });
});

describe('trainRidgeRegression', () => {
  it('is ordinary least squares at lambda 0 and recovers an exact linear relation', () => {
    // y = 1 + 2a - 3b
    const x = [
      [0, 0],
      [1, 0],
      [0, 1],
      [2, 3],
      [5, -1],
      [-2, 4],
    ];
    const y = x.map(([a, b]) => 1 + 2 * a - 3 * b);
    const model = trainRidgeRegression(x, y, { lambda: 0 });
    expect(model.weights[0]).toBeCloseTo(2, 10);
    expect(model.weights[1]).toBeCloseTo(-3, 10);
    expect(model.bias).toBeCloseTo(1, 10);
  });

  it('shrinks the weights, not the intercept, by the closed form', () => {
    // One feature: w = Σ xc·yc / (Σ xc² + λ) = 10 / (5 + 5) = 1, b = ȳ - x̄·w = 5 - 2.5.
    const model = trainRidgeRegression([[1], [2], [3], [4]], [2, 4, 6, 8], {
      lambda: 5,
    });
    expect(model.weights[0]).toBeCloseTo(1, 12);
    expect(model.bias).toBeCloseTo(2.5, 12);
  });

  it('fits collinear features once lambda > 0', () => {
    const x = [
      [1, 2],
      [2, 4],
      [3, 6],
    ];
    expect(() => trainRidgeRegression(x, [1, 2, 3], { lambda: 0 })).toThrow(
      'collinear',
    );
    const model = trainRidgeRegression(x, [1, 2, 3], { lambda: 0.1 });
    expect(model.weights[0] * 2).toBeCloseTo(model.weights[1], 10);
  });

  it('rejects bad input', () => {
    expect(() => trainRidgeRegression([[1]], [1, 2])).toThrow(
      '2 targets for 1 rows',
    );
    expect(() => trainRidgeRegression([[1]], [1], { lambda: -1 })).toThrow(
      '>= 0',
    );
  });
});

describe('trainLogisticRegression', () => {
  it('takes the gradient step of the log loss from zero weights', () => {
    // p = 0.5 for both rows: dL/dw = ((0.5 - 1)·1 + (0.5 - 0)·(-1)) / 2 = -0.5, dL/db = 0.
    const result = trainLogisticRegression([[1], [-1]], [1, 0], {
      learningRate: 1,
      epochs: 1,
    });
    expect(result.weights).toEqual([0.5]);
    expect(result.bias).toBe(0);
    expect(result.lossHistory).toHaveLength(1);
    expect(result.lossHistory[0]).toBeCloseTo(Math.log1p(Math.exp(-0.5)), 12);
  });

  it('adds the L2 term to the gradient and the loss', () => {
    // Second step with l2 = 1 from w = 0.5 (first step has no L2 gradient at w = 0).
    const result = trainLogisticRegression([[1], [-1]], [1, 0], {
      learningRate: 1,
      epochs: 2,
      l2: 1,
    });
    const p = sigmoid(0.5);
    const expectedW = 0.5 - (p - 1 + 0.5 * 1); // grad = (p - 1) (mean of two equal terms) + l2·w
    expect(result.weights[0]).toBeCloseTo(expectedW, 12);
    expect(result.lossHistory[1]).toBeCloseTo(
      Math.log1p(Math.exp(-expectedW)) + 0.5 * expectedW ** 2,
      12,
    );
  });

  it('learns a noisy linear boundary, its loss going down', () => {
    const rng = createRng(5);
    const x = Array.from({ length: 400 }, () => [rng() * 4 - 2, rng() * 4 - 2]);
    const y = x.map(([a, b]) =>
      a - 0.5 * b + (rng() - 0.5) * 0.5 > 0 ? 1 : 0,
    );
    const result = trainLogisticRegression(x, y, {
      learningRate: 0.5,
      epochs: 300,
      validation: { x: x.slice(0, 50), y: y.slice(0, 50) },
    });
    const { lossHistory } = result;
    expect(lossHistory).toHaveLength(300);
    for (let i = 1; i < lossHistory.length; i++) {
      expect(lossHistory[i]).toBeLessThanOrEqual(lossHistory[i - 1] + 1e-12);
    }
    expect(lossHistory[299]).toBeLessThan(0.25);
    expect(result.validationLossHistory).toHaveLength(300);
    // The boundary's direction: w ∝ (1, -0.5).
    expect(result.weights[0]).toBeGreaterThan(0);
    expect(result.weights[1] / result.weights[0]).toBeCloseTo(-0.5, 1);
    const p = predictProbability(result, x);
    const correct = p.filter((pi, i) => (pi > 0.5 ? 1 : 0) === y[i]).length;
    expect(correct / x.length).toBeGreaterThan(0.95);
  });

  it('shrinks weights with a larger L2 penalty', () => {
    const x = [[1], [2], [-1], [-2], [0.5], [-0.5]];
    const y = [1, 1, 0, 0, 0, 1];
    const weak = trainLogisticRegression(x, y, { epochs: 200, l2: 0 });
    const strong = trainLogisticRegression(x, y, { epochs: 200, l2: 1 });
    expect(Math.abs(strong.weights[0])).toBeLessThan(Math.abs(weak.weights[0]));
  });

  it('rejects bad input', () => {
    expect(() => trainLogisticRegression([[1]], [2])).toThrow(
      'y[0] must be 0 or 1',
    );
    expect(() => trainLogisticRegression([[1]], [1], { epochs: 0 })).toThrow(
      'epochs',
    );
    expect(() =>
      trainLogisticRegression([[1]], [1], { learningRate: 0 }),
    ).toThrow('learningRate');
    expect(() =>
      trainLogisticRegression([[1]], [1], {
        validation: { x: [[1, 2]], y: [1] },
      }),
    ).toThrow('validation x has 2 columns');
  });
});

describe('sigmoid', () => {
  it('is stable at the extremes', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(sigmoid(-2)).toBeCloseTo(1 / (1 + Math.exp(2)), 15);
  });
});
