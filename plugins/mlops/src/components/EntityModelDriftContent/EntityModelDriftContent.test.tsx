import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { alertApiRef } from '@backstage/core-plugin-api';
import { registerMswTestHooks } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  DriftHistoryResponse,
  DriftReport,
  modelMonitorPermission,
  QualityResponse,
} from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineQuality } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  fakePermissionApi,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityModelDriftContent } from './EntityModelDriftContent';

/** A namespace per test: `usePermission` caches decisions per resource. */
let entity = wineQuality;
let testIndex = 0;
beforeEach(() => {
  testIndex += 1;
  entity = {
    ...wineQuality,
    metadata: { ...wineQuality.metadata, namespace: `drift-${testIndex}` },
  };
});

const base = `${mlopsBaseUrl}/monitoring/models/wine-quality`;

/** A report as the backend answers it (shapes from mlops-common). */
function report(overrides: Partial<DriftReport> = {}): DriftReport {
  return {
    id: 'r2',
    model: 'wine-quality',
    version: '2',
    referenceId: 'ref-1',
    windowStart: '2026-12-07T11:00:00.000Z',
    windowEnd: '2026-12-07T12:00:00.000Z',
    createdAt: '2026-12-07T12:00:00.000Z',
    trigger: 'schedule',
    status: 'ok',
    rowCount: 122,
    sampled: false,
    datasetDrift: true,
    driftShare: 0.5,
    numberOfColumns: 2,
    numberOfDriftedColumns: 1,
    shareOfDriftedColumns: 0.5,
    features: [
      {
        name: 'alcohol',
        columnType: 'numerical',
        method: 'ks',
        statistic: 0.61,
        pValue: 1.2e-30,
        score: 1.2e-30,
        threshold: 0.05,
        direction: 'p_value',
        drifted: true,
        status: 'ok',
        referenceCount: 486,
        currentCount: 122,
      },
      {
        name: 'pH',
        columnType: 'numerical',
        method: 'ks',
        statistic: 0.08,
        pValue: 0.52,
        score: 0.52,
        threshold: 0.05,
        direction: 'p_value',
        drifted: false,
        status: 'missing_values',
        message:
          'Missing values dropped: 0 in the reference, 3 in the current window',
        referenceCount: 486,
        currentCount: 119,
      },
    ],
    distributions: [
      {
        name: 'alcohol',
        kind: 'numerical',
        bins: ['[8, 10)', '[10, 12)', '[12, 14)'],
        reference: [0.4, 0.5, 0.1],
        current: [0.05, 0.25, 0.7],
      },
    ],
    ...overrides,
  };
}

const history: DriftHistoryResponse = {
  latest: report(),
  lastRunAt: '2026-12-07T12:00:00.000Z',
  schedule: '*/5 * * * *',
  nextRunAt: '2026-12-07T12:05:00.000Z',
  history: [
    {
      id: 'r2',
      version: '2',
      createdAt: '2026-12-07T12:00:00.000Z',
      windowStart: '2026-12-07T11:00:00.000Z',
      windowEnd: '2026-12-07T12:00:00.000Z',
      datasetDrift: true,
      shareOfDriftedColumns: 0.5,
      status: 'ok',
      trigger: 'schedule',
      scores: { alcohol: 1.2e-30, pH: 0.52 },
    },
    {
      id: 'r1',
      version: '2',
      createdAt: '2026-12-07T11:55:00.000Z',
      windowStart: '2026-12-07T10:55:00.000Z',
      windowEnd: '2026-12-07T11:55:00.000Z',
      datasetDrift: false,
      shareOfDriftedColumns: 0,
      status: 'ok',
      trigger: 'schedule',
      scores: { alcohol: 0.4, pH: 0.6 },
    },
  ],
};

const quality: QualityResponse = {
  model: 'wine-quality',
  slo: { metric: 'rmse', max: 0.8 },
  points: [
    {
      version: '2',
      windowStart: '2026-12-07T10:55:00.000Z',
      windowEnd: '2026-12-07T11:55:00.000Z',
      createdAt: '2026-12-07T11:55:00.000Z',
      metrics: { count: 50, rmse: 0.6, mae: 0.5, r2: 0.3 },
    },
    {
      version: '2',
      windowStart: '2026-12-07T11:00:00.000Z',
      windowEnd: '2026-12-07T12:00:00.000Z',
      createdAt: '2026-12-07T12:00:00.000Z',
      metrics: { count: 60, rmse: 1.1, mae: 0.9, r2: -0.2 },
    },
  ],
  changePoints: [
    { version: '2', at: '2026-12-07T11:58:00.000Z', estimation: 0.9 },
  ],
};

