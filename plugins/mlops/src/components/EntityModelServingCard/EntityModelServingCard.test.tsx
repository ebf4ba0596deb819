import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registerMswTestHooks } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  modelInvokePermission,
  ServingModelInfo,
  ServingStats,
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
import {
  wineQualityRegistered,
  wineQualityVersions,
} from '../../__testUtils__/registry';
import { renderInCatalog } from '../../__testUtils__/render';
import {
  noTrafficStats,
  wineQualityPrediction,
  wineQualityServingInfo,
  wineQualityStats,
} from '../../__testUtils__/serving';
import {
  EntityModelServingCard,
  EntityModelServingCardProps,
} from './EntityModelServingCard';

/**
 * The Model under test, in a namespace of its own per test: `usePermission`
 * caches decisions by permission and resource across renders.
 */
let entity = wineQuality;
let testIndex = 0;
beforeEach(() => {
  testIndex += 1;
  const namespace = `serving-${testIndex}`;
  entity = { ...wineQuality, metadata: { ...wineQuality.metadata, namespace } };
});

/** A live figure's value, by its label. */
const figure = (label: string) => screen.getByLabelText(label);

/** The curl command's text, once the (lazily loaded) snippet shows it. */
async function curlText(): Promise<string> {
  let text = '';
  await waitFor(() => {
    const pre = Array.from(document.querySelectorAll('pre')).find(element =>
      element.textContent?.startsWith('curl'),
    );
    expect(pre).toBeDefined();
    text = pre!.textContent!;
  });
  return text;
}

const latestRequest = {
  id: 1,
  requestId: 'lot-42',
  modelName: 'wine-quality',
  version: 2,
  route: 'candidate',
  source: 'embedded',
  endpoint: 'production',
  status: 'ok',
  latencyMs: 3.2,
  createdAt: Date.parse('2026-12-07T12:00:00Z'),
};

const provenance = {
  requestId: 'lot-42',
  requests: [latestRequest],
  modelVersion: {
    name: 'wine-quality',
    version: 2,
    entityRef: 'model:default/wine-quality',
    stage: 'Production',
    sha256: 'f00d',
  },
  trainingRun: {
    runId: 'r1',
    runName: 'train-7',
    params: { alpha: '0.5' },
    metrics: { rmse: 0.6 },
  },
  trainedOn: [
    {
      nodeId: 'dataset:file:examples/data/winequality.csv',
      version: 'v-uuid',
      contentHash: 'sha256:abc',
      rowCount: 1599,
    },
  ],
  upstream: [],
};

