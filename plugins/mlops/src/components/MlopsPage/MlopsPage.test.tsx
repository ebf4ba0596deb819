import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registerMswTestHooks } from '@backstage/test-utils';
import type { ModelMonitoringSummaryResponse } from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import {
  discoveryApiPair,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { MlopsPage } from './MlopsPage';

const summaries: ModelMonitoringSummaryResponse = {
  items: [
    {
      model: 'wine-quality',
      productionVersion: 3,
      requestRate: 12.5,
      drift: {
        status: 'drift',
        version: '3',
        shareOfDriftedColumns: 0.5,
        createdAt: '2026-12-07T12:00:00Z',
      },
      quality: {
        metric: 'rmse',
        value: 0.71,
        version: '3',
        createdAt: '2026-12-07T12:00:00Z',
        withinSlo: true,
      },
    },
    { model: 'customer-churn', requestRate: 0 },
  ],
};

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
  const server = setupServer();
  registerMswTestHooks(server);

  it('counts the ML kinds and lists the models first, with their serving, drift and quality', async () => {
    const asked: string[][] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/monitoring/summary`, ({ request }) => {
        asked.push(new URL(request.url).searchParams.getAll('model'));
        return HttpResponse.json(summaries);
      }),
    );
    await renderInCatalog(<MlopsPage />, {
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });

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
    const cells = (row: HTMLElement) =>
      Array.from(
        (row as HTMLTableRowElement).cells,
        cell => cell.textContent,
      ).slice(0, 9);
    await waitFor(() =>
      expect(cells(wineQuality)).toEqual([
        'Wine quality',
        'Model',
        'regression',
        'wine-science',
        'v3',
        '12.5/s',
        'Drift',
        'rmse 0.71',
        'Predicts the sensory quality score of a wine.',
      ]),
    );
    expect(
      within(wineQuality).getByText('Drift').closest('[data-drift-status]'),
    ).toHaveAttribute('data-drift-status', 'drift');
    expect(
      cells(screen.getByRole('row', { name: /customer-churn/ })).slice(4, 8),
    ).toEqual(['–', '0/s', 'Not checked', '–']);
    // One request for the Models listed.
    expect(asked[asked.length - 1]).toEqual(['customer-churn', 'wine-quality']);
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
