import { createRng, pick, shuffle, trainTestSplit } from './random';

describe('createRng', () => {
  it('is deterministic per seed and uniform in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs.slice(0, 5));
    expect(xs.every(x => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    // Each tenth of [0, 1) gets about 1000 of the 10000 draws.
    const bins = new Array(10).fill(0);
    xs.forEach(x => bins[Math.floor(x * 10)]++);
    bins.forEach(count => expect(Math.abs(count - 1000)).toBeLessThan(100));
  });

  it('rejects a non-finite seed', () => {
    expect(() => createRng(NaN)).toThrow('finite');
  });
});

describe('shuffle', () => {
  it('permutes a copy', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = shuffle(items, createRng(1));
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(items[0]).toBe(0);
  });
});

describe('trainTestSplit', () => {
  it('splits disjointly and reproducibly', () => {
    const split = trainTestSplit(100, { testFraction: 0.2, seed: 7 });
    expect(split.test).toHaveLength(20);
    expect(split.train).toHaveLength(80);
    expect(new Set([...split.train, ...split.test]).size).toBe(100);
    expect(trainTestSplit(100, { testFraction: 0.2, seed: 7 })).toEqual(split);
    expect(
      trainTestSplit(100, { testFraction: 0.2, seed: 8 }).test,
    ).not.toEqual(split.test);
    expect(split.test).toEqual([...split.test].sort((a, b) => a - b));
  });

  it('keeps class proportions when stratified', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));
    const split = trainTestSplit(100, {
      testFraction: 0.2,
      seed: 3,
      stratify: labels,
    });
    expect(pick(labels, split.test).filter(l => l === 1)).toHaveLength(6);
    expect(pick(labels, split.train).filter(l => l === 1)).toHaveLength(24);
  });

  it('leaves at least one row on each side', () => {
    const two = trainTestSplit(2, { testFraction: 0.01 });
    expect(two.train).toHaveLength(1);
    expect(two.test).toHaveLength(1);
    const split = trainTestSplit(3, { testFraction: 0.99 });
    expect(split.train).toHaveLength(1);
    expect(split.test).toHaveLength(2);
  });

  it('rejects bad arguments', () => {
    expect(() => trainTestSplit(1)).toThrow('at least 2 rows');
    expect(() => trainTestSplit(10, { testFraction: 1 })).toThrow(
      'between 0 and 1',
    );
    expect(() => trainTestSplit(10, { stratify: [1, 0] })).toThrow(
      '2 labels for 10 rows',
    );
  });
});
