import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import { TestApiRegistry } from '@backstage/test-utils';
import { catalogApiRef } from '@backstage/plugin-catalog-react';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { catalogEntities } from '../../__testUtils__/entities';
import { renderInCatalog } from '../../__testUtils__/render';
import { TargetColumnPicker, validateTargetColumn } from './TargetColumnPicker';

async function renderPicker(options: { dataset?: string; value?: string }) {
  const onChange = jest.fn();
  const props: any = {
    onChange,
    schema: { title: 'Target column' },
    required: true,
    uiSchema: { 'ui:options': { datasetField: 'trainingData' } },
    rawErrors: [],
    formData: options.value,
    formContext: { formData: { trainingData: options.dataset } },
    idSchema: { $id: 'root_targetColumn' },
  };
  await renderInCatalog(<TargetColumnPicker {...props} />);
  return { onChange };
}

async function validate(value: string | undefined, dataset?: string) {
  const errors: string[] = [];
  await validateTargetColumn(
    value as string,
    { addError: (message: string) => errors.push(message) } as any,
    {
      apiHolder: TestApiRegistry.from([
        catalogApiRef,
        new InMemoryCatalogClient({ entities: catalogEntities }),
      ]),
      formData: { trainingData: dataset ?? null },
      schema: {},
      uiSchema: { 'ui:options': { datasetField: 'trainingData' } },
    },
  );
  return errors;
}

describe('TargetColumnPicker', () => {
  it('lists the Dataset’s schema fields and preselects its target', async () => {
    const { onChange } = await renderPicker({
      dataset: 'dataset:default/wine-quality-raw',
    });
    await waitFor(() => expect(onChange).toHaveBeenCalledWith('quality'));
    fireEvent.mouseDown(screen.getByRole('button', { name: /target column/i }));
    const options = within(screen.getByRole('listbox')).getAllByRole('option');
    expect(options.map(o => o.textContent)).toEqual(
      expect.arrayContaining([
        'alcohol (float, feature)',
        'quality (integer, target)',
      ]),
    );
  });

  it('says so when the Dataset has no target field', async () => {
    await renderPicker({ dataset: 'dataset:default/wine-features' });
    expect(
      await screen.findByText(/has no schema field with the role "target"/),
    ).toBeInTheDocument();
  });

  it('asks for the Dataset first', async () => {
    await renderPicker({});
    expect(
      await screen.findByText('Choose the training Dataset first'),
    ).toBeInTheDocument();
  });
});

describe('validateTargetColumn', () => {
  it('accepts the Dataset’s target field', async () => {
    await expect(
      validate('quality', 'dataset:default/wine-quality-raw'),
    ).resolves.toEqual([]);
  });

  it('refuses a feature, an unknown column, a Dataset without target, and no Dataset', async () => {
    expect(
      await validate('alcohol', 'dataset:default/wine-quality-raw'),
    ).toEqual([
      expect.stringMatching(/"alcohol" has the role "feature".*"quality"/),
    ]);
    expect(await validate('price', 'dataset:default/wine-quality-raw')).toEqual(
      ['"price" is not a field of dataset:default/wine-quality-raw'],
    );
    expect(await validate('quality', 'dataset:default/wine-features')).toEqual([
      expect.stringContaining(
        'dataset:default/wine-features has no schema field with the role "target"',
      ),
    ]);
    expect(await validate('quality', undefined)).toEqual([
      'Choose the training Dataset first',
    ]);
    expect(await validate('quality', 'dataset:default/nope')).toEqual([
      'dataset:default/nope is not a Dataset in the catalog',
    ]);
  });
});
