import { screen, waitFor } from '@testing-library/react';
import { wineQuality } from '../../__testUtils__/entities';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityMlopsGraphCard } from './EntityMlopsGraphCard';

const texts = (testId: string) =>
  screen.getAllByTestId(testId).map(element => element.textContent);

describe('EntityMlopsGraphCard', () => {
  // jsdom does not lay out SVG; the graph measures its nodes.
  beforeAll(() => {
    Object.defineProperty(window.SVGElement.prototype, 'getBBox', {
      value: () => ({ x: 0, y: 0, width: 100, height: 20 }),
      configurable: true,
    });
  });

  it('draws the ML and ownership relations, one edge per pair', async () => {
    await renderInCatalog(<EntityMlopsGraphCard />, { entity: wineQuality });

    await waitFor(() => expect(screen.getAllByTestId('node')).toHaveLength(5));
    expect(texts('node')).toEqual(
      expect.arrayContaining([
        'Wine qualitymodel:default/wine-quality',
        'wine-featuresdataset:default/wine-features',
        'wine-quality-trainingpipeline:default/wine-quality-training',
        'wine-sciencegroup:default/wine-science',
        'wine-quality-apicomponent:default/wine-quality-api',
      ]),
    );
    expect(texts('label').sort()).toEqual([
      'dependsOn / dependencyOf',
      'ownerOf / ownedBy',
      'producedBy / produces',
      'trainedOn / usedToTrain',
    ]);

    // The link to the full graph page carries the same selection.
    const href = screen
      .getByRole('link', { name: /view graph/i })
      .getAttribute('href')!;
    const query = new URLSearchParams(href.split('?')[1]);
    expect(query.getAll('selectedRelations[]')).toEqual(
      expect.arrayContaining(['trainedOn', 'consumesDataset', 'ownedBy']),
    );
    expect(query.getAll('selectedKinds[]')).toEqual(
      expect.arrayContaining(['Model', 'Dataset', 'Pipeline']),
    );
  });

  it('lets the page override its defaults', async () => {
    await renderInCatalog(
      <EntityMlopsGraphCard title="Lineage" kinds={['Model', 'Dataset']} />,
      { entity: wineQuality },
    );

    expect(screen.getByText('Lineage')).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('node')).toHaveLength(2));
    expect(texts('label')).toEqual(['trainedOn / usedToTrain']);
  });
});
