import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { alertApiRef } from '@backstage/core-plugin-api';
import { registerMswTestHooks } from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  modelAliasManagePermission,
  modelStageTransitionPermission,
  ModelVersion,
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
  aliasEvent,
  otherEvent,
  promotionEvent,
  version2,
  version3,
  wineQualityRegistered,
  wineQualityVersions,
} from '../../__testUtils__/registry';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityModelVersionsContent } from './EntityModelVersionsContent';

/**
 * The Model under test, in a namespace of its own per test: `usePermission`
 * caches decisions (SWR) by permission and resource across renders, so one
 * test's decisions would otherwise answer the next test's questions.
 */
let entity = wineQuality;
let entityRef = 'model:default/wine-quality';
let testIndex = 0;
beforeEach(() => {
  testIndex += 1;
  const namespace = `test-${testIndex}`;
  entity = { ...wineQuality, metadata: { ...wineQuality.metadata, namespace } };
  entityRef = `model:${namespace}/wine-quality`;
});

const allPermissions = [
  modelStageTransitionPermission.name,
  modelAliasManagePermission.name,
];

/** Types a text at once: key by key, the dialog's textarea is slow in jsdom. */
async function paste(field: HTMLElement, text: string) {
  await userEvent.click(field);
  await userEvent.paste(text);
}

const rowsOf = (tableName: string) =>
  within(screen.getByRole('table', { name: tableName }))
    .getAllByRole<HTMLTableRowElement>('row')
    .slice(1);

const cellTexts = (row: HTMLTableRowElement) =>
  Array.from(row.cells, cell => cell.textContent);

const versionRow = (version: number) =>
  rowsOf('Versions of wine-quality').find(
    row => row.cells[0].textContent === String(version),
  )!;

