import { screen, within } from '@testing-library/react';
import {
  customerChurn,
  wineFeatures,
  wineQuality,
  wineQualityApi,
  wineQualityRaw,
  wineQualityTraining,
} from '../../__testUtils__/entities';
import { getField, renderInCatalog } from '../../__testUtils__/render';
import { EntityMlopsOverviewCard } from './EntityMlopsOverviewCard';

const hrefOf = (scope: HTMLElement, name: string) =>
  within(scope).getByRole('link', { name }).getAttribute('href');

describe('EntityMlopsOverviewCard', () => {
  it("shows a Model's spec, model card, monitoring and serving", async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, { entity: wineQuality });

    expect(screen.getByText('Model details')).toBeInTheDocument();
    expect(getField('Task')).toHaveTextContent('regression');
    expect(getField('Framework')).toHaveTextContent('onnx');
    expect(getField('Lifecycle')).toHaveTextContent('production');
    expect(hrefOf(getField('Owner'), 'wine-science')).toBe(
      '/catalog/default/group/wine-science',
    );
    expect(hrefOf(getField('System'), 'wine-quality')).toBe(
      '/catalog/default/system/wine-quality',
    );
    expect(hrefOf(getField('Trained on'), 'wine-features')).toBe(
      '/catalog/default/dataset/wine-features',
    );
    expect(hrefOf(getField('Produced by'), 'wine-quality-training')).toBe(
      '/catalog/default/pipeline/wine-quality-training',
    );

    expect(getField('Intended use')).toHaveTextContent(
      "Rank new wine lots for the sommeliers' tasting queue.",
    );
    expect(getField('Limitations')).toHaveTextContent('vinho verde only');
    expect(getField('Ethical considerations')).toHaveTextContent(
      'never replace the sensory panel',
    );
    expect(getField('Metrics')).toHaveTextContent('rmsemae');

    expect(getField('Drift method')).toHaveTextContent(
      'Population stability index',
    );
    expect(getField('Drift threshold')).toHaveTextContent('0.2');
    expect(getField('Drift check schedule')).toHaveTextContent('0 * * * *');
    expect(hrefOf(getField('Drift reference'), 'wine-features')).toBe(
      '/catalog/default/dataset/wine-features',
    );
    expect(getField('Latency p95')).toHaveTextContent('50 ms');
    expect(getField('Max error rate')).toHaveTextContent('1%');
    // Absent values are left out rather than shown as unknown.
    expect(screen.queryByRole('heading', { name: 'Latency p99' })).toBeNull();

    expect(getField('Target')).toHaveTextContent('embedded');
    expect(getField('Environments')).toHaveTextContent('stagingproduction');
    expect(screen.queryByRole('heading', { name: 'Fairness' })).toBeNull();
  });

  it("shows a Model's fairness configuration", async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, {
      entity: customerChurn,
    });

    expect(
      screen.getByRole('heading', { name: 'Fairness' }),
    ).toBeInTheDocument();
    expect(getField('Sensitive features')).toHaveTextContent('region');
    expect(getField('Thresholds')).toHaveTextContent(
      'demographicParityDifference ≤ 0.1',
    );
    expect(screen.queryByRole('heading', { name: 'Model card' })).toBeNull();
  });

  it("shows a Dataset's spec, schema and expectations", async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, {
      entity: wineQualityRaw,
    });

    expect(screen.getByText('Dataset details')).toBeInTheDocument();
    expect(getField('Type')).toHaveTextContent('raw');
    expect(getField('Format')).toHaveTextContent('csv');
    expect(getField('Location')).toHaveTextContent(
      'file:examples/data/winequality.csv',
    );
    expect(getField('Freshness (max age)')).toHaveTextContent('P30D');

    const schema = screen.getByRole('table', { name: 'Schema' });
    const rows = within(schema)
      .getAllByRole<HTMLTableRowElement>('row')
      .map(row => Array.from(row.cells, cell => cell.textContent));
    expect(rows).toEqual([
      ['Field', 'Type', 'Role', 'Nullable'],
      ['alcohol', 'float', 'feature', 'no'],
      ['colorred or white', 'categorical', 'feature', 'no'],
      ['quality', 'integer', 'target', 'yes'],
    ]);

    const expectations = screen.getByRole('table', { name: 'Expectations' });
    expect(
      within(expectations).getByRole('row', { name: /pH/ }),
    ).toHaveTextContent('between 2.5 and 4.5');
    expect(
      within(expectations).getByRole('row', { name: /color/ }),
    ).toHaveTextContent('one of red, white, for 95% of rows');
  });

  it('links the datasets a Dataset is derived from', async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, {
      entity: wineFeatures,
    });

    expect(hrefOf(getField('Derived from'), 'wine-quality-raw')).toBe(
      '/catalog/default/dataset/wine-quality-raw',
    );
    expect(screen.queryByRole('table')).toBeNull();
  });

  it("shows a Pipeline's spec, triggers and steps", async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, {
      entity: wineQualityTraining,
    });

    expect(screen.getByText('Pipeline details')).toBeInTheDocument();
    expect(getField('Type')).toHaveTextContent('training');
    expect(getField('Schedule')).toHaveTextContent('0 4 * * 1');
    expect(getField('Runner')).toHaveTextContent('kubernetes');
    expect(getField('Runner image')).toHaveTextContent(
      'ghcr.io/acme/wine-train:1.0.0',
    );
    expect(hrefOf(getField('Consumes'), 'wine-features')).toBe(
      '/catalog/default/dataset/wine-features',
    );
    // `produces` has no default kind: each ref names its own.
    expect(hrefOf(getField('Produces'), 'wine-quality')).toBe(
      '/catalog/default/model/wine-quality',
    );

    const triggers = within(getField('Triggers')).getAllByRole('listitem');
    expect(triggers.map(trigger => trigger.textContent)).toEqual([
      'On schedule 0 4 * * 1',
      'On drift of wine-quality',
      'On update of wine-features',
      'Manually',
    ]);
    expect(hrefOf(triggers[1], 'wine-quality')).toBe(
      '/catalog/default/model/wine-quality',
    );
    expect(hrefOf(triggers[2], 'wine-features')).toBe(
      '/catalog/default/dataset/wine-features',
    );

    const steps = screen.getByRole('table', { name: 'Steps' });
    expect(
      within(steps).getByRole('row', { name: /^train/ }),
    ).toHaveTextContent('loopline-train --task regression');
    expect(
      within(steps).getByRole('row', { name: /^register/ }),
    ).toHaveTextContent('registerRegisters the new versiontrain');
  });

  it('says so when the entity is not an ML entity', async () => {
    await renderInCatalog(<EntityMlopsOverviewCard />, {
      entity: wineQualityApi,
    });

    expect(screen.getByText(/not a Component/)).toBeInTheDocument();
  });
});
