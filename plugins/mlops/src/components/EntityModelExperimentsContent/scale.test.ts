import { linearScale, niceAxis, thin } from './scale';

describe('niceAxis', () => {
  it('rounds the domain out to ticks at 1, 2 or 5 times a power of ten', () => {
    expect(niceAxis(0.61, 0.92)).toEqual({
      min: 0.6,
      max: 0.95,
      ticks: [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    });
    expect(niceAxis(0.2, 0.9).ticks).toEqual([
      0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
    ]);
    expect(niceAxis(0, 99, { integer: true })).toEqual({
      min: 0,
      max: 100,
      ticks: [0, 20, 40, 60, 80, 100],
    });
    expect(niceAxis(-3, 7).ticks).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('widens a single value and keeps integer axes integer', () => {
    expect(niceAxis(0, 0, { integer: true }).ticks).toEqual([-1, 0, 1]);
    expect(niceAxis(0, 3, { integer: true }).ticks).toEqual([0, 1, 2, 3]);
    const single = niceAxis(0.5, 0.5);
    expect(single.min).toBeLessThan(0.5);
    expect(single.max).toBeGreaterThan(0.5);
  });

  it('has no floating point noise in its ticks', () => {
    for (const tick of niceAxis(0.1, 0.7).ticks) {
      expect(String(tick).length).toBeLessThanOrEqual(4);
    }
  });
});

describe('linearScale', () => {
  it('maps a domain onto pixels, also inverted', () => {
    const y = linearScale({ min: 0, max: 10 }, 200, 0);
    expect(y(0)).toBe(200);
    expect(y(10)).toBe(0);
    expect(y(2.5)).toBe(150);
  });
});

describe('thin', () => {
  it('keeps short series and spreads long ones, first and last included', () => {
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
    const points = Array.from({ length: 10_000 }, (_, index) => index);
    const thinned = thin(points, 1000);
    expect(thinned).toHaveLength(1000);
    expect(thinned[0]).toBe(0);
    expect(thinned[999]).toBe(9999);
  });
});
