import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { modelEntity } from '../__testUtils__/catalog';
import { catalogModelEntityLookup, requireModelEntity } from './modelEntity';

describe('catalogModelEntityLookup', () => {
  const auth = mockServices.auth({ pluginId: 'mlops' });

  it('finds Model entities by the lower-cased refs the registry stores', async () => {
    const lookup = catalogModelEntityLookup(
      catalogServiceMock({
        entities: [modelEntity('wine-quality'), modelEntity('churn', 'sales')],
      }),
      auth,
    );
    expect(await lookup('model:default/wine-quality')).toBe(true);
    expect(await lookup('model:sales/churn')).toBe(true);
    expect(await lookup('model:default/churn')).toBe(false);
    expect(await lookup('model:default/nope')).toBe(false);
  });

  it("asks the catalog with the plugin's own credentials", async () => {
    const catalog = catalogServiceMock.mock({
      getEntityByRef: jest.fn(async () => undefined),
    });
    const lookup = catalogModelEntityLookup(catalog, auth);
    expect(await lookup('model:default/wine-quality')).toBe(false);
    expect(catalog.getEntityByRef).toHaveBeenCalledWith(
      { kind: 'Model', namespace: 'default', name: 'wine-quality' },
      { credentials: mockCredentials.service('plugin:mlops') },
    );
  });
});

describe('requireModelEntity', () => {
  it('passes a model whose Model exists and names both ways to attach one otherwise', async () => {
    const lookup = jest.fn(async (ref: string) => ref === 'model:default/wine');
    await expect(
      requireModelEntity(lookup, {
        name: 'wine',
        entityRef: 'model:default/wine',
      }),
    ).resolves.toBeUndefined();
    expect(lookup).toHaveBeenCalledWith('model:default/wine');

    const refused = requireModelEntity(lookup, {
      name: 'beer',
      entityRef: 'model:default/beer',
    });
    await expect(refused).rejects.toThrow(InputError);
    await expect(refused).rejects.toThrow(
      /no entity model:default\/beer.*add a Model entity named 'beer'.*loopline\.dev\/entity-ref/,
    );
  });
});
