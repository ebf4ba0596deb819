import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderInCatalog } from '../../__testUtils__/render';
import { MlopsPage } from './MlopsPage';

/** The entity links of the table's rows, as `text → href`. */
async function listedEntities() {
  const table = await screen.findByRole('table');
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map(row => within(row).getAllByRole('link')[0])
    .map(link => `${link.textContent} → ${link.getAttribute('href')}`);
}

describe('MlopsPage', () => {
  it('counts the ML kinds and lists the models first', async () => {
    await renderInCatalog(<MlopsPage />);

    expect(
      screen.getByRole('heading', { name: 'Machine learning' }),
    ).toBeInTheDocument();
    const summary = (kind: string) =>
      screen.getByRole('button', { name: new RegExp(kind) });
    await waitFor(() => expect(summary('Models')).toHaveTextContent('2Models'));
    expect(summary('Datasets')).toHaveTextContent('2Datasets');
    expect(summary('Pipelines')).toHaveTextContent('1Pipelines');
    expect(summary('Models')).toHaveAttribute('aria-pressed', 'true');

    await waitFor(async () =>
      expect(await listedEntities()).toEqual([
        'Wine quality → /catalog/default/model/wine-quality',
        'customer-churn → /catalog/default/model/customer-churn',
      ]),
    );
    const wineQuality = screen.getByRole('row', { name: /Wine quality/ });
    expect(
      Array.from(
        (wineQuality as HTMLTableRowElement).cells,
        cell => cell.textContent,
      ).slice(0, 7),
    ).toEqual([
      'Wine quality',
      'Model',
      'regression',
      'wine-science',
      'production',
      'wine-quality',
      'Predicts the sensory quality score of a wine.',
    ]);
    expect(
      within(wineQuality).getByRole('link', { name: 'wine-science' }),
    ).toHaveAttribute('href', '/catalog/default/group/wine-science');
  });

  it('switches kind from the summary', async () => {
    await renderInCatalog(<MlopsPage />);

    await userEvent.click(
      await screen.findByRole('button', { name: /Datasets/ }),
    );

    await waitFor(async () =>
      expect(await listedEntities()).toEqual([
        'wine-features → /catalog/default/dataset/wine-features',
        'wine-quality-raw → /catalog/default/dataset/wine-quality-raw',
      ]),
    );
    expect(screen.getByRole('button', { name: /Datasets/ })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
  });

  it('filters by lifecycle', async () => {
    await renderInCatalog(<MlopsPage />);
    await waitFor(async () => expect(await listedEntities()).toHaveLength(2));

    const picker = screen.getByText('Lifecycle', { selector: 'label > span' })
      .parentElement!;
    await userEvent.click(within(picker).getByRole('button', { name: 'Open' }));
    await userEvent.click(
      await screen.findByRole('option', { name: /experimental/ }),
    );

    await waitFor(async () =>
      expect(await listedEntities()).toEqual([
        'customer-churn → /catalog/default/model/customer-churn',
      ]),
    );
  });
});