describe('EntityModelVersionsContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  /** The routes of a registry holding the wine-quality versions. */
  function serveRegistry(options: { versions?: () => ModelVersion[] } = {}) {
    const { versions = () => wineQualityVersions } = options;
    const requests: string[] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, ({ request }) => {
        requests.push(`models?${new URL(request.url).searchParams}`);
        return HttpResponse.json({ items: [wineQualityRegistered] });
      }),
      http.get(`${mlopsBaseUrl}/registry/models/wine-quality/versions`, () => {
        requests.push('versions');
        return HttpResponse.json({ items: versions() });
      }),
      http.get(`${mlopsBaseUrl}/audit`, ({ request }) => {
        requests.push(`audit?${new URL(request.url).searchParams}`);
        return HttpResponse.json({
          items: [aliasEvent, promotionEvent, otherEvent],
        });
      }),
    );
    return requests;
  }

  async function render(allowed: string[] = []) {
    const permissionApi = fakePermissionApi(allowed);
    const alertApi = { post: jest.fn() };
    await renderInCatalog(<EntityModelVersionsContent />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [
        [permissionApiRef, permissionApi],
        [alertApiRef, alertApi],
        discoveryApiPair,
      ],
    });
    await screen.findByRole('table', { name: 'Versions of wine-quality' });
    await screen.findByRole('table', { name: 'Registry history' });
    return { permissionApi, alertApi };
  }

  it('lists the versions of the registered models of the Model', async () => {
    const requests = serveRegistry();
    await render();

    expect(requests).toContain(`models?${new URLSearchParams({ entityRef })}`);
    expect(rowsOf('Versions of wine-quality').map(cellTexts)).toEqual([
      [
        '3',
        'None',
        '',
        'none',
        'not inspected',
        'external:demo-ci',
        new Date(version3.createdAt).toLocaleString(),
        'Pending',
      ],
      [
        '2',
        'Production',
        '@champion',
        // The model card's metrics (rmse, mae) first.
        'rmse 0.64, mae 0.5, r2 0.31',
        'features FP32[?, 11] → quality FP32[?, 1]',
        'bob',
        new Date(version2.createdAt).toLocaleString(),
        'Ready',
      ],
      [
        '1',
        'Archived',
        '',
        'rmse 0.66, mae 0.52, r2 0.29',
        'features FP32[?, 11] → quality FP32[?, 1]',
        'alice',
        expect.any(String),
        'Ready',
      ],
    ]);
    expect(
      within(versionRow(2)).getByText('Production').closest('[data-stage]'),
    ).toHaveAttribute('data-stage', 'Production');
    expect(
      within(versionRow(2)).getByRole('link', { name: 'bob' }),
    ).toHaveAttribute('href', '/catalog/default/user/bob');
  });

  it('shows the registry part of the audit trail with who, what and why', async () => {
    const requests = serveRegistry();
    await render();

    expect(requests).toContain(
      `audit?${new URLSearchParams({ entityRef, limit: '100' })}`,
    );
    expect(
      rowsOf('Registry history').map(row => cellTexts(row).slice(1)),
    ).toEqual([
      ['bob', 'Alias set', '2', '@champion: v1 → v2', 'New champion'],
      [
        'alice',
        'Stage transition',
        '2',
        'Staging → Production (archived version 1)',
        'Beats the baseline on the hold-out set',
      ],
    ]);
  });

  it('hides the actions from users without the permissions', async () => {
    serveRegistry();
    const { permissionApi } = await render([]);

    await waitFor(() =>
      expect(permissionApi.authorize).toHaveBeenCalledWith({
        permission: modelStageTransitionPermission,
        resourceRef: entityRef,
      }),
    );
    expect(permissionApi.authorize).toHaveBeenCalledWith({
      permission: modelAliasManagePermission,
      resourceRef: entityRef,
    });
    expect(
      screen.queryByRole('button', { name: 'Transition stage' }),
    ).toBeNull();
    expect(screen.queryByRole('button', { name: 'Set alias' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove alias' })).toBeNull();
    expect(screen.queryByRole('columnheader', { name: 'Actions' })).toBeNull();
  });

  it('shows each action to the users allowed it', async () => {
    serveRegistry();
    await render(allPermissions);

    const row = await waitFor(() => {
      const found = versionRow(2);
      within(found).getByRole('button', { name: 'Transition stage' });
      return found;
    });
    expect(
      within(row).getByRole('button', { name: 'Set alias' }),
    ).toBeEnabled();
    // Only a version with an alias has one to remove.
    expect(
      within(row).getByRole('button', { name: 'Remove alias' }),
    ).toBeEnabled();
    expect(
      within(versionRow(3)).queryByRole('button', { name: 'Remove alias' }),
    ).toBeNull();
  });

  it('shows only the alias actions to users who may manage aliases only', async () => {
    serveRegistry();
    await render([modelAliasManagePermission.name]);

    await waitFor(() =>
      expect(screen.getAllByRole('button', { name: 'Set alias' })).toHaveLength(
        3,
      ),
    );
    expect(
      screen.queryByRole('button', { name: 'Transition stage' }),
    ).toBeNull();
  });

  it('transitions a stage, then refreshes and says so', async () => {
    let current = wineQualityVersions;
    const requests = serveRegistry({ versions: () => current });
    let body: unknown;
    server.use(
      http.post(
        `${mlopsBaseUrl}/registry/models/wine-quality/versions/3/stage`,
        async ({ request }) => {
          body = await request.json();
          current = [
            { ...version3, stage: 'Production' },
            { ...version2, stage: 'Archived' },
            ...wineQualityVersions.slice(2),
          ];
          return HttpResponse.json(current[0]);
        },
      ),
    );
    const { alertApi } = await render(allPermissions);

    await userEvent.click(
      await within(versionRow(3)).findByRole('button', {
        name: 'Transition stage',
      }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Transition version 3 of wine-quality',
    });
    const stage = within(dialog).getByLabelText('Stage');
    // From None, the usual next stage is proposed; None itself is not offered.
    expect(stage).toHaveValue('Staging');
    expect(
      within(stage)
        .getAllByRole('option')
        .map(option => option.textContent),
    ).toEqual(['Staging', 'Production', 'Archived']);
    await userEvent.selectOptions(stage, 'Production');
    await paste(
      within(dialog).getByLabelText('Comment'),
      'Better rmse on the hold-out set',
    );
    const archive = within(dialog).getByRole('checkbox', {
      name: 'Archive existing versions in that stage',
    });
    await userEvent.click(archive);
    expect(
      within(dialog).getByText('Will archive version 2.'),
    ).toBeInTheDocument();
    const versionLoads = requests.filter(r => r === 'versions').length;
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Transition' }),
    );

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(body).toEqual({
      stage: 'Production',
      comment: 'Better rmse on the hold-out set',
      archiveExistingVersions: true,
    });
    expect(alertApi.post).toHaveBeenCalledWith({
      message: 'Version 3 of wine-quality moved from None to Production.',
      severity: 'success',
      display: 'transient',
    });
    await waitFor(() =>
      expect(within(versionRow(3)).getByText('Production')).toBeInTheDocument(),
    );
    expect(within(versionRow(2)).getByText('Archived')).toBeInTheDocument();
    expect(requests.filter(r => r === 'versions').length).toBe(
      versionLoads + 1,
    );
    expect(requests.filter(r => r.startsWith('audit')).length).toBe(2);
  });

  it('only offers to archive when moving to Staging or Production', async () => {
    serveRegistry();
    await render(allPermissions);

    await userEvent.click(
      await within(versionRow(2)).findByRole('button', {
        name: 'Transition stage',
      }),
    );
    const dialog = screen.getByRole('dialog');
    expect(within(dialog).getByLabelText('Stage')).toHaveValue('Archived');
    expect(
      within(dialog).getByRole('checkbox', {
        name: 'Archive existing versions in that stage',
      }),
    ).toBeDisabled();
  });

  it('keeps the dialog open with the backend message when a transition fails', async () => {
    serveRegistry();
    server.use(
      http.post(
        `${mlopsBaseUrl}/registry/models/wine-quality/versions/3/stage`,
        () =>
          HttpResponse.json(
            {
              error: {
                name: 'NotAllowedError',
                message: 'You may not transition wine-quality',
              },
              response: { statusCode: 403 },
            },
            { status: 403 },
          ),
      ),
    );
    const { alertApi } = await render(allPermissions);

    await userEvent.click(
      await within(versionRow(3)).findByRole('button', {
        name: 'Transition stage',
      }),
    );
    const dialog = screen.getByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Transition' }),
    );

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'You may not transition wine-quality',
    );
    expect(alertApi.post).not.toHaveBeenCalled();
  });

  it('sets an alias on a version with a comment', async () => {
    serveRegistry();
    let received: { alias: string; body: unknown } | undefined;
    server.use(
      http.put(
        `${mlopsBaseUrl}/registry/models/wine-quality/aliases/:alias`,
        async ({ request, params }) => {
          received = {
            alias: String(params.alias),
            body: await request.json(),
          };
          return HttpResponse.json({ ...version3, aliases: ['champion'] });
        },
      ),
    );
    const { alertApi } = await render(allPermissions);

    await userEvent.click(
      await within(versionRow(3)).findByRole('button', { name: 'Set alias' }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Set an alias on version 3 of wine-quality',
    });
    const submit = within(dialog).getByRole('button', { name: 'Set alias' });
    expect(submit).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Alias'), 'latest');
    expect(
      within(dialog).getByText('"latest" is reserved'),
    ).toBeInTheDocument();
    expect(submit).toBeDisabled();
    await userEvent.clear(within(dialog).getByLabelText('Alias'));
    await userEvent.type(within(dialog).getByLabelText('Alias'), 'champion');
    expect(
      within(dialog).getByText(
        '@champion points at version 2 now; it will move to version 3.',
      ),
    ).toBeInTheDocument();
    await paste(within(dialog).getByLabelText('Comment'), 'Promoted');
    await userEvent.click(submit);

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(received).toEqual({
      alias: 'champion',
      body: { version: 3, comment: 'Promoted' },
    });
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: '@champion now points at version 3 of wine-quality.',
        severity: 'success',
      }),
    );
  });

  it('removes an alias with a comment', async () => {
    serveRegistry();
    let received: string | undefined;
    server.use(
      http.delete(
        `${mlopsBaseUrl}/registry/models/wine-quality/aliases/champion`,
        ({ request }) => {
          received = new URL(request.url).searchParams.get('comment')!;
          return new HttpResponse(null, { status: 204 });
        },
      ),
    );
    const { alertApi } = await render(allPermissions);

    await userEvent.click(
      await within(versionRow(2)).findByRole('button', {
        name: 'Remove alias',
      }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'Remove an alias from version 2 of wine-quality',
    });
    expect(within(dialog).getByLabelText('Alias')).toHaveValue('champion');
    await paste(within(dialog).getByLabelText('Comment'), 'Rolled back');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Remove alias' }),
    );

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(received).toBe('Rolled back');
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: '@champion removed from version 2 of wine-quality.',
      }),
    );
  });

  it("shows a version's details: signature, metrics, params, artifact and source run", async () => {
    serveRegistry();
    await render();

    await userEvent.click(
      screen.getByRole('button', { name: 'Details of version 2' }),
    );
    const dialog = screen.getByRole('dialog', {
      name: 'wine-quality version 2',
    });
    const rows = (name: string) =>
      within(within(dialog).getByRole('table', { name }))
        .getAllByRole<HTMLTableRowElement>('row')
        .slice(1)
        .map(cellTexts);
    expect(rows('Signature')).toEqual([
      ['Input', 'features', 'FP32', '[?, 11]'],
      ['Output', 'quality', 'FP32', '[?, 1]'],
    ]);
    expect(rows('Metrics')).toEqual([
      ['rmse', '0.64'],
      ['mae', '0.5'],
      ['r2', '0.31'],
    ]);
    expect(rows('Parameters')).toEqual([
      ['alpha', '0.5'],
      ['solver', 'closed-form'],
    ]);
    expect(
      within(dialog).getByText(version2.artifact!.sha256),
    ).toBeInTheDocument();
    expect(within(dialog).getByText('2 KiB')).toBeInTheDocument();
    expect(
      within(dialog).getByRole('link', { name: version2.runId }),
    ).toHaveAttribute(
      'href',
      `/catalog/test-${testIndex}/model/wine-quality/experiments?run=${version2.runId}`,
    );

    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Close' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('explains how to register a version with MLflow when there is none', async () => {
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json({ items: [] }),
      ),
    );
    await renderInCatalog(<EntityModelVersionsContent />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [
        [permissionApiRef, fakePermissionApi()],
        [alertApiRef, { post: jest.fn() }],
        discoveryApiPair,
      ],
    });

    expect(
      await screen.findByText('No registered versions yet'),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(
        screen.getAllByText(
          /MLFLOW_TRACKING_URI=http:\/\/backstage.test\/api\/mlops\/mlflow/,
        ).length,
      ).toBeGreaterThan(0),
    );
    expect(screen.getAllByText(/register_model/).length).toBeGreaterThan(0);
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows why the versions could not be loaded', async () => {
    server.use(
      http.get(`${mlopsBaseUrl}/registry/models`, () =>
        HttpResponse.json(
          {
            error: { name: 'NotAllowedError', message: 'No reading for you' },
            response: { statusCode: 403 },
          },
          { status: 403 },
        ),
      ),
    );
    await renderInCatalog(<EntityModelVersionsContent />, {
      entity,
      mlopsApi: mswMlopsClient(),
      apis: [[permissionApiRef, fakePermissionApi()], discoveryApiPair],
    });

    expect(
      await screen.findByText(/Could not load the registered models/),
    ).toBeInTheDocument();
  });

  it("shows each version's latest gate decision when the Model has gates, and offers the override only to a platform group", async () => {
    serveRegistry();
    const results = [
      {
        id: 'g3',
        model: 'wine-quality',
        version: 3,
        entityRef: 'model:default/wine-quality',
        context: 'transition',
        passed: false,
        checks: [
          {
            gate: 'metric:rmse',
            passed: false,
            observed: 1.2,
            threshold: 0.9,
            message: 'rmse 1.2000 is above the maximum 0.9',
          },
        ],
        actor: 'user:default/alice',
        evaluatedAt: '2026-12-07T12:00:00.000Z',
      },
      {
        id: 'g2',
        model: 'wine-quality',
        version: 2,
        entityRef: 'model:default/wine-quality',
        context: 'evaluate',
        passed: true,
        checks: [
          {
            gate: 'metric:rmse',
            passed: true,
            observed: 0.64,
            message: 'rmse 0.6400 is within its bounds',
          },
        ],
        actor: 'plugin:mlops',
        pipelineRunId: 'run-1',
        evaluatedAt: '2026-12-06T12:00:00.000Z',
      },
    ];
    server.use(
      http.get(`${mlopsBaseUrl}/gates/models/wine-quality/results`, () =>
        HttpResponse.json({ items: results }),
      ),
    );
    entity = {
      ...entity,
      spec: {
        ...entity.spec,
        gates: { metrics: [{ metric: 'rmse', max: 0.9 }] },
      },
    };
    await render([...allPermissions, 'loopline.model.gate.override']);
    expect(
      await screen.findByLabelText('Gates of version 3: Refused'),
    ).toBeInTheDocument();
    expect(
      screen.getByLabelText('Gates of version 2: Passed'),
    ).toHaveTextContent('pipeline, 1/1 checks');
    expect(
      within(versionRow(1)).getByText('not evaluated'),
    ).toBeInTheDocument();

    await userEvent.click(
      within(versionRow(3)).getByRole('button', { name: 'Transition stage' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.selectOptions(
      within(dialog).getByLabelText('Stage'),
      'Production',
    );
    await userEvent.click(
      within(dialog).getByRole('checkbox', {
        name: /Override the Model's gates/,
      }),
    );
    // An override needs a comment.
    expect(
      within(dialog).getByRole('button', { name: 'Transition' }),
    ).toBeDisabled();
  });
});