describe('EntityModelServingCard', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  interface Routes {
    info?: ServingModelInfo;
    stats?: () => ServingStats;
    predict?: Parameters<typeof http.post>[1];
    infer?: Parameters<typeof http.post>[1];
  }

  /** The backend's routes for the wine-quality Model; records requests. */
  function serve(routes: Routes = {}) {
    const {
      info = wineQualityServingInfo,
      stats = () => wineQualityStats,
      predict = () => HttpResponse.json(wineQualityPrediction),
      infer = () => HttpResponse.json({}),
    } = routes;
    const requests: string[] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: [wineQualityRegistered] }),
      ),
      http.get(`${mlopsBaseUrl}/registry/models/wine-quality/versions`, () =>
        HttpResponse.json({ items: wineQualityVersions }),
      ),
      http.get(`${mlopsBaseUrl}/serving/models/wine-quality/info`, () =>
        HttpResponse.json(info),
      ),
      http.get(
        `${mlopsBaseUrl}/serving/models/wine-quality/stats`,
        ({ request }) => {
          requests.push(`stats?${new URL(request.url).searchParams}`);
          return HttpResponse.json(stats());
        },
      ),
      http.post(`${mlopsBaseUrl}/serving/models/wine-quality/predict`, predict),
      http.post(`${mlopsBaseUrl}/v2/models/wine-quality/*`, infer),
      http.get(`${mlopsBaseUrl}/serving/models/wine-quality/requests`, () =>
        HttpResponse.json({ items: [latestRequest] }),
      ),
      http.get(`${mlopsBaseUrl}/lineage/provenance`, ({ request }) => {
        requests.push(`provenance?${new URL(request.url).searchParams}`);
        return HttpResponse.json(provenance);
      }),
    );
    return requests;
  }

  async function render(
    options: {
      allowed?: string[];
      props?: EntityModelServingCardProps;
    } = {},
  ) {
    const { allowed = [modelInvokePermission.name], props = {} } = options;
    const permissionApi = fakePermissionApi(allowed);
    const result = await renderInCatalog(
      <EntityModelServingCard {...props} />,
      {
        entity,
        mlopsApi: mswMlopsClient(),
        apis: [[permissionApiRef, permissionApi], discoveryApiPair],
      },
    );
    await screen.findByRole('form', { name: 'Try wine-quality' });
    return { permissionApi, ...result };
  }

  it("lists the latest requests, each linked to its prediction's provenance", async () => {
    const requests = serve();
    await render();

    const link = await screen.findByRole('link', {
      name: 'Provenance of lot-42',
    });
    const row = link.closest('tr')!;
    expect(row).toHaveTextContent('v2');
    expect(row).toHaveTextContent('candidate');
    await userEvent.click(link);
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByText(/wine-quality v2 · Production/);
    expect(requests).toContain('provenance?requestId=lot-42');
    expect(dialog).toHaveTextContent('train-7');
    expect(dialog).toHaveTextContent('alpha=0.5');
    expect(dialog).toHaveTextContent('sha256:abc');
    expect(dialog).toHaveTextContent('1599 rows');
    expect(dialog).toHaveTextContent('endpoint production');
  });

  it('shows the served version, why it is served, and the live figures against the SLOs', async () => {
    const requests = serve();
    await render();

    expect(screen.getByLabelText('Served version')).toHaveTextContent(
      'Version 2',
    );
    expect(
      screen.getByText(
        /Requests without a version go to version 2: it is the version in Production\./,
      ),
    ).toBeInTheDocument();
    // The served version's model-card metrics, rmse and mae first.
    expect(
      screen.getByText(/Its run scored rmse 0\.64, mae 0\.5, r2 0\.31\./),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/Loaded in memory: version 2, version 1\./),
    ).toBeInTheDocument();

    await waitFor(() =>
      expect(figure('Requests per second')).toHaveTextContent('4'),
    );
    expect(requests[0]).toBe('stats?windowSeconds=300');
    expect(
      screen.getByText(/1,200 requests, 24 failed, in the last 5 min\./),
    ).toBeInTheDocument();
    expect(figure('Latency p50')).toHaveTextContent('3.2 ms');
    expect(figure('Latency p95')).toHaveTextContent('12.5 ms');
    expect(figure('Latency p99')).toHaveTextContent('61 ms');
    // The Model's SLOs: p95 ≤ 50 ms is met, an error rate ≤ 1% is not.
    expect(figure('Latency p95')).not.toHaveAttribute('data-missed');
    expect(screen.getByText('SLO ≤ 50 ms')).toBeInTheDocument();
    expect(figure('Error rate')).toHaveTextContent('2%');
    expect(figure('Error rate')).toHaveAttribute('data-missed', 'true');
    expect(screen.getByText('Over the SLO (≤ 1%)')).toBeInTheDocument();

    // Traffic split between two versions: a row per version, with its stage.
    const rows = within(
      screen.getByRole('table', { name: 'Traffic by version' }),
    ).getAllByRole('row');
    expect(rows.slice(1).map(row => row.textContent)).toEqual([
      '2 Production1,0801.11%3 ms11 ms40 ms',
      '1 Archived12010%5 ms20 ms80 ms',
    ]);
  });

  it('refreshes the figures while it is shown', async () => {
    let polls = 0;
    const requests = serve({
      stats: () => {
        polls += 1;
        return polls === 1
          ? noTrafficStats
          : { ...wineQualityStats, requestsPerSecond: 7.5 };
      },
    });
    const { unmount } = await render({
      props: { pollIntervalMs: 100, windowSeconds: 60 },
    });

    await waitFor(() =>
      expect(figure('Requests per second')).toHaveTextContent('7.5'),
    );
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requests)).toEqual(new Set(['stats?windowSeconds=60']));
    unmount();
  });

  it('says when there was no traffic and keeps the figures when a refresh fails', async () => {
    let polls = 0;
    serve();
    server.use(
      http.get(`${mlopsBaseUrl}/serving/models/wine-quality/stats`, () => {
        polls += 1;
        return polls === 1
          ? HttpResponse.json(noTrafficStats)
          : HttpResponse.json(
              {
                error: { name: 'NotAllowedError', message: 'No stats for you' },
                response: { statusCode: 403 },
              },
              { status: 403 },
            );
      }),
    );
    const { unmount } = await render({ props: { pollIntervalMs: 100 } });

    expect(
      await screen.findByText(/No requests in the last 5 min\./),
    ).toBeInTheDocument();
    expect(figure('Latency p95')).toHaveTextContent('–');
    expect(figure('Error rate')).toHaveTextContent('–');
    expect(
      await screen.findByText(
        'Could not refresh the figures: No stats for you',
      ),
    ).toBeInTheDocument();
    expect(figure('Requests per second')).toHaveTextContent('0');
    unmount();
  });

  it('predicts from the form: numbers for numeric features, the right body, the answer in full', async () => {
    const bodies: unknown[] = [];
    serve({
      predict: async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json(wineQualityPrediction);
      },
    });
    await render();

    const alcohol = screen.getByLabelText('alcohol');
    expect(alcohol).toHaveAttribute('type', 'number');
    expect(alcohol).toHaveAttribute('step', 'any');
    expect(alcohol).toHaveAttribute('placeholder', 'float');
    expect(screen.getByText('Alcohol, % vol')).toBeInTheDocument();
    expect(screen.getByLabelText('vintage')).toHaveAttribute('step', '1');

    // Nothing is sent while a feature is missing or not a whole number.
    await userEvent.type(alcohol, '12.5');
    await userEvent.type(screen.getByLabelText('vintage'), '2019.5');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    expect(screen.getByText('Required')).toBeInTheDocument();
    expect(screen.getByText('Enter a whole number')).toBeInTheDocument();
    expect(bodies).toEqual([]);

    await userEvent.type(screen.getByLabelText('sulphates'), '0.6');
    await userEvent.clear(screen.getByLabelText('vintage'));
    await userEvent.type(screen.getByLabelText('vintage'), '2019');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));

    const result = await screen.findByRole('region', { name: 'Result' });
    expect(bodies).toEqual([
      { features: { alcohol: 12.5, sulphates: 0.6, vintage: 2019 } },
    ]);
    expect(within(result).getByLabelText('Prediction')).toHaveTextContent(
      '5.87345',
    );
    expect(within(result).getByText('2.345 ms')).toBeInTheDocument();
    expect(
      within(result).getByText(wineQualityPrediction.requestId),
    ).toBeInTheDocument();
    expect(
      within(result).getByRole('heading', { name: 'Version' }).parentElement,
    ).toHaveTextContent('2');
  });

  it('sends to the version chosen', async () => {
    const bodies: unknown[] = [];
    serve({
      predict: async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ ...wineQualityPrediction, version: 1 });
      },
    });
    await render();

    const version = screen.getByLabelText('Version');
    // Ready versions only (3 is still pending), newest first.
    expect(
      within(version)
        .getAllByRole('option')
        .map(option => option.textContent),
    ).toEqual([
      'Routed (now version 2)',
      'Version 2 · Production · loaded',
      'Version 1 · Archived · loaded',
    ]);
    await userEvent.selectOptions(version, '1');
    await userEvent.type(screen.getByLabelText('alcohol'), '9');
    await userEvent.type(screen.getByLabelText('sulphates'), '0.5');
    await userEvent.type(screen.getByLabelText('vintage'), '2001');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));

    await screen.findByRole('region', { name: 'Result' });
    expect(bodies).toEqual([
      { features: { alcohol: 9, sulphates: 0.5, vintage: 2001 }, version: 1 },
    ]);
  });

  it("shows the backend's error message inline", async () => {
    serve({
      predict: () =>
        HttpResponse.json(
          { error: "Feature 'vintage' must be at most 2100" },
          { status: 400 },
        ),
    });
    await render();

    await userEvent.type(screen.getByLabelText('alcohol'), '12');
    await userEvent.type(screen.getByLabelText('sulphates'), '0.6');
    await userEvent.type(screen.getByLabelText('vintage'), '3000');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The prediction failed (400)');
    expect(alert).toHaveTextContent("Feature 'vintage' must be at most 2100");
    expect(screen.queryByRole('region', { name: 'Result' })).toBeNull();
  });

  it('shows the equivalent OIP request as curl, and sends it', async () => {
    const calls: Array<{ path: string; body: any }> = [];
    serve({
      infer: async ({ request }) => {
        const body = (await request.json()) as any;
        calls.push({ path: new URL(request.url).pathname, body });
        return HttpResponse.json({
          model_name: 'wine-quality',
          model_version: '1',
          id: body.id,
          outputs: [
            { name: 'quality', datatype: 'FP32', shape: [1, 1], data: [6.25] },
          ],
        });
      },
    });
    await render();

    // Fields not filled in yet are placeholders.
    expect(await curlText()).toContain(
      '"data":["<alcohol>","<sulphates>","<vintage>"]',
    );
    await userEvent.type(screen.getByLabelText('alcohol'), '12.5');
    await userEvent.type(screen.getByLabelText('sulphates'), '0.6');
    await userEvent.type(screen.getByLabelText('vintage'), '2019');
    await waitFor(async () =>
      expect(await curlText()).toBe(
        [
          "curl -sS -X POST 'http://backstage.test/api/mlops/v2/models/wine-quality/infer' \\",
          '  -H "Authorization: Bearer $BACKSTAGE_TOKEN" \\',
          "  -H 'Content-Type: application/json' \\",
          `  -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,3],"data":[12.5,0.6,2019]}]}'`,
        ].join('\n'),
      ),
    );
    expect(
      screen.getByRole('button', { name: 'Copy text' }),
    ).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText('Version'), '1');
    await waitFor(async () =>
      expect(await curlText()).toContain(
        "'http://backstage.test/api/mlops/v2/models/wine-quality/versions/1/infer'",
      ),
    );
    await userEvent.click(
      screen.getByRole('button', { name: 'Send as OIP request' }),
    );

    const result = await screen.findByRole('region', { name: 'Result' });
    expect(calls).toEqual([
      {
        path: '/api/mlops/v2/models/wine-quality/versions/1/infer',
        body: {
          id: expect.stringMatching(/^try-it-/),
          inputs: [
            {
              name: 'features',
              datatype: 'FP32',
              shape: [1, 3],
              data: [12.5, 0.6, 2019],
            },
          ],
        },
      },
    ]);
    expect(within(result).getByText(calls[0].body.id)).toBeInTheDocument();
    const outputs = within(result).getByRole('table', { name: 'Outputs' });
    expect(within(outputs).getAllByRole('row')[1]).toHaveTextContent(
      'qualityFP32[1, 1]6.25',
    );
  });

  it("shows an OIP error's message inline", async () => {
    serve({
      infer: () =>
        HttpResponse.json(
          { error: 'Model with name wine-quality does not exist.' },
          { status: 404 },
        ),
    });
    await render();

    await userEvent.type(screen.getByLabelText('alcohol'), '12.5');
    await userEvent.type(screen.getByLabelText('sulphates'), '0.6');
    await userEvent.type(screen.getByLabelText('vintage'), '2019');
    await userEvent.click(
      screen.getByRole('button', { name: 'Send as OIP request' }),
    );

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The OIP request failed (404)');
    expect(alert).toHaveTextContent(
      'Model with name wine-quality does not exist.',
    );
  });

  it('offers the newest ready version when nothing is in Production', async () => {
    serve({
      info: {
        ...wineQualityServingInfo,
        servedVersion: undefined,
        loadedVersions: [],
      },
    });
    await render();

    expect(
      screen.getByText(/Requests without a version are refused/),
    ).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Versions tab' })).toHaveAttribute(
      'href',
      `/catalog/${entity.metadata.namespace}/model/wine-quality/versions`,
    );
    expect(screen.getByText(/Loaded in memory: none yet/)).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByLabelText('Version')).toHaveValue('2'),
    );
  });

  it('lets only those allowed invoke the model', async () => {
    serve();
    const { permissionApi } = await render({ allowed: [] });

    expect(
      await screen.findByText(/You may not invoke wine-quality/),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Predict' })).toBeDisabled();
    expect(
      screen.getByRole('button', { name: 'Send as OIP request' }),
    ).toBeDisabled();
    expect(screen.getByLabelText('alcohol')).toBeDisabled();
    expect(permissionApi.authorize).toHaveBeenCalledWith(
      expect.objectContaining({
        permission: modelInvokePermission,
        resourceRef: `model:${entity.metadata.namespace}/wine-quality`,
      }),
    );
  });

  it('says when the model has no known features', async () => {
    serve({ info: { ...wineQualityServingInfo, features: [] } });
    await renderInCatalog(<EntityModelServingCard />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [
        [permissionApiRef, fakePermissionApi([modelInvokePermission.name])],
        discoveryApiPair,
      ],
    });

    expect(
      await screen.findByText(/The input features of wine-quality are unknown/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        'http://backstage.test/api/mlops/v2/models/wine-quality/infer',
      ),
    ).toBeInTheDocument();
  });

  it('explains an empty registry and a serving route that fails', async () => {
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: [] }),
      ),
    );
    const { unmount } = await renderInCatalog(<EntityModelServingCard />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [[permissionApiRef, fakePermissionApi()], discoveryApiPair],
    });
    expect(await screen.findByText(/Nothing to serve yet/)).toBeInTheDocument();
    unmount();

    serve();
    server.use(
      http.get(`${mlopsBaseUrl}/serving/models/wine-quality/info`, () =>
        HttpResponse.json(
          { error: 'Registered model wine-quality not found' },
          { status: 404 },
        ),
      ),
    );
    await renderInCatalog(<EntityModelServingCard />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [[permissionApiRef, fakePermissionApi()], discoveryApiPair],
    });
    expect(
      await screen.findByText(
        'Could not read how wine-quality is served: Registered model wine-quality not found',
      ),
    ).toBeInTheDocument();
  });
});
