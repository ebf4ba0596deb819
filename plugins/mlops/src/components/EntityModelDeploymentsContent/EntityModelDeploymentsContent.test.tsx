import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { alertApiRef } from '@backstage/core-plugin-api';
import { registerMswTestHooks } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  deploymentManagePermission,
  DeploymentDetail,
  DeploymentList,
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
  canaryRollout,
  productionDeployment,
  productionDetail,
  stagingDetail,
  wineQualityDeployments,
} from '../../__testUtils__/rollout';
import {
  EntityModelDeploymentsContent,
  EntityModelDeploymentsContentProps,
} from './EntityModelDeploymentsContent';

/**
 * The Model under test, in a namespace of its own per test: `usePermission`
 * caches decisions by permission and resource across renders.
 */
let entity = wineQuality;
let testIndex = 0;
beforeEach(() => {
  testIndex += 1;
  const namespace = `deployments-${testIndex}`;
  entity = { ...wineQuality, metadata: { ...wineQuality.metadata, namespace } };
});

const routes = `${mlopsBaseUrl}/deployments/models/wine-quality`;

/** The card of one environment. */
const deploymentOf = (environment: string) =>
  screen.getByRole('region', { name: `Deployment to ${environment}` });

/** A labelled field's value within an environment's card. */
const fieldIn = (environment: string, label: string) =>
  within(deploymentOf(environment)).getByRole('heading', { name: label })
    .parentElement!;

const rowsOf = (container: HTMLElement, tableName: string) =>
  within(within(container).getByRole('table', { name: tableName }))
    .getAllByRole<HTMLTableRowElement>('row')
    .slice(1);

const cellTexts = (row: HTMLTableRowElement) =>
  Array.from(row.cells, cell => cell.textContent);

/** Types a text at once: key by key, the dialog's textarea is slow in jsdom. */
async function paste(field: HTMLElement, text: string) {
  await userEvent.click(field);
  await userEvent.paste(text);
}

