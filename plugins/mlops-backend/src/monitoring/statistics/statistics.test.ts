/**
 * The drift statistics against scipy. The fixture values in
 * `__fixtures__/scipy.json` were computed with scipy 1.17.1 / numpy 2.4 by
 * `__fixtures__/make_fixtures.py` (checked in beside them); large samples are
 * rebuilt here from the same integer formulas instead of being stored.
 * Tolerances are the issue's: statistics 1e-9, p-values 1e-6 relative or
 * 1e-12 absolute.
 */
import type { DriftTestMethod } from '@loopline/mlops-common';
import fixtures from './__fixtures__/scipy.json';
import {
  Adwin,
  compareColumns,
  defaultMethod,
  kolmogornSf,
  ks2samp,
  profileColumn,
  reservoirSample,
} from '.';

function series(spec: (number | null)[]): number[] {
  const [n, a, p, offset, modulo] = spec as [
    number,
    number,
    number,
    number,
    number | null,
  ];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // (i·a) % p with BigInt: i·a can pass 2^53 for the largest series.
    let v = Number((BigInt(i) * BigInt(a)) % BigInt(p));
    if (modulo) v %= modulo;
    out.push(v + offset);
  }
  return out;
}

const sorted = (values: number[]) => Float64Array.from(values).sort();

function expectStatistic(actual: number, expected: number) {
  const err = Math.abs(actual - expected);
  expect(err <= 1e-9 * Math.max(1, Math.abs(expected))).toBe(true);
}

function expectPValue(actual: number, expected: number) {
  const err = Math.abs(actual - expected);
  const ok = err <= 1e-12 || err <= 1e-6 * Math.abs(expected);
  if (!ok)
    throw new Error(`p-value ${actual} differs from scipy's ${expected}`);
}

describe('ks2samp', () => {
  it.each(fixtures.ksLiteral.map(f => [f.name, f] as const))(
    'agrees with scipy on %s',
    (_, f) => {
      const r = ks2samp(sorted(f.a), sorted(f.b));
      expectStatistic(r.statistic, f.statistic);
      expectPValue(r.pValue, f.pValue);
    },
  );

  it.each(fixtures.ksGenerated.map(f => [f.name, f] as const))(
    'agrees with scipy on %s',
    (_, f) => {
      const a = series(f.a);
      const b = series(f.b);
      const r = ks2samp(sorted(a), sorted(b));
      expect(r.method).toBe(
        Math.max(a.length, b.length) <= 10000 &&
          f.name !== 'equal_1000_tiny_shift'
          ? 'exact'
          : 'asymp',
      );
      expectStatistic(r.statistic, f.statistic);
      expectPValue(r.pValue, f.pValue);
    },
  );

  it('refuses an empty sample', () => {
    expect(() => ks2samp(new Float64Array(), sorted([1]))).toThrow();
  });
});

describe('kolmogornSf (scipy.stats.kstwo.sf)', () => {
  it('agrees with scipy over every branch', () => {
    const failures = fixtures.kstwo.filter(({ n, x, sf }) => {
      const actual = kolmogornSf(n, x);
      const err = Math.abs(actual - sf);
      return !(err <= 1e-12 || err <= 1e-6 * sf);
    });
    expect(failures).toEqual([]);
  });
});

describe('distances (Evidently over numpy/scipy)', () => {
  const cases = fixtures.ksGenerated.filter(f => f.distances);
  it.each(cases.map(f => [f.name, f] as const))('agree on %s', (_, f) => {
    const a = series(f.a);
    const b = series(f.b);
    const methods = ['psi', 'kl_div', 'jensenshannon', 'wasserstein'] as const;
    for (const method of methods) {
      const report = compareColumns(
        { x: a },
        { x: b },
        { methods: { x: method } },
      );
      expectStatistic(
        report.features[0].statistic!,
        (f.distances as Record<string, number>)[method],
      );
    }
  });
});

describe('categorical tests', () => {
  it.each(fixtures.categorical.map(f => [f.name, f] as const))(
    'agree with scipy on %s',
    (_, f) => {
      const test = f.chisquare ? 'chisquare' : 'z';
      const report = compareColumns(
        { c: f.reference },
        { c: f.current },
        { methods: { c: test } },
      );
      const feature = report.features[0];
      const [statistic, pValue] = (
        (f.chisquare ?? f.z) as (number | string)[]
      ).map(Number);
      if (Number.isFinite(statistic)) {
        expectStatistic(Math.abs(feature.statistic!), Math.abs(statistic));
      } else {
        expect(feature.statistic).toBe(Infinity);
      }
      expectPValue(feature.pValue!, pValue);
      if (f.distances) {
        for (const [method, value] of Object.entries(f.distances)) {
          const r = compareColumns(
            { c: f.reference },
            { c: f.current },
            { methods: { c: method as DriftTestMethod } },
          );
          expectStatistic(r.features[0].statistic!, value as number);
        }
      }
      if (f.name === 'new_category') {
        expect(feature.status).toBe('new_category');
        expect(feature.drifted).toBe(true);
      }
    },
  );
});

