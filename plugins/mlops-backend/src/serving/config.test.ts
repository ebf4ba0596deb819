import { ConfigReader } from '@backstage/config';
import { readServingConfig } from './config';

describe('readServingConfig', () => {
  it('has defaults, and takes the API body limit when serving has none', () => {
    expect(readServingConfig(new ConfigReader({}))).toEqual({
      jsonBodyLimit: '1mb',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      maxLoadedModels: 16,
      routingCacheTtlMs: 2000,
      permissionCacheTtlMs: 5000,
      preload: false,
    });
    expect(
      readServingConfig(
        new ConfigReader({ mlops: { api: { jsonBodyLimit: '2mb' } } }),
      ).jsonBodyLimit,
    ).toBe('2mb');
  });

  it('reads mlops.serving and refuses nonsense', () => {
    const config = readServingConfig(
      new ConfigReader({
        mlops: {
          serving: {
            jsonBodyLimit: '8mb',
            intraOpNumThreads: 2,
            maxLoadedModels: 4,
            permissionCacheTtlMs: 0,
            preload: true,
          },
        },
      }),
    );
    expect(config).toMatchObject({
      jsonBodyLimit: '8mb',
      intraOpNumThreads: 2,
      maxLoadedModels: 4,
      permissionCacheTtlMs: 0,
      preload: true,
    });
    expect(() =>
      readServingConfig(
        new ConfigReader({ mlops: { serving: { intraOpNumThreads: 0 } } }),
      ),
    ).toThrow('Invalid config mlops.serving.intraOpNumThreads: 0');
  });
});
