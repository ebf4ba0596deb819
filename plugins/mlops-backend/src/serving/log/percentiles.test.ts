import { latencyPercentiles, quantileSorted } from './percentiles';
import {
  REFERENCE_ALL,
  REFERENCE_FIRST_23,
  REFERENCE_LAST_14,
  REFERENCE_LATENCIES,
} from './__testUtils__/latencies';

describe('percentiles', () => {
  it('matches numpy.percentile (linear) on a reference sample', () => {
    const expectClose = (
      actual: ReturnType<typeof latencyPercentiles>,
      expected: typeof REFERENCE_ALL,
    ) => {
      expect(actual.p50).toBeCloseTo(expected.p50, 9);
      expect(actual.p95).toBeCloseTo(expected.p95, 9);
      expect(actual.p99).toBeCloseTo(expected.p99, 9);
    };
    expectClose(latencyPercentiles(REFERENCE_LATENCIES), REFERENCE_ALL);
    expectClose(
      latencyPercentiles(REFERENCE_LATENCIES.slice(0, 23)),
      REFERENCE_FIRST_23,
    );
    expectClose(
      latencyPercentiles(REFERENCE_LATENCIES.slice(23)),
      REFERENCE_LAST_14,
    );
  });

  it('interpolates between closest ranks', () => {
    // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) = [2.5, 3.85, 3.97]
    expect(latencyPercentiles([4, 1, 3, 2])).toEqual({
      p50: 2.5,
      p95: expect.closeTo(3.85, 12),
      p99: expect.closeTo(3.97, 12),
    });
    expect(quantileSorted([7], 0.99)).toBe(7);
    expect(quantileSorted([1, 2], 0)).toBe(1);
    expect(quantileSorted([1, 2], 1)).toBe(2);
  });

  it('has nothing to say about no values and ignores non-finite ones', () => {
    expect(latencyPercentiles([])).toEqual({});
    expect(quantileSorted([], 0.5)).toBeUndefined();
    expect(quantileSorted([1], 1.5)).toBeUndefined();
    expect(latencyPercentiles([NaN, Infinity, 5])).toEqual({
      p50: 5,
      p95: 5,
      p99: 5,
    });
  });
});
