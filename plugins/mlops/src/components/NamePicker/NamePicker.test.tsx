import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import {
  mockApis,
  MockFetchApi,
  registerMswTestHooks,
  TestApiRegistry,
} from '@backstage/test-utils';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { screen } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { mlopsApiRef, MlopsClient } from '../../api';
import { catalogEntities } from '../../__testUtils__/entities';
import { wineQualityRegistered } from '../../__testUtils__/registry';
import { renderInCatalog } from '../../__testUtils__/render';
import { NamePicker, validateName } from './NamePicker';
import type { NamePickerUiOptions } from './nameProblems';

const UI_OPTIONS = {
  entityRefs: [
    'model:default/{name}',
    'pipeline:default/{name}-training',
    'component:default/{name}',
  ],
  registeredModel: true,
};

describe('MlopsNamePicker', () => {
  const server = setupServer();
  registerMswTestHooks(server);
  const registryLookups: string[] = [];

  beforeEach(() => {
    registryLookups.length = 0;
    // The registry knows wine-quality and an orphan registered model.
    server.use(
      http.get(
        'http://backstage.test/api/mlops/registry/models/:name',
        ({ params }) => {
          registryLookups.push(String(params.name));
          return ['wine-quality', 'orphan-model'].includes(String(params.name))
            ? HttpResponse.json({
                ...wineQualityRegistered,
                name: params.name,
              })
            : HttpResponse.json(
                {
                  error: { name: 'NotFoundError', message: 'not found' },
                  response: { statusCode: 404 },
                },
                { status: 404 },
              );
        },
      ),
    );
  });

  const mlopsApi = new MlopsClient({
    discoveryApi: mockApis.discovery({ baseUrl: 'http://backstage.test' }),
    fetchApi: new MockFetchApi(),
  });

  async function validate(
    value: string,
    options: NamePickerUiOptions = UI_OPTIONS,
  ) {
    const errors: string[] = [];
    await validateName(
      value,
      { addError: (message: string) => errors.push(message) } as any,
      {
        apiHolder: TestApiRegistry.from(
          [
            catalogApiRef,
            new InMemoryCatalogClient({ entities: catalogEntities }),
          ],
          [mlopsApiRef, mlopsApi],
        ),
        formData: { name: value },
        schema: {},
        uiSchema: { 'ui:options': options },
      },
    );
    return errors;
  }

  it('accepts a free name', async () => {
    await expect(validate('wine-brand-new')).resolves.toEqual([]);
    expect(registryLookups).toEqual(['wine-brand-new']);
  });

  it('refuses a name a catalog entity has, naming it', async () => {
    await expect(validate('wine-quality')).resolves.toEqual([
      '"wine-quality" is taken: model:default/wine-quality, pipeline:default/wine-quality-training, the registered model wine-quality already exist. Choose another name.',
    ]);
    // Each entity the template would create is checked by its own name.
    await expect(
      validate('wine-quality', {
        entityRefs: ['pipeline:default/{name}-training'],
      }),
    ).resolves.toEqual([
      '"wine-quality" is taken: pipeline:default/wine-quality-training already exists. Choose another name.',
    ]);
  });

  it('refuses a name the registry has, with no entity', async () => {
    await expect(validate('orphan-model')).resolves.toEqual([
      '"orphan-model" is taken: the registered model orphan-model already exists. Choose another name.',
    ]);
    // Without registeredModel, the registry is not asked.
    await expect(
      validate('orphan-model', { entityRefs: ['model:default/{name}'] }),
    ).resolves.toEqual([]);
  });

  it('refuses what is no entity name, without looking it up', async () => {
    const [error] = await validate('Wine Quality!');
    expect(error).toMatch(/Must start and end with an alphanumeric character/);
    expect(registryLookups).toEqual([]);
  });

  it('says while typing that a name is taken', async () => {
    const props: any = {
      onChange: jest.fn(),
      schema: { title: 'Name', description: 'The model’s name' },
      required: true,
      uiSchema: { 'ui:options': UI_OPTIONS },
      rawErrors: [],
      formData: 'wine-quality',
      idSchema: { $id: 'root_name' },
    };
    await renderInCatalog(<NamePicker {...props} />, { mlopsApi });
    expect(
      await screen.findByText(
        /"wine-quality" is taken: model:default\/wine-quality/,
      ),
    ).toBeInTheDocument();
  });
});
