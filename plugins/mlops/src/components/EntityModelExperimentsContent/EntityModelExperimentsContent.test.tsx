import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registerMswTestHooks } from '@backstage/test-utils';
import type { MetricHistory, RegisteredModel } from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineQuality } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import {
  descendingHistory,
  failedRun,
  olsRun,
  ridgeRun,
  wineQualityRegistered,
  wineQualityRuns,
} from '../../__testUtils__/registry';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityModelExperimentsContent } from './EntityModelExperimentsContent';

const runsTable = () =>
  screen.getByRole('table', { name: 'Runs of wine-quality' });

const bodyRows = () =>
  within(runsTable())
    .getAllByRole<HTMLTableRowElement>('row')
    .filter(row => row.closest('tbody'));

const select = (runName: string) =>
  userEvent.click(
    screen.getByRole('checkbox', { name: `Select run ${runName}` }),
  );

describe('EntityModelExperimentsContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  /** A registry whose wine-quality model has the test runs (and histories). */
  function serveRuns(
    options: { models?: RegisteredModel[]; histories?: MetricHistory[] } = {},
  ) {
    const { models = [wineQualityRegistered], histories = [] } = options;
    const historyRequests: string[] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: models }),
      ),
      http.get(`${mlopsBaseUrl}/registry/models/wine-quality/runs`, () =>
        HttpResponse.json({ items: wineQualityRuns }),
      ),
      http.get(
        `${mlopsBaseUrl}/tracking/runs/:runId/metrics/:key`,
        ({ params }) => {
          const runId = String(params.runId);
          const key = String(params.key);
          historyRequests.push(`${runId}/${key}`);
          const history = histories.find(
            h => h.runId === runId && h.key === key,
          );
          return history
            ? HttpResponse.json(history)
            : HttpResponse.json(
                {
                  error: { name: 'NotFoundError', message: 'no such metric' },
                  response: { statusCode: 404 },
                },
                { status: 404 },
              );
        },
      ),
    );
    return historyRequests;
  }

  const render = (routeEntries?: string[]) =>
    renderInCatalog(<EntityModelExperimentsContent />, {
      entity: wineQuality,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
      routeEntries,
    });

  it('lists the runs with their params and metrics as columns', async () => {
    serveRuns();
    await render();
    await screen.findByRole('table', { name: 'Runs of wine-quality' });

    const headers = within(runsTable())
      .getAllByRole('columnheader')
      .map(header => header.textContent);
    expect(headers).toEqual([
      '',
      'Run',
      'Status',
      'Started',
      'Duration',
      'User',
      'Parameters',
      'Metrics',
      // The union of the runs' keys; the model card's metrics first.
      'alpha',
      'lr',
      'solver',
      'rmse',
      'mae',
      'r2',
    ]);
    expect(
      bodyRows().map(row => Array.from(row.cells, cell => cell.textContent)),
    ).toEqual([
      [
        '',
        `logistic-try${failedRun.runId.slice(0, 8)}`,
        'Failed',
        new Date(failedRun.startTime).toLocaleString(),
        '800 ms',
        'alice',
        '',
        '0.1',
        '',
        '',
        '',
        '',
      ],
      [
        '',
        `ridge-alpha-0.5${ridgeRun.runId.slice(0, 8)}`,
        'Finished',
        new Date(ridgeRun.startTime).toLocaleString(),
        '1 min 35 s',
        'bob',
        '0.5',
        '',
        'closed-form',
        '0.64',
        '',
        '0.31',
      ],
      [
        '',
        `ols-baseline${olsRun.runId.slice(0, 8)}`,
        'Finished',
        new Date(olsRun.startTime).toLocaleString(),
        '1 h 2 min',
        'alice',
        '0',
        '',
        '',
        '0.66',
        '0.52',
        '',
      ],
    ]);
    expect(
      screen.getByText(
        'Select two or more runs to compare their metric histories.',
      ),
    ).toBeInTheDocument();
  });

  it('loads the histories of the selected runs and draws them', async () => {
    const requests = serveRuns({
      histories: [
        {
          runId: ridgeRun.runId,
          key: 'rmse',
          points: descendingHistory('rmse', 0.9, 10),
        },
        {
          runId: olsRun.runId,
          key: 'rmse',
          points: descendingHistory('rmse', 0.8, 5),
        },
        {
          runId: ridgeRun.runId,
          key: 'r2',
          points: descendingHistory('r2', 0.5, 3),
        },
      ],
    });
    await render();
    await screen.findByRole('table', { name: 'Runs of wine-quality' });

    await select('ridge-alpha-0.5');
    expect(requests).toEqual([]);
    await select('ols-baseline');

    const chart = await screen.findByRole('img', { name: 'rmse by step' });
    expect(requests.sort()).toEqual(
      [`${ridgeRun.runId}/rmse`, `${olsRun.runId}/rmse`].sort(),
    );
    expect(screen.getByLabelText('Metric')).toHaveValue('rmse');
    const lines = Array.from(chart.querySelectorAll('path[data-series]'));
    expect(lines.map(line => line.getAttribute('data-series'))).toEqual([
      'ridge-alpha-0.5',
      'ols-baseline',
    ]);
    // One segment per point, one colour per run.
    expect(lines[0].getAttribute('d')!.match(/[ML]/g)).toHaveLength(10);
    expect(lines[1].getAttribute('d')!.match(/[ML]/g)).toHaveLength(5);
    expect(lines[0].getAttribute('stroke')).not.toBe(
      lines[1].getAttribute('stroke'),
    );
    expect(
      within(screen.getByRole('list', { name: 'Legend' }))
        .getAllByRole('listitem')
        .map(item => item.textContent),
    ).toEqual(['ridge-alpha-0.5', 'ols-baseline']);
    // Axes: steps 0..9 and the values' range.
    expect(chart.querySelector('[data-axis="x"]')).toHaveTextContent('step');
    expect(chart.querySelector('[data-axis="y"]')).toHaveTextContent('rmse');
    expect(
      within(screen.getByRole('table', { name: 'rmse summary' }))
        .getAllByRole<HTMLTableRowElement>('row')
        .slice(1)
        .map(row => Array.from(row.cells, cell => cell.textContent)),
    ).toEqual([
      ['ridge-alpha-0.5', '10', '0.81', '0.81', '0.9'],
      ['ols-baseline', '5', '0.76', '0.76', '0.8'],
    ]);

    // Another metric: only the runs that logged it are asked.
    requests.length = 0;
    await userEvent.selectOptions(screen.getByLabelText('Metric'), 'r2');
    const r2Chart = await screen.findByRole('img', { name: 'r2 by step' });
    expect(requests).toEqual([`${ridgeRun.runId}/r2`]);
    expect(
      Array.from(r2Chart.querySelectorAll('path[data-series]')).map(line =>
        line.getAttribute('data-series'),
      ),
    ).toEqual(['ridge-alpha-0.5']);
    expect(screen.getByText('Not logged by ols-baseline.')).toBeInTheDocument();
  });

  it('preselects the run named in the URL', async () => {
    serveRuns({
      histories: [
        {
          runId: ridgeRun.runId,
          key: 'rmse',
          points: descendingHistory('rmse', 0.9, 3),
        },
        {
          runId: olsRun.runId,
          key: 'rmse',
          points: descendingHistory('rmse', 0.8, 3),
        },
      ],
    });
    await render([`/?run=${olsRun.runId}`]);
    await screen.findByRole('table', { name: 'Runs of wine-quality' });

    expect(
      screen.getByRole('checkbox', { name: 'Select run ols-baseline' }),
    ).toBeChecked();
    await select('ridge-alpha-0.5');
    expect(
      await screen.findByRole('img', { name: 'rmse by step' }),
    ).toBeInTheDocument();
  });

  it('says why a history could not be loaded', async () => {
    serveRuns();
    await render();
    await screen.findByRole('table', { name: 'Runs of wine-quality' });

    await select('ridge-alpha-0.5');
    await select('ols-baseline');

    expect(
      await screen.findByText(/Could not load the history of rmse/),
    ).toBeInTheDocument();
  });

  it('explains how to log runs when there are none', async () => {
    serveRuns({ models: [] });
    await render();

    expect(await screen.findByText('No runs yet')).toBeInTheDocument();
    await waitFor(() =>
      expect(
        screen.getAllByText(
          /MLFLOW_TRACKING_URI=http:\/\/backstage.test\/api\/mlops\/mlflow/,
        ).length,
      ).toBeGreaterThan(0),
    );
    expect(screen.queryByRole('table')).toBeNull();
  });
});