describe('EntityModelDriftContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  function serve(options: { empty?: boolean } = {}) {
    const requests: Array<{ method: string; url: string; body?: unknown }> = [];
    server.use(
      http.get(`${base}/drift`, ({ request }) => {
        requests.push({ method: 'GET', url: request.url });
        return HttpResponse.json(
          options.empty ? { history: [], schedule: '*/5 * * * *' } : history,
        );
      }),
      http.get(`${base}/quality`, () =>
        HttpResponse.json(
          options.empty
            ? { ...quality, points: [], changePoints: [] }
            : quality,
        ),
      ),
      http.post(`${base}/drift/run`, async ({ request }) => {
        const body = await request.json();
        requests.push({ method: 'POST', url: request.url, body });
        return HttpResponse.json({ reports: [report()] }, { status: 201 });
      }),
    );
    return requests;
  }

  async function render(allowed: string[] = [modelMonitorPermission.name]) {
    const alertApi = { post: jest.fn() };
    await renderInCatalog(<EntityModelDriftContent pollIntervalMs={60_000} />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [
        [permissionApiRef, fakePermissionApi(allowed)],
        [alertApiRef, alertApi],
        discoveryApiPair,
      ],
    });
    return { alertApi };
  }

  it("decides drift by the Model's alert rule when it sets minDriftShare", async () => {
    entity = {
      ...entity,
      spec: {
        ...entity.spec,
        monitoring: {
          ...entity.spec.monitoring,
          alerts: { minDriftShare: 0.6 },
        },
      },
    };
    serve();
    await render();
    expect(await screen.findByTestId('drift-status')).toHaveTextContent(
      'No drift',
    );
    expect(
      screen.getByText(/1 of 2 \(50%, drift at 60%\)/),
    ).toBeInTheDocument();
  });

  it('shows the status, the per-feature table, the charts and the quality with its SLO', async () => {
    serve();
    await render();
    expect(await screen.findByTestId('drift-status')).toHaveTextContent(
      'Drift detected',
    );
    expect(
      screen.getByText(/1 of 2 \(50%, drift at 50%\)/),
    ).toBeInTheDocument();
    const table = screen.getByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map(r => r.textContent)).toEqual([
      expect.stringMatching(
        /^alcohol.*ks.*0\.6100.*1\.20e-30.*p < 0\.0500.*drifted.*ok$/,
      ),
      expect.stringMatching(/^pH.*ks.*0\.5200.*no drift.*missing values$/),
    ]);
    // The drifted feature is charted first: its score against the threshold,
    // and its distributions.
    const scoreChart = screen.getByRole('img', { name: 'alcohol p-value' });
    expect(
      scoreChart.querySelector('[data-limit="threshold 0.05"]'),
    ).not.toBeNull();
    expect(scoreChart.querySelectorAll('circle')).toHaveLength(2);
    const histogram = screen.getByRole('img', {
      name: 'alcohol distribution',
    });
    expect(histogram.querySelectorAll('[data-bin]')).toHaveLength(3);
    const qualityChart = screen.getByRole('img', { name: 'rmse' });
    expect(qualityChart.querySelector('[data-limit="SLO 0.8"]')).not.toBeNull();
    expect(qualityChart.querySelectorAll('[data-marker]')).toHaveLength(1);
  });

  it('runs a check now for those allowed, with the window chosen', async () => {
    const requests = serve();
    const { alertApi } = await render();
    await screen.findByTestId('drift-status');
    await userEvent.click(screen.getByRole('button', { name: 'Run now' }));
    await waitFor(() =>
      expect(requests.filter(r => r.method === 'POST')).toEqual([
        expect.objectContaining({ body: { windowMinutes: 60 } }),
      ]),
    );
    await waitFor(() =>
      expect(alertApi.post).toHaveBeenCalledWith(
        expect.objectContaining({
          message: 'Drift check done: 1 report, 1 with dataset drift',
        }),
      ),
    );
  });

  it('hides Run now from those not allowed and explains an empty history', async () => {
    serve({ empty: true });
    await render([]);
    expect(await screen.findByText('No drift report yet')).toBeInTheDocument();
    expect(
      screen.getByText(/Checks run on the schedule \*\/5 \* \* \* \*/),
    ).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Run now' })).toBeNull();
  });
});
