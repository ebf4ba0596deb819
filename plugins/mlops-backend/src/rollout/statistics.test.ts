import { erfc, normalCdf, twoProportionZTest } from './statistics';

describe('normalCdf', () => {
  // scipy.stats.norm.cdf(z), scipy 1.17.
  it.each([
    [0, 0.5],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145707],
    [1.96, 0.9750021048517795],
    [-1.96, 0.024997895148220435],
    [2.5758, 0.9949995762622214],
    [3, 0.9986501019683699],
    [6, 0.9999999990134123],
  ])('Φ(%s) = %s within 1e-7', (z, expected) => {
    expect(Math.abs(normalCdf(z) - expected)).toBeLessThan(1e-7);
  });

  it('keeps far tails accurate relative to their size', () => {
    // scipy.stats.norm.cdf(-5) and (-8): absolute error alone would hide a wrong tail.
    expect(normalCdf(-5) / 2.866515718791933e-7).toBeCloseTo(1, 6);
    expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 6);
  });

  it('is monotone, symmetric and bounded', () => {
    let previous = -1;
    for (let z = -10; z <= 10; z += 0.01) {
      const p = normalCdf(z);
      expect(p).toBeGreaterThanOrEqual(previous);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p + normalCdf(-z)).toBeCloseTo(1, 12);
      previous = p;
    }
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
  });

  it('rests on an erfc that matches known values', () => {
    // math.erfc in Python.
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1) / 0.15729920705028513).toBeCloseTo(1, 6);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 7);
    expect(Number.isNaN(erfc(NaN))).toBe(true);
  });
});

describe('twoProportionZTest', () => {
  // z and two-sided p from the pooled formula, p = 2·scipy.stats.norm.sf(|z|).
  it.each([
    [200, 1000, 250, 1000, 2.677397763008329, 0.007419649261025687],
    [45, 100, 56, 100, 1.5557127061904528, 0.11977642377972286],
    [120, 1000, 100, 1000, -1.4293008498232314, 0.1529177818639462],
    [1000, 10000, 1100, 10000, 2.3066347738170103, 0.021075189273797826],
    [10, 10, 0, 10, -4.47213595499958, 7.74421643104407e-6],
  ])(
    '%s/%s vs %s/%s → z %s, p %s',
    (successesA, totalA, successesB, totalB, zScore, pValue) => {
      const result = twoProportionZTest({
        successesA,
        totalA,
        successesB,
        totalB,
      });
      expect(result.rateA).toBeCloseTo(successesA / totalA, 12);
      expect(result.rateB).toBeCloseTo(successesB / totalB, 12);
      expect(result.difference).toBeCloseTo(
        successesB / totalB - successesA / totalA,
        12,
      );
      expect(result.zScore).toBeCloseTo(zScore, 9);
      // Relative, so the small p-values are checked as closely as the large.
      expect(result.pValue / pValue).toBeCloseTo(1, 5);
    },
  );

  it('reports equal rates as z 0 and p 1', () => {
    expect(
      twoProportionZTest({
        successesA: 30,
        totalA: 200,
        successesB: 30,
        totalB: 200,
      }),
    ).toEqual({
      rateA: 0.15,
      rateB: 0.15,
      difference: 0,
      zScore: 0,
      pValue: 1,
    });
  });

  it('is never NaN: no trials, no variance, nonsense counts', () => {
    const cases = [
      { successesA: 0, totalA: 0, successesB: 0, totalB: 0 },
      { successesA: 0, totalA: 0, successesB: 5, totalB: 10 },
      { successesA: 0, totalA: 50, successesB: 0, totalB: 80 },
      { successesA: 50, totalA: 50, successesB: 80, totalB: 80 },
      { successesA: NaN, totalA: 10, successesB: 1, totalB: -4 },
    ];
    for (const input of cases) {
      const result = twoProportionZTest(input);
      for (const value of Object.values(result)) {
        expect(Number.isFinite(value)).toBe(true);
      }
      expect(result.zScore).toBe(0);
      expect(result.pValue).toBe(1);
    }
    expect(
      twoProportionZTest({
        successesA: 0,
        totalA: 0,
        successesB: 5,
        totalB: 10,
      }),
    ).toMatchObject({ rateA: 0, rateB: 0.5, difference: 0.5 });
    expect(
      twoProportionZTest({
        successesA: 50,
        totalA: 50,
        successesB: 80,
        totalB: 80,
      }),
    ).toMatchObject({ rateA: 1, rateB: 1, difference: 0 });
  });

  it('clamps more successes than trials to the trials', () => {
    const result = twoProportionZTest({
      successesA: 30,
      totalA: 20,
      successesB: 10,
      totalB: 20,
    });
    expect(result.rateA).toBe(1);
    expect(result.rateB).toBe(0.5);
    expect(result.zScore).toBeLessThan(0);
  });
});
