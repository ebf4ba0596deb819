import {
  accuracy,
  confusion,
  f1,
  logLoss,
  mae,
  mse,
  precision,
  precisionAtFraction,
  r2,
  recall,
  rmse,
  rocAuc,
  threshold,
} from './metrics';

describe('regression metrics', () => {
  // scikit-learn's documented examples.
  const actual = [3, -0.5, 2, 7];
  const predicted = [2.5, 0.0, 2, 8];

  it('match scikit-learn', () => {
    expect(mse(actual, predicted)).toBeCloseTo(0.375, 12);
    expect(rmse(actual, predicted)).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(mae(actual, predicted)).toBeCloseTo(0.5, 12);
    expect(r2(actual, predicted)).toBeCloseTo(0.9486081370449679, 12);
  });

  it('give exact values on small cases', () => {
    expect(rmse([1, 2, 3], [1, 2, 5])).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(mae([1, 2, 3], [1, 2, 5])).toBeCloseTo(2 / 3, 12);
    expect(r2([1, 2, 3], [2, 2, 2])).toBe(0);
    expect(r2([1, 2, 3], [3, 2, 1])).toBe(-3);
    expect(r2([5, 5], [5, 5])).toBe(1);
    expect(r2([5, 5], [4, 5])).toBe(0);
  });

  it('reject mismatched or empty input', () => {
    expect(() => rmse([1], [1, 2])).toThrow(
      '1 actual values but 2 predictions',
    );
    expect(() => mae([], [])).toThrow('at least one value');
  });
});

describe('classification metrics', () => {
  const actual = [0, 1, 1, 0, 1, 1];
  const predicted = [0, 1, 0, 0, 1, 1];

  it('count the confusion matrix and derive precision, recall, f1, accuracy', () => {
    expect(confusion(actual, predicted)).toEqual({
      tp: 3,
      fp: 0,
      tn: 2,
      fn: 1,
    });
    expect(accuracy(actual, predicted)).toBeCloseTo(5 / 6, 12);
    expect(precision(actual, predicted)).toBe(1);
    expect(recall(actual, predicted)).toBe(0.75);
    expect(f1(actual, predicted)).toBeCloseTo(6 / 7, 12);
    // No true positive at all.
    expect(f1([0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1])).toBe(0);
  });

  it('return 0 where the ratio is 0/0', () => {
    expect(precision([1, 0], [0, 0])).toBe(0);
    expect(recall([0, 0], [1, 0])).toBe(0);
    expect(f1([0, 0], [0, 0])).toBe(0);
  });

  it('compute ROC AUC like scikit-learn, ties counting half', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0, 1, 1], [0.2, 0.9, 0.3])).toBe(1);
    expect(rocAuc([1, 0], [0.2, 0.9])).toBe(0);
    // Pairs (pos, neg): (0.8>0.4), (0.8>0.1), (0.4=0.4 half), (0.4>0.1) -> 3.5 / 4.
    expect(rocAuc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1])).toBeCloseTo(0.875, 12);
    expect(() => rocAuc([1, 1], [0.2, 0.3])).toThrow(
      'one positive and one negative',
    );
  });

  it('compute log loss', () => {
    expect(logLoss([1, 0], [0.8, 0.4])).toBeCloseTo(
      -(Math.log(0.8) + Math.log(0.6)) / 2,
      12,
    );
    expect(Number.isFinite(logLoss([1], [0]))).toBe(true);
  });

  it('compute precision among the top-scored fraction', () => {
    const y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
    expect(precisionAtFraction(y, scores, 0.1)).toBe(1);
    expect(precisionAtFraction(y, scores, 0.3)).toBeCloseTo(2 / 3, 12);
    expect(precisionAtFraction(y, scores, 1)).toBeCloseTo(0.3, 12);
    expect(() => precisionAtFraction(y, scores, 0)).toThrow('(0, 1]');
  });

  it('threshold probabilities', () => {
    expect(threshold([0.2, 0.5, 0.51])).toEqual([0, 0, 1]);
    expect(threshold([0.2, 0.5], 0.1)).toEqual([1, 1]);
  });

  it('reject labels other than 0 and 1', () => {
    expect(() => accuracy([0, 2], [0, 2])).not.toThrow();
    expect(() => precision([0, 2], [0, 1])).toThrow('actual[1] must be 0 or 1');
  });
});