describe("Evidently's automatic choice", () => {
  const numbers = (n: number, unique: number) =>
    Array.from({ length: n }, (_, i) => i % unique);
  const choose = (ref: (number | string)[], cur: (number | string)[]) =>
    defaultMethod(profileColumn(ref), profileColumn(cur));

  it('uses the reference row count (≤ 1000 or more) and the distinct values of both', () => {
    expect(choose(numbers(1000, 6), numbers(50, 6))).toBe('ks');
    expect(choose(numbers(1001, 6), numbers(50, 6))).toBe('wasserstein');
    expect(choose(numbers(1000, 5), numbers(50, 5))).toBe('chisquare');
    expect(choose(numbers(1000, 2), numbers(50, 2))).toBe('z');
    expect(choose(numbers(1000, 2), numbers(50, 3))).toBe('chisquare');
    expect(choose(numbers(1000, 5), [7, 8])).toBe('ks'); // 7 together
    expect(choose(numbers(1001, 5), numbers(50, 5))).toBe('jensenshannon');
    expect(choose(['a', 'b', 'c'], ['a'])).toBe('chisquare');
    expect(choose(['a', 'b'], ['a'])).toBe('z');
    expect(choose(Array(1001).fill('a'), ['b'])).toBe('jensenshannon');
  });

  it('decides dataset drift by share ≥ driftShare and names the method and threshold', () => {
    const ref = numbers(200, 50);
    const report = compareColumns(
      { a: ref, b: ref, c: ref, d: ref },
      {
        a: ref.map(v => v + 30),
        b: ref.map(v => v + 30),
        c: ref,
        d: ref,
      },
    );
    expect(report.features.map(f => [f.name, f.method, f.drifted])).toEqual([
      ['a', 'ks', true],
      ['b', 'ks', true],
      ['c', 'ks', false],
      ['d', 'ks', false],
    ]);
    expect(report.shareOfDriftedColumns).toBe(0.5);
    expect(report.datasetDrift).toBe(true); // ≥, not >
    expect(
      compareColumns(
        { a: ref, b: ref },
        { a: ref.map(v => v + 30), b: ref },
        { driftShare: 0.6 },
      ).datasetDrift,
    ).toBe(false);
    expect(report.features[0]).toMatchObject({
      threshold: 0.05,
      direction: 'p_value',
    });
  });

  it('applies Bonferroni as Alibi Detect: threshold / number of features', () => {
    const ref = numbers(200, 50);
    const shifted = ref.map((v, i) => (i % 5 === 0 ? v + 20 : v));
    const p = compareColumns({ a: ref }, { a: shifted }).features[0].pValue!;
    // A threshold just above p: drifted alone, not once halved for two features.
    const thresholds = { a: p * 1.5, b: 0.05 };
    const plain = compareColumns(
      { a: ref, b: ref },
      { a: shifted, b: ref },
      { thresholds },
    );
    expect(plain.features[0].drifted).toBe(true);
    const corrected = compareColumns(
      { a: ref, b: ref },
      { a: shifted, b: ref },
      { thresholds, correction: 'bonferroni' },
    );
    expect(corrected.features[0]).toMatchObject({
      threshold: p * 0.75,
      drifted: false,
    });
    expect(corrected.correction).toBe('bonferroni');
  });
});

describe('bad data is a status, never a crash', () => {
  it('reports each kind of bad column and tests the rest', () => {
    const good = Array.from({ length: 50 }, (_, i) => i);
    const report = compareColumns(
      {
        good,
        empty: [null, null],
        constant: Array(50).fill(3),
        nans: [...good, NaN, Infinity, null],
        missing: good,
        schema: good,
        color: ['red', 'white', 'red', 'red'],
      },
      {
        good,
        empty: [null],
        constant: Array(40).fill(3),
        nans: [...good, null],
        schema: good.map(String),
        color: ['red', 'white', 'pink', 'red'],
        extra: good,
      },
      { minCount: 3 },
    );
    const status = Object.fromEntries(
      report.features.map(f => [f.name, f.status]),
    );
    expect(status).toEqual({
      good: 'ok',
      empty: 'empty',
      constant: 'constant',
      nans: 'missing_values',
      missing: 'missing_in_current',
      schema: 'schema_mismatch',
      color: 'new_category',
      extra: 'schema_mismatch',
    });
    const constant = report.features.find(f => f.name === 'constant')!;
    expect(constant.pValue).toBe(1);
    expect(report.numberOfColumns).toBe(4); // good, constant, nans, color
  });

  it('says insufficient data below the minimum', () => {
    const report = compareColumns(
      { a: [1, 2, 3] },
      { a: [1] },
      { minCount: 2 },
    );
    expect(report.features[0].status).toBe('insufficient_data');
    expect(report.datasetDrift).toBe(false);
  });
});

describe('ADWIN (river)', () => {
  it("finds the change of river's docstring example at index 1023", () => {
    const adwin = new Adwin();
    const detections: number[] = [];
    fixtures.adwinStream.forEach((value, i) => {
      adwin.update(value);
      if (adwin.driftDetected) detections.push(i);
    });
    expect(detections).toEqual([1023]);
  });

  it('keeps no change on a stationary stream and survives a store/restore', () => {
    const adwin = new Adwin();
    for (let i = 0; i < 500; i++) adwin.update(i % 2);
    const restored = new Adwin({}, adwin.state());
    let detected = false;
    for (let i = 0; i < 500; i++) {
      restored.update(i % 2);
      detected ||= restored.driftDetected;
    }
    expect(detected).toBe(false);
    expect(restored.estimation).toBeCloseTo(0.5, 10);
  });
});

describe('reservoir sampling', () => {
  it('is reproducible for a seed and keeps every item while the stream fits', () => {
    const items = Array.from({ length: 10000 }, (_, i) => i);
    const a = reservoirSample(items, 100, 42);
    expect(a).toHaveLength(100);
    expect(reservoirSample(items, 100, 42)).toEqual(a);
    expect(reservoirSample(items, 100, 43)).not.toEqual(a);
    expect(reservoirSample(items.slice(0, 50), 100, 42)).toEqual(
      items.slice(0, 50),
    );
    // Uniform: the sample's mean is near the stream's (4999.5; sd of mean ≈ 289).
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 4999.5)).toBeLessThan(1500);
  });
});