describe('EntityModelDeploymentsContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  /**
   * The backend's routes for the wine-quality Model's deployments; the list
   * and each environment's details may change between polls. Records the
   * requests made.
   */
  function serve(
    options: {
      list?: () => DeploymentList;
      details?: () => Record<string, DeploymentDetail | undefined>;
    } = {},
  ) {
    const {
      list = () => wineQualityDeployments,
      details = () => ({
        production: productionDetail,
        staging: stagingDetail,
      }),
    } = options;
    const requests: string[] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: [wineQualityRegistered] }),
      ),
      http.get(`${mlopsBaseUrl}/registry/models/wine-quality/versions`, () =>
        HttpResponse.json({ items: wineQualityVersions }),
      ),
      http.get(routes, () => {
        requests.push('GET list');
        return HttpResponse.json(list());
      }),
      http.get(`${routes}/:environment`, ({ params }) => {
        const environment = String(params.environment);
        requests.push(`GET ${environment}`);
        const detail = (
          details() as Record<string, DeploymentDetail | undefined>
        )[environment];
        return detail
          ? HttpResponse.json(detail)
          : HttpResponse.json(
              {
                error: {
                  name: 'NotFoundError',
                  message: `No deployment of wine-quality in ${environment}`,
                },
                response: { statusCode: 404 },
              },
              { status: 404 },
            );
      }),
    );
    return requests;
  }

  async function render(
    options: {
      allowed?: string[];
      props?: EntityModelDeploymentsContentProps;
      /** The environment whose card to wait for. */
      environment?: string;
    } = {},
  ) {
    const {
      allowed = [deploymentManagePermission.name],
      // Long enough that no poll interferes, unless a test wants it to.
      props = { pollIntervalMs: 60_000 },
      environment = 'production',
    } = options;
    const permissionApi = fakePermissionApi(allowed);
    const alertApi = { post: jest.fn() };
    const result = await renderInCatalog(
      <EntityModelDeploymentsContent {...props} />,
      {
        entity,
        mlopsApi: mswMlopsClient(),
        apis: [
          [permissionApiRef, permissionApi],
          [alertApiRef, alertApi],
          discoveryApiPair,
        ],
      },
    );
    await screen.findByRole('region', { name: `Deployment to ${environment}` });
    return { permissionApi, alertApi, ...result };
  }

  it('shows a canary in progress: versions, traffic, the current step, the analyses and the timeline', async () => {
    const requests = serve();
    const { unmount } = await render();

    expect(requests).toEqual(
      expect.arrayContaining(['GET list', 'GET production', 'GET staging']),
    );
    const production = deploymentOf('production');
    expect(fieldIn('production', 'Stable')).toHaveTextContent('version 2');
    expect(fieldIn('production', 'Candidate')).toHaveTextContent('version 3');
    expect(fieldIn('production', 'Target')).toHaveTextContent('Embedded');
    expect(fieldIn('production', 'Strategy')).toHaveTextContent('Canary');
    expect(
      within(fieldIn('production', 'State'))
        .getByText('Progressing')
        .closest('[data-state]'),
    ).toHaveAttribute('data-state', 'progressing');

    // The split as a bar with its legend.
    const traffic = within(production).getByRole('figure', {
      name: 'Traffic in production',
    });
    expect(traffic).toHaveTextContent('Stable (version 2): 75%');
    expect(traffic).toHaveTextContent('Candidate (version 3): 25%');

    // 10 → 25 → 50 → 100 with the second step current.
    const steps = within(production)
      .getAllByRole('listitem')
      .filter(item => item.closest('[aria-label="Steps"]'));
    // (Each label follows its icon: a tick when done, else the step's number.)
    expect(steps.map(step => within(step).getByText(/%$/).textContent)).toEqual(
      ['10%', '25%', '50%', '100%'],
    );
    expect(
      within(production)
        .getAllByRole('listitem')
        .filter(item => item.getAttribute('aria-current') === 'step')
        .map(item => item.textContent),
    ).toEqual(['225%']);
    expect(
      within(production).getByText(/At step 2 of 4 \(25%\) since/),
    ).toBeVisible();

    // Newest analysis first: waiting for requests, then the step that passed.
    const analyses = rowsOf(production, 'Analyses in production');
    expect(analyses.map(row => cellTexts(row).slice(1))).toEqual([
      [
        '2 of 4 · 25%',
        'wait',
        'Requests 12 (min 50): wait',
        '40 requests · 0% errors · p95 11 ms',
        '12 requests · 0% errors · p95 14 ms',
      ],
      [
        '1 of 4 · 10%',
        'pass',
        'Requests 64 (min 50): pass' +
          'Error rate 0.5% (max 1%): pass' +
          'Latency p95 18.5 ms (max 50 ms): pass',
        '580 requests · 0.17% errors · p95 12 ms · p99 30 ms · rmse 0.64',
        '64 requests · 0.5% errors · p95 18.5 ms · p99 41 ms · rmse 0.61',
      ],
    ]);
    expect(
      within(analyses[0].cells[2]).getByText('wait').closest('[data-verdict]'),
    ).toHaveAttribute('data-verdict', 'wait');
    expect(
      within(analyses[1].cells[3])
        .getAllByText('pass')
        .map(chip =>
          chip.closest('[data-verdict]')!.getAttribute('data-verdict'),
        ),
    ).toEqual(['pass', 'pass', 'pass']);
    expect(
      within(analyses[1])
        .getByText(/^Error rate/)
        .closest('[data-check]'),
    ).toHaveAttribute('title', 'Error rate 0.5% within 1%');

    // Who did what, automatic decisions marked.
    expect(
      rowsOf(production, 'Timeline of production').map(row =>
        cellTexts(row).slice(1),
      ),
    ).toEqual([
      [
        'Next step',
        'system:analysisautomatic',
        '10% → 25%',
        'All checks passed',
      ],
      ['Started', 'alice', '0% → 10%', 'Ridge with new features'],
    ]);

    // The KServe staging deployment: its status, and a finished rollout.
    expect(fieldIn('staging', 'Target')).toHaveTextContent(
      /KServe.*Ready.*kserve-test\/wine-quality-staging.*wine-quality-staging-predictor-00002 100%/,
    );
    expect(fieldIn('staging', 'State')).toHaveTextContent('Promoted');
    expect(fieldIn('staging', 'Candidate')).toHaveTextContent('none');
    expect(
      within(deploymentOf('staging')).getByText(/Promoted after step 1 of 1,/),
    ).toBeVisible();
    unmount();
  });

  it('offers the actions the state of each rollout allows', async () => {
    serve();
    const { unmount } = await render();

    const controls = (environment: string) =>
      within(screen.getByRole('group', { name: `Controls of ${environment}` }));
    // Progressing: pause, promote, roll back; no second rollout.
    const production = controls('production');
    expect(
      production.getByRole('button', { name: 'Start rollout' }),
    ).toBeDisabled();
    expect(production.getByRole('button', { name: 'Promote' })).toBeEnabled();
    expect(production.getByRole('button', { name: 'Roll back' })).toBeEnabled();
    expect(production.getByRole('button', { name: 'Pause' })).toBeEnabled();
    expect(production.getByRole('button', { name: 'Resume' })).toBeDisabled();
    // Finished: only a new rollout.
    const staging = controls('staging');
    expect(
      staging.getByRole('button', { name: 'Start rollout' }),
    ).toBeEnabled();
    for (const name of ['Promote', 'Roll back', 'Pause', 'Resume']) {
      expect(staging.getByRole('button', { name })).toBeDisabled();
    }
    unmount();
  });

  it('hides the controls from users who may not manage deployments', async () => {
    serve({
      list: () => ({
        ...wineQualityDeployments,
        environments: [
          ...wineQualityDeployments.environments,
          { name: 'edge', target: 'embedded' },
        ],
      }),
      details: () => ({
        production: { ...productionDetail, canManage: false },
        staging: { ...stagingDetail, canManage: false },
      }),
    });
    const { permissionApi, unmount } = await render({ allowed: [] });

    await waitFor(() =>
      expect(permissionApi.authorize).toHaveBeenCalledWith({
        permission: deploymentManagePermission,
        resourceRef: `model:deployments-${testIndex}/wine-quality`,
      }),
    );
    expect(
      within(deploymentOf('edge')).getByText(/Nothing is deployed to edge yet/),
    ).toBeVisible();
    expect(screen.getAllByRole('table', { name: /^Analyses/ })).toHaveLength(1);
    expect(screen.queryByRole('group', { name: /^Controls/ })).toBeNull();
    for (const name of ['Start rollout', 'Promote', 'Roll back', 'Pause']) {
      expect(screen.queryByRole('button', { name })).toBeNull();
    }
    unmount();
  });

  it('starts a rollout where nothing is deployed, posting the version, strategy, steps and SLO chosen', async () => {
    let deployed = false;
    const requests = serve({
      list: () => ({
        items: deployed ? [productionDeployment] : [],
        environments: [
          { name: 'production', target: 'embedded', stage: 'Production' },
        ],
        defaults: wineQualityDeployments.defaults,
      }),
      details: () => ({
        production: deployed ? productionDetail : undefined,
      }),
    });
    const bodies: unknown[] = [];
    server.use(
      http.post(`${routes}/production/rollouts`, async ({ request }) => {
        bodies.push(await request.json());
        deployed = true;
        return HttpResponse.json(
          { ...productionDeployment, rollout: { ...canaryRollout, weight: 5 } },
          { status: 201 },
        );
      }),
    );
    const { alertApi, unmount } = await render();

    // Nothing to ask the details of until something is deployed.
    expect(requests).not.toContain('GET production');
    expect(
      screen.getByText(/Nothing is deployed to production yet/),
    ).toBeVisible();
    await userEvent.click(
      screen.getByRole('button', { name: 'Start rollout' }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Start a rollout of wine-quality to production',
    });

    // Ready versions only, newest first.
    const version = await within(dialog).findByLabelText('Version');
    expect(
      within(version)
        .getAllByRole('option')
        .map(option => option.textContent),
    ).toEqual([
      'Version 2 · Production · Ridge regression',
      'Version 1 · Archived · Ordinary least squares baseline',
    ]);
    await userEvent.selectOptions(version, '1');

    // Each strategy brings the server's default steps and SLO.
    const strategy = within(dialog).getByLabelText('Strategy');
    const steps = within(dialog).getByLabelText('Steps (%)');
    expect(steps).toHaveValue('10, 30, 100');
    expect(within(dialog).getByText(/default 40/)).toBeInTheDocument();
    await userEvent.selectOptions(strategy, 'shadow');
    expect(steps).toHaveValue('50');
    await userEvent.selectOptions(strategy, 'ab');
    expect(steps).toHaveValue('20');
    await userEvent.selectOptions(strategy, 'blue-green');
    expect(steps).toHaveValue('100');
    await userEvent.selectOptions(strategy, 'canary');
    expect(steps).toHaveValue('10, 30, 100');

    // Steps that are not percentages cannot be sent.
    await userEvent.clear(steps);
    await paste(steps, '5, twenty');
    const start = within(dialog).getByRole('button', { name: 'Start' });
    expect(start).toBeDisabled();
    expect(
      within(dialog).getByText(/Whole percentages from 1 to 100/),
    ).toBeVisible();
    await userEvent.clear(steps);
    await paste(steps, '5, 20, 100');

    await paste(within(dialog).getByLabelText('Max error rate (%)'), '2');
    await paste(within(dialog).getByLabelText('Max p95 latency (ms)'), '80');
    await paste(
      within(dialog).getByLabelText('Comment'),
      'Baseline again, carefully',
    );
    await userEvent.click(start);

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(bodies).toEqual([
      {
        version: 1,
        strategy: 'canary',
        steps: [5, 20, 100],
        slo: { maxErrorRate: 0.02, maxLatencyP95Ms: 80 },
        comment: 'Baseline again, carefully',
      },
    ]);
    expect(alertApi.post).toHaveBeenCalledWith({
      message: 'Canary of version 1 to production started at 5%.',
      severity: 'success',
      display: 'transient',
    });
    // Read again at once: the new deployment shows.
    expect(
      await within(deploymentOf('production')).findByRole('table', {
        name: 'Analyses in production',
      }),
    ).toBeInTheDocument();
    unmount();
  });

  it("promotes with a comment, and shows the server's message when the rollout's state refuses it", async () => {
    serve();
    const calls: Array<{ path: string; body: unknown }> = [];
    const refusal =
      'Rollout rollout-7 was rolled back by the analysis; only a progressing or paused rollout can be promoted';
    server.use(
      http.post(`${routes}/production/:action`, async ({ request }) => {
        calls.push({
          path: new URL(request.url).pathname,
          body: await request.json(),
        });
        return HttpResponse.json(
          {
            error: { name: 'ConflictError', message: refusal },
            response: { statusCode: 409 },
          },
          { status: 409 },
        );
      }),
    );
    const { alertApi, unmount } = await render();

    await userEvent.click(
      within(
        screen.getByRole('group', { name: 'Controls of production' }),
      ).getByRole('button', { name: 'Promote' }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Promote version 3 in production',
    });
    await paste(within(dialog).getByLabelText('Comment'), 'Looks good');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Promote' }),
    );

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(refusal);
    expect(calls).toEqual([
      {
        path: '/api/mlops/deployments/models/wine-quality/production/promote',
        body: { comment: 'Looks good' },
      },
    ]);
    // The dialog stays for another try or a cancel; nothing claimed success.
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    expect(alertApi.post).not.toHaveBeenCalled();
    unmount();
  });

  it('pauses, says so and reads the deployment again', async () => {
    let paused = false;
    const requests = serve({
      details: () => ({
        production: paused
          ? {
              ...productionDetail,
              deployment: {
                ...productionDeployment,
                rollout: {
                  ...canaryRollout,
                  state: 'paused',
                  reason: 'Waiting for the marketing launch',
                },
              },
            }
          : productionDetail,
        staging: stagingDetail,
      }),
    });
    server.use(
      http.post(`${routes}/production/pause`, () => {
        paused = true;
        return HttpResponse.json(productionDeployment);
      }),
    );
    const { alertApi, unmount } = await render();

    await userEvent.click(
      within(
        screen.getByRole('group', { name: 'Controls of production' }),
      ).getByRole('button', { name: 'Pause' }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Pause version 3 in production',
    });
    const reads = requests.filter(r => r === 'GET production').length;
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Pause' }),
    );

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(alertApi.post).toHaveBeenCalledWith({
      message: 'Rollout of version 3 in production paused.',
      severity: 'success',
      display: 'transient',
    });
    await waitFor(() =>
      expect(fieldIn('production', 'State')).toHaveTextContent('Paused'),
    );
    expect(requests.filter(r => r === 'GET production').length).toBeGreaterThan(
      reads,
    );
    expect(
      within(deploymentOf('production')).getByText(
        'Waiting for the marketing launch',
      ),
    ).toBeVisible();
    const controls = within(
      screen.getByRole('group', { name: 'Controls of production' }),
    );
    expect(controls.getByRole('button', { name: 'Resume' })).toBeEnabled();
    expect(controls.getByRole('button', { name: 'Pause' })).toBeDisabled();
    unmount();
  });

  it('refreshes while shown, so the steps are seen to advance', async () => {
    let polls = 0;
    serve({
      details: () => {
        polls += 1;
        const advanced = polls > 1;
        return {
          production: advanced
            ? {
                ...productionDetail,
                deployment: {
                  ...productionDeployment,
                  weights: { stable: 50, candidate: 50 },
                  rollout: { ...canaryRollout, stepIndex: 2, weight: 50 },
                },
              }
            : productionDetail,
          staging: stagingDetail,
        };
      },
    });
    const { unmount } = await render({ props: { pollIntervalMs: 100 } });

    expect(screen.getByText(/refreshes every 100 ms/)).toBeVisible();
    await waitFor(() =>
      expect(
        within(deploymentOf('production')).getByText(
          /At step 3 of 4 \(50%\) since/,
        ),
      ).toBeVisible(),
    );
    expect(
      within(deploymentOf('production')).getByRole('figure', {
        name: 'Traffic in production',
      }),
    ).toHaveTextContent('Candidate (version 3): 50%');
    unmount();
  });

  it('says when there is nothing to deploy yet', async () => {
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: [] }),
      ),
    );
    await renderInCatalog(<EntityModelDeploymentsContent />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [[permissionApiRef, fakePermissionApi()], discoveryApiPair],
    });

    expect(await screen.findByText('Nothing to deploy yet')).toBeVisible();
    expect(screen.queryByRole('region')).toBeNull();
  });
});
