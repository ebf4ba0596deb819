import { screen, within } from '@testing-library/react';
import { registerMswTestHooks } from '@backstage/test-utils';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineFeatures, wineQualityRaw } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityDatasetMonitorsCard } from './EntityDatasetMonitorsCard';

describe('EntityDatasetMonitorsCard', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  it('lists the Models measuring drift against the Dataset, with their status', async () => {
    const asked: string[][] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/monitoring/summary`, ({ request }) => {
        asked.push(new URL(request.url).searchParams.getAll('model'));
        return HttpResponse.json({
          items: [
            {
              model: 'wine-quality',
              requestRate: 3,
              drift: {
                status: 'drift',
                version: '2',
                shareOfDriftedColumns: 0.5,
                createdAt: '2026-12-07T12:00:00Z',
              },
            },
          ],
        });
      }),
    );
    await renderInCatalog(<EntityDatasetMonitorsCard />, {
      entity: wineFeatures,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });
    const row = (await screen.findByText('Wine quality')).closest('tr')!;
    expect(Array.from(row.cells, cell => cell.textContent)).toEqual([
      'Wine quality',
      'drift reference',
      'psi',
      '0 * * * *',
      'Drift',
    ]);
    expect(
      within(row).getByRole('link', { name: 'Wine quality' }),
    ).toHaveAttribute('href', '/catalog/default/model/wine-quality');
    expect(asked).toEqual([['wine-quality']]);
  });

  it('says when no Model monitors the Dataset', async () => {
    await renderInCatalog(<EntityDatasetMonitorsCard />, {
      entity: wineQualityRaw,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });
    expect(
      await screen.findByText('No Model measures drift against this Dataset.'),
    ).toBeInTheDocument();
  });
});
