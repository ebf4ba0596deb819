import { TtlCache } from './TtlCache';

describe('TtlCache', () => {
  let now = 0;
  const clock = () => now;

  it('shares one lookup among concurrent callers and keeps the value for the TTL', async () => {
    const cache = new TtlCache<number>({ ttlMs: 100, clock });
    const load = jest.fn(async () => 42);
    expect(
      await Promise.all([cache.get('k', load), cache.get('k', load)]),
    ).toEqual([42, 42]);
    now += 99;
    await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(1);
    now += 2;
    await cache.get('k', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps only the errors it is told to keep', async () => {
    const cache = new TtlCache<number>({
      ttlMs: 100,
      clock,
      cacheError: e => (e as Error).message === 'not found',
    });
    const missing = jest.fn(async () => {
      throw new Error('not found');
    });
    await expect(cache.get('a', missing)).rejects.toThrow('not found');
    await expect(cache.get('a', missing)).rejects.toThrow('not found');
    expect(missing).toHaveBeenCalledTimes(1);
    const flaky = jest
      .fn()
      .mockRejectedValueOnce(new Error('down'))
      .mockResolvedValue(1);
    await expect(cache.get('b', flaky)).rejects.toThrow('down');
    expect(await cache.get('b', flaky)).toBe(1);
  });

  it('bounds its size, dropping the oldest entries', async () => {
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 2, clock });
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => 1);
    expect(cache.size).toBe(2);
    const load = jest.fn(async () => 2);
    expect(await cache.get('a', load)).toBe(2);
    cache.invalidate();
    expect(cache.size).toBe(0);
  });
});
