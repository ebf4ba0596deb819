import { screen, within } from '@testing-library/react';
import {
  customerChurn,
  wineFeatures,
  wineQuality,
  wineQualityTraining,
} from '../../__testUtils__/entities';
import { getField, renderInCatalog } from '../../__testUtils__/render';
import { EntityMlopsRelationsCard } from './EntityMlopsRelationsCard';

/** Each relation's title with the hrefs of its links, in the order shown. */
function shownRelations() {
  return screen.getAllByRole('heading', { level: 2 }).map(heading => [
    heading.textContent,
    within(getField(heading.textContent!))
      .getAllByRole('link')
      .map(link => link.getAttribute('href')),
  ]);
}

describe('EntityMlopsRelationsCard', () => {
  it("groups a Model's relations, the ML ones first", async () => {
    await renderInCatalog(<EntityMlopsRelationsCard />, {
      entity: wineQuality,
    });

    expect(screen.getByText('Related entities')).toBeInTheDocument();
    expect(shownRelations()).toEqual([
      ['Trained on', ['/catalog/default/dataset/wine-features']],
      ['Produced by', ['/catalog/default/pipeline/wine-quality-training']],
      ['Owner', ['/catalog/default/group/wine-science']],
      ['Part of', ['/catalog/default/system/wine-quality']],
      ['Dependency of', ['/catalog/default/component/wine-quality-api']],
    ]);
  });

  it("shows a Dataset's lineage in both directions", async () => {
    await renderInCatalog(<EntityMlopsRelationsCard />, {
      entity: wineFeatures,
    });

    expect(shownRelations()).toEqual([
      ['Used to train', ['/catalog/default/model/wine-quality']],
      ['Consumed by', ['/catalog/default/pipeline/wine-quality-training']],
      ['Derived from', ['/catalog/default/dataset/wine-quality-raw']],
      ['Owner', ['/catalog/default/group/wine-science']],
      ['Part of', ['/catalog/default/system/wine-quality']],
    ]);
  });

  it('shows what a Pipeline consumes and produces', async () => {
    await renderInCatalog(<EntityMlopsRelationsCard />, {
      entity: wineQualityTraining,
    });

    expect(shownRelations().slice(0, 2)).toEqual([
      ['Produces', ['/catalog/default/model/wine-quality']],
      ['Consumes', ['/catalog/default/dataset/wine-features']],
    ]);
  });

  it('lists an entity once when the relation reaches it from both ends', async () => {
    const relations = wineQuality.relations!;
    await renderInCatalog(<EntityMlopsRelationsCard />, {
      entity: { ...wineQuality, relations: [...relations, ...relations] },
    });

    expect(shownRelations()[0]).toEqual([
      'Trained on',
      ['/catalog/default/dataset/wine-features'],
    ]);
    expect(screen.getAllByRole('link')).toHaveLength(relations.length);
  });

  it('says so when there is nothing to show', async () => {
    await renderInCatalog(<EntityMlopsRelationsCard title="Lineage" />, {
      entity: { ...customerChurn, relations: [] },
    });

    expect(screen.getByText('Lineage')).toBeInTheDocument();

    expect(screen.getByText('No related entities.')).toBeInTheDocument();
    expect(screen.queryByRole('link')).toBeNull();
  });
});
