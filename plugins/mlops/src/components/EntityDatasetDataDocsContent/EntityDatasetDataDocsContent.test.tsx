import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registerMswTestHooks } from '@backstage/test-utils';
import { DatasetValidation } from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineQualityRaw } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityDatasetDataDocsContent } from './EntityDatasetDataDocsContent';

const failed: DatasetValidation = {
  id: 'v2',
  entityRef: 'dataset:default/wine-quality-raw',
  location: 'file:examples/data/winequality.csv',
  success: false,
  statistics: {
    evaluatedExpectations: 2,
    successfulExpectations: 1,
    unsuccessfulExpectations: 1,
    successPercent: 50,
  },
  rowCount: 608,
  results: [
    {
      type: 'expect_column_values_to_not_be_null',
      column: 'alcohol',
      kwargs: {},
      success: true,
      elementCount: 608,
      unexpectedCount: 0,
      unexpectedPercent: 0,
      partialUnexpectedList: [],
    },
    {
      type: 'expect_column_values_to_be_in_set',
      column: 'color',
      kwargs: { values: ['red', 'white'] },
      success: false,
      elementCount: 608,
      unexpectedCount: 2,
      unexpectedPercent: 0.33,
      partialUnexpectedList: ['rose', 'rose'],
      message: '2 of 608 values of color (0.33%) are unexpected',
    },
  ],
  pipelineRunId: '6f1c1a52-7b6e-4b8e-9a51-3c1f4f7b2a10',
  validatedAt: '2026-12-07T12:00:00.000Z',
};
const passed: DatasetValidation = {
  ...failed,
  id: 'v1',
  success: true,
  statistics: {
    evaluatedExpectations: 1,
    successfulExpectations: 1,
    unsuccessfulExpectations: 0,
    successPercent: 100,
  },
  results: [failed.results[0]],
  validatedAt: '2026-12-06T12:00:00.000Z',
};

describe('EntityDatasetDataDocsContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  it("shows the latest validation's expectations, with the failed one's offenders, and the history", async () => {
    server.use(
      http.get(
        `${mlopsBaseUrl}/datasets/default/wine-quality-raw/validations`,
        () => HttpResponse.json({ items: [failed, passed] }),
      ),
    );
    await renderInCatalog(<EntityDatasetDataDocsContent />, {
      entity: wineQualityRaw,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });
    expect(
      await screen.findByText('1 of 2 expectations failed'),
    ).toBeInTheDocument();
    const results = screen.getByRole('table', { name: 'Expectation results' });
    const rows = within(results).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[2]).getByText('Failed')).toBeInTheDocument();
    expect(
      within(rows[2]).getByText(
        '2 of 608 values of color (0.33%) are unexpected',
      ),
    ).toBeInTheDocument();
    expect(
      within(rows[2]).getByText('values=[red, white]'),
    ).toBeInTheDocument();
    expect(within(rows[2]).getByText('rose, rose')).toBeInTheDocument();

    // An older validation, picked from the history.
    const history = screen.getByRole('table', { name: 'Validation history' });
    expect(within(history).getAllByRole('row')).toHaveLength(3);
    await userEvent.click(within(history).getAllByRole('button')[1]);
    expect(await screen.findByText('All expectations met')).toBeInTheDocument();
  });

  it('says what to do when the dataset was never validated', async () => {
    server.use(
      http.get(
        `${mlopsBaseUrl}/datasets/default/wine-quality-raw/validations`,
        () => HttpResponse.json({ items: [] }),
      ),
    );
    await renderInCatalog(<EntityDatasetDataDocsContent />, {
      entity: wineQualityRaw,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });
    expect(await screen.findByText('Not validated yet')).toBeInTheDocument();
  });
});
