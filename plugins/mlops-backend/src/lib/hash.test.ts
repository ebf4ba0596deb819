import { bucketOf, fnv1a32, unitHash } from './hash';

describe('hashes', () => {
  it('computes FNV-1a (32 bit) as published', () => {
    // The reference test vectors of the FNV specification.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('puts keys in buckets 0..99 that stay put within a scope and move between scopes', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const first = keys.map(key => bucketOf('rollout-a', key));
    expect(first.every(b => Number.isInteger(b) && b >= 0 && b < 100)).toBe(
      true,
    );
    expect(keys.map(key => bucketOf('rollout-a', key))).toEqual(first);
    const other = keys.map(key => bucketOf('rollout-b', key));
    expect(other.filter((b, i) => b !== first[i]).length).toBeGreaterThan(900);
    // Roughly uniform: every decile holds some keys.
    for (let decile = 0; decile < 10; decile++) {
      expect(
        first.filter(b => Math.floor(b / 10) === decile).length,
      ).toBeGreaterThan(50);
    }
    expect(bucketOf('rollout-a', 'user-1')).toBe(
      fnv1a32('rollout-a\u0000user-1') % 100,
    );
  });

  it('spreads ids that differ in one digit over [0, 1)', () => {
    const values = Array.from({ length: 2000 }, (_, i) =>
      unitHash(`model\u0000req-${i}`),
    );
    expect(values.every(v => v >= 0 && v < 1)).toBe(true);
    const kept = values.filter(v => v < 0.25).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
  });
});
