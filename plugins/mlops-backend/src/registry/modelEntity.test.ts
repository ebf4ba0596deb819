import { mockCredentials } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { modelEntity } from '../__testUtils__/catalog';
import { catalogModelEntityLookup, requireModelEntity } from './modelEntity';

describe('catalogModelEntityLookup', () => {
  const alice = mockCredentials.user('user:default/alice');

  it('finds Model entities by the lower-cased refs the registry stores', async () => {
    const lookup = catalogModelEntityLookup(
      catalogServiceMock({
        entities: [modelEntity('wine-quality'), modelEntity('churn', 'sales')],
      }),
    );
    expect(await lookup('model:default/wine-quality', alice)).toBe(true);
    expect(await lookup('model:sales/churn', alice)).toBe(true);
    expect(await lookup('model:default/churn', alice)).toBe(false);
    expect(await lookup('model:default/nope', alice)).toBe(false);
  });

  it("asks the catalog with the caller's credentials", async () => {
    const catalog = catalogServiceMock.mock({
      getEntityByRef: jest.fn(async () => undefined),
    });
    const lookup = catalogModelEntityLookup(catalog);
    expect(await lookup('model:default/wine-quality', alice)).toBe(false);
    expect(catalog.getEntityByRef).toHaveBeenCalledWith(
      { kind: 'Model', namespace: 'default', name: 'wine-quality' },
      { credentials: alice },
    );
  });
});

describe('requireModelEntity', () => {
  const ci = mockCredentials.service('external:ci');

  it('passes a model whose Model exists and names both ways to attach one otherwise', async () => {
    const lookup = jest.fn(async (ref: string) => ref === 'model:default/wine');
    await expect(
      requireModelEntity(
        lookup,
        { name: 'wine', entityRef: 'model:default/wine' },
        ci,
      ),
    ).resolves.toBeUndefined();
    expect(lookup).toHaveBeenCalledWith('model:default/wine', ci);

    const refused = requireModelEntity(
      lookup,
      { name: 'beer', entityRef: 'model:default/beer' },
      ci,
    );
    await expect(refused).rejects.toThrow(InputError);
    await expect(refused).rejects.toThrow(
      /no entity model:default\/beer.*add a Model entity named 'beer'.*loopline\.dev\/entity-ref/,
    );
  });
});
