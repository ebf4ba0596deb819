import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { alertApiRef } from '@backstage/core-plugin-api';
import { registerMswTestHooks } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { PipelineRun } from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineQualityTraining } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  fakePermissionApi,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityPipelineRunsContent } from './EntityPipelineRunsContent';

let testIndex = 0;
let entity = wineQualityTraining;
beforeEach(() => {
  testIndex += 1;
  // usePermission caches decisions per resource: a namespace per test.
  entity = {
    ...wineQualityTraining,
    metadata: {
      ...wineQualityTraining.metadata,
      namespace: `runs-${testIndex}`,
    },
    spec: {
      ...wineQualityTraining.spec,
      parameters: [{ name: 'alpha', default: '0.3', description: 'L2 weight' }],
    },
  };
});

const routes = `${mlopsBaseUrl}/pipelines/wine-quality-training/runs`;
const RUN_ID = '6f1c1a52-7b6e-4b8e-9a51-3c1f4f7b2a10';

const failedRun: PipelineRun = {
  id: RUN_ID,
  pipeline: 'wine-quality-training',
  entityRef: 'pipeline:default/wine-quality-training',
  state: 'failed',
  runner: 'local',
  parameters: { alpha: '0.3' },
  trigger: {
    type: 'drift',
    cause:
      'Monitoring alert on model:default/wine-quality: 3 of 11 features drifted',
  },
  createdAt: '2026-12-07T12:00:00.000Z',
  startedAt: '2026-12-07T12:00:01.000Z',
  finishedAt: '2026-12-07T12:01:31.000Z',
  reason: 'train: Exited with code 1',
  cancelRequested: false,
  steps: [
    {
      name: 'validate',
      kind: 'command',
      dependsOn: [],
      state: 'succeeded',
      attempt: 1,
      exitCode: 0,
      startedAt: '2026-12-07T12:00:01.000Z',
      finishedAt: '2026-12-07T12:00:11.000Z',
    },
    {
      name: 'train',
      kind: 'command',
      dependsOn: ['validate'],
      state: 'failed',
      attempt: 1,
      exitCode: 1,
      message: 'Exited with code 1',
      startedAt: '2026-12-07T12:00:11.000Z',
      finishedAt: '2026-12-07T12:01:31.000Z',
    },
  ],
  outputs: {
    mlflowRunIds: ['abcdef0123456789'],
    modelVersions: [],
    datasetVersions: [],
    rollouts: [],
  },
};

describe('EntityPipelineRunsContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  function serve() {
    const requests: Array<{ method: string; url: string; body?: any }> = [];
    let runs = [failedRun];
    server.use(
      http.get(routes, ({ request }) => {
        requests.push({ method: 'GET', url: request.url });
        return HttpResponse.json({
          items: runs,
          nextScheduledAt: '2026-12-14T04:00:00.000Z',
        });
      }),
      http.get(`${routes}/:id/logs`, ({ request }) => {
        const after = Number(new URL(request.url).searchParams.get('after'));
        return HttpResponse.json(
          after === 0
            ? {
                items: [
                  {
                    seq: 1,
                    step: 'train',
                    attempt: 1,
                    stream: 'stderr',
                    text: 'ValueError: bad input',
                    at: '2026-12-07T12:01:30.000Z',
                  },
                ],
                last: 1,
                complete: true,
              }
            : { items: [], last: after, complete: true },
        );
      }),
      http.post(routes, async ({ request }) => {
        const body = await request.json();
        requests.push({ method: 'POST', url: request.url, body });
        const started: PipelineRun = {
          ...failedRun,
          id: '0b9a7c1e-2d4f-4e5a-8b6c-7d8e9f0a1b2c',
          state: 'queued',
          trigger: {
            type: 'manual',
            cause: 'Run by user:default/guest',
            user: 'user:default/guest',
          },
          steps: failedRun.steps.map(s => ({ ...s, state: 'queued' as const })),
        };
        runs = [started, ...runs];
        return HttpResponse.json(started, { status: 201 });
      }),
      http.post(`${routes}/:id/steps/:step/retry`, ({ params }) => {
        requests.push({
          method: 'POST',
          url: `retry ${params.id} ${params.step}`,
        });
        return HttpResponse.json({ ...failedRun, state: 'queued' });
      }),
    );
    return requests;
  }

  function render(allowed: string[]) {
    return renderInCatalog(
      <EntityPipelineRunsContent pollIntervalMs={60_000} />,
      {
        entity,
        mlopsApi: mswMlopsClient(),
        apis: [
          discoveryApiPair,
          [permissionApiRef, fakePermissionApi(allowed)],
          [alertApiRef, { post: jest.fn(), alert$: jest.fn() }],
        ],
      },
    );
  }

  it('lists the runs, shows the selected run steps and log, and retries the failed step', async () => {
    const requests = serve();
    await render(['loopline.pipeline.run']);

    const table = await screen.findByRole('table', { name: 'Pipeline runs' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveTextContent('drift');
    expect(rows[0]).toHaveTextContent('failed');
    expect(rows[0]).toHaveTextContent('1 min 30 s');
    expect(screen.getByText(/Next scheduled run/)).toBeInTheDocument();

    const steps = screen.getByRole('table', { name: 'Steps' });
    const stepRows = within(steps).getAllByRole('row').slice(1);
    expect(
      stepRows.map(r => (r as HTMLTableRowElement).cells[0].textContent),
    ).toEqual(['validate', 'train']);
    expect(stepRows[1]).toHaveTextContent('validate');
    expect(stepRows[1]).toHaveTextContent('Exited with code 1');
    expect(screen.getByText(/train: Exited with code 1/)).toBeInTheDocument();
    expect(screen.getByText('MLflow run abcdef01')).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByLabelText('Run log')).toHaveTextContent(
        '[train] ! ValueError: bad input',
      ),
    );

    await userEvent.click(screen.getByRole('button', { name: 'Retry train' }));
    await waitFor(() =>
      expect(requests.map(r => r.url)).toContain(`retry ${RUN_ID} train`),
    );
  });

  it('starts a run with the parameters given in the dialog', async () => {
    const requests = serve();
    await render(['loopline.pipeline.run']);
    await userEvent.click(await screen.findByRole('button', { name: 'Run' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('alpha'), '0.5');
    await userEvent.type(
      within(dialog).getByLabelText('Comment'),
      'retry with more regularisation',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Start run' }),
    );
    await waitFor(() =>
      expect(requests.filter(r => r.method === 'POST')).toEqual([
        {
          method: 'POST',
          url: routes,
          body: {
            parameters: { alpha: '0.5' },
            comment: 'retry with more regularisation',
          },
        },
      ]),
    );
    await waitFor(() =>
      expect(
        within(
          screen.getByRole('table', { name: 'Pipeline runs' }),
        ).getAllByRole('row'),
      ).toHaveLength(3),
    );
  });

  it('hides Run and Retry without loopline.pipeline.run', async () => {
    serve();
    await render([]);
    await screen.findByRole('table', { name: 'Pipeline runs' });
    expect(
      screen.queryByRole('button', { name: 'Run' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Retry train' }),
    ).not.toBeInTheDocument();
  });
});
