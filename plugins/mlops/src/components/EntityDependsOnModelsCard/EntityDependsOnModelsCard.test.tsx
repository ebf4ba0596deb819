import { screen, within } from '@testing-library/react';
import { wineQualityApi, wineQualityRaw } from '../../__testUtils__/entities';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityDependsOnModelsCard } from './EntityDependsOnModelsCard';

describe('EntityDependsOnModelsCard', () => {
  it('lists the models a component depends on', async () => {
    await renderInCatalog(<EntityDependsOnModelsCard />, {
      entity: wineQualityApi,
    });

    expect(screen.getByText('Depends on models')).toBeInTheDocument();
    const row = await screen.findByRole('row', { name: /Wine quality/ });
    expect(
      within(row).getByRole('link', { name: 'Wine quality' }),
    ).toHaveAttribute('href', '/catalog/default/model/wine-quality');
    expect(row).toHaveTextContent('regression');
    expect(row).toHaveTextContent('production');
  });

  it('says so when there is none', async () => {
    await renderInCatalog(<EntityDependsOnModelsCard />, {
      entity: wineQualityRaw,
    });

    expect(
      await screen.findByText('No model is a dependency of this entity.'),
    ).toBeInTheDocument();
  });
});
