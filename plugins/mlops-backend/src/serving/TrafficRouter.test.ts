import { NotFoundError } from '@backstage/errors';
import { ModelVersion } from '@loopline/mlops-common';
import { ProductionTrafficRouter } from './TrafficRouter';

function setup() {
  let now = 1_000_000;
  const production: Record<string, number | undefined> = {
    wine: 2,
    empty: undefined,
  };
  const getLatestVersions = jest.fn(async (name: string, stages?: string[]) => {
    expect(stages).toEqual(['Production']);
    if (!(name in production)) {
      throw new NotFoundError(`Registered model '${name}' not found`);
    }
    const version = production[name];
    return version === undefined ? [] : [{ name, version } as ModelVersion];
  });
  const onChange = jest.fn();
  const router = new ProductionTrafficRouter({
    registry: { getLatestVersions },
    cacheTtlMs: 2000,
    onChange,
    clock: () => now,
  });
  return {
    router,
    getLatestVersions,
    onChange,
    production,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('ProductionTrafficRouter', () => {
  it('sends requests to the version in Production, asking the registry once per TTL', async () => {
    const { router, getLatestVersions, advance, production, onChange } =
      setup();
    const routes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => router.resolve('wine', `r${i}`)),
    );
    expect(routes.every(r => r.version === 2)).toBe(true);
    expect(getLatestVersions).toHaveBeenCalledTimes(1);

    production.wine = 3;
    advance(1999);
    expect((await router.resolve('wine')).version).toBe(2);
    advance(2);
    expect((await router.resolve('wine')).version).toBe(3);
    expect(getLatestVersions).toHaveBeenCalledTimes(2);
    expect(onChange).toHaveBeenCalledWith('wine', 2, 3);
  });

  it('says when a model has no version in Production, or does not exist, and remembers it for the TTL', async () => {
    const { router, getLatestVersions } = setup();
    await expect(router.resolve('empty')).rejects.toThrow(
      'Model empty has no version in Production',
    );
    const unknown = router.resolve('nope');
    await expect(unknown).rejects.toThrow(NotFoundError);
    await expect(unknown).rejects.toThrow(
      'Model with name nope does not exist.',
    );
    await expect(router.resolve('nope')).rejects.toThrow(NotFoundError);
    expect(getLatestVersions).toHaveBeenCalledTimes(2);
  });

  it('does not keep other failures, and forgets on invalidate', async () => {
    const { router, getLatestVersions, production } = setup();
    getLatestVersions.mockRejectedValueOnce(new Error('database down'));
    await expect(router.resolve('wine')).rejects.toThrow('database down');
    expect((await router.resolve('wine')).version).toBe(2);
    production.wine = 5;
    router.invalidate('wine');
    expect((await router.resolve('wine')).version).toBe(5);
    expect(getLatestVersions).toHaveBeenCalledTimes(3);
  });
});
