import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registerMswTestHooks } from '@backstage/test-utils';
import type {
  LineageDatasetVersion,
  LineageEntityGraph,
  LineageImpact,
  LineageNode,
} from '@loopline/mlops-common';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { wineQuality, wineQualityRaw } from '../../__testUtils__/entities';
import {
  discoveryApiPair,
  mlopsBaseUrl,
  mswMlopsClient,
} from '../../__testUtils__/msw';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityLineageContent } from './EntityLineageContent';
import { filterByDirection, schemaChanges } from './lineageGraph';

const RAW = 'dataset:file:examples/data/winequality.csv';
const JOB = 'job:loopline:mlflow/wine-quality';
const MODEL = 'dataset:loopline:models/wine-quality';

function datasetNode(id: string, namespace: string, name: string): LineageNode {
  return {
    id,
    type: 'DATASET',
    data: {
      id: { namespace, name },
      type: 'DB_TABLE',
      name,
      physicalName: name,
      createdAt: '2026-12-07T10:00:00.000Z',
      updatedAt: '2026-12-07T10:00:00.000Z',
      namespace,
      sourceName: 'default',
      fields: [],
      tags: [],
      lastModifiedAt: null,
      lastLifecycleState: null,
      description: null,
      facets: { version: { datasetVersion: 'sha256:abc' } },
      currentVersion: null,
      deleted: false,
    },
    inEdges: [],
    outEdges: [],
  };
}

const rawNode = datasetNode(RAW, 'file', 'examples/data/winequality.csv');
const modelNode = datasetNode(MODEL, 'loopline', 'models/wine-quality');
rawNode.outEdges = [{ origin: RAW, destination: JOB }];
modelNode.inEdges = [{ origin: JOB, destination: MODEL }];
const jobNode: LineageNode = {
  id: JOB,
  type: 'JOB',
  data: {
    id: { namespace: 'loopline', name: 'mlflow/wine-quality' },
    type: 'BATCH',
    name: 'mlflow/wine-quality',
    simpleName: 'mlflow/wine-quality',
    parentJobName: null,
    parentJobUuid: null,
    createdAt: '2026-12-07T10:00:00.000Z',
    updatedAt: '2026-12-07T10:00:00.000Z',
    namespace: 'loopline',
    inputs: [{ namespace: 'file', name: 'examples/data/winequality.csv' }],
    outputs: [{ namespace: 'loopline', name: 'models/wine-quality' }],
    location: null,
    description: null,
    latestRun: {
      id: '0190b5c4-0000-7000-8000-000000000001',
      state: 'COMPLETED',
      endedAt: '2026-12-07T10:05:00.000Z',
    } as any,
    facets: {},
    currentVersion: null,
  },
  inEdges: [{ origin: RAW, destination: JOB }],
  outEdges: [{ origin: JOB, destination: MODEL }],
};

const rawGraph: LineageEntityGraph = {
  nodeId: RAW,
  graph: [rawNode, modelNode, jobNode],
  links: [
    {
      nodeId: RAW,
      entityRef: 'dataset:default/wine-quality-raw',
      owner: 'group:default/wine-science',
    },
    { nodeId: JOB, entityRef: null, owner: null },
    {
      nodeId: MODEL,
      entityRef: 'model:default/wine-quality',
      owner: 'group:default/wine-science',
    },
  ],
};

const rawImpact: LineageImpact = {
  entityRef: 'dataset:default/wine-quality-raw',
  nodeId: RAW,
  direction: 'downstream',
  models: [
    {
      entityRef: 'model:default/wine-quality',
      name: 'wine-quality',
      owner: 'group:default/wine-science',
      versions: [
        { version: '2', stage: 'Staging' },
        { version: '1', stage: 'Production' },
      ],
      deployments: ['staging', 'production'],
      via: [JOB],
    },
  ],
  datasets: [],
  nodes: rawGraph.links,
};

const version = (
  v: string,
  fields: Array<[string, string]>,
  hash: string,
): LineageDatasetVersion =>
  ({
    id: {
      namespace: 'file',
      name: 'examples/data/winequality.csv',
      version: v,
    },
    version: v,
    createdAt: `2026-12-0${v}T10:00:00.000Z`,
    fields: fields.map(([name, type]) => ({
      name,
      type,
      tags: [],
      description: null,
    })),
    contentHash: hash,
    rowCount: 1599,
    byteSize: null,
    createdByRun: { id: `run-${v}`, state: 'COMPLETED' },
    facets: {},
  } as unknown as LineageDatasetVersion);

describe('lineage graph helpers', () => {
  it('keeps one direction from the start node and describes schema changes', () => {
    expect(
      filterByDirection(rawGraph.graph, MODEL, 'upstream')
        .map(n => n.id)
        .sort(),
    ).toEqual([JOB, MODEL, RAW].sort());
    expect(
      filterByDirection(rawGraph.graph, MODEL, 'downstream').map(n => n.id),
    ).toEqual([MODEL]);
    expect(
      schemaChanges(
        [
          { name: 'a', type: 'INT', tags: [], description: null },
          { name: 'b', type: 'INT', tags: [], description: null },
        ],
        [
          { name: 'a', type: 'DOUBLE', tags: [], description: null },
          { name: 'c', type: 'INT', tags: [], description: null },
        ],
      ),
    ).toEqual(['a: INT → DOUBLE', '+c', '−b']);
  });
});

/** A graph node by its lineage node id. */
const graphNode = (id: string) =>
  screen
    .getAllByTestId('lineage-node')
    .find(node => node.getAttribute('aria-label') === id)!;

describe('EntityLineageContent', () => {
  const server = setupServer();
  registerMswTestHooks(server);

  beforeAll(() => {
    // jsdom does not lay out SVG; the graph measures its nodes.
    Object.defineProperty(window.SVGElement.prototype, 'getBBox', {
      value: () => ({ x: 0, y: 0, width: 220, height: 48 }),
      configurable: true,
    });
  });

  function serve() {
    const requests: string[] = [];
    server.use(
      http.get(`${mlopsBaseUrl}/lineage/graph`, ({ request }) => {
        const url = new URL(request.url);
        requests.push(
          `graph ${url.searchParams.get('entityRef')} ${url.searchParams.get(
            'depth',
          )}`,
        );
        return HttpResponse.json(rawGraph);
      }),
      http.get(`${mlopsBaseUrl}/lineage/impact`, () =>
        HttpResponse.json(rawImpact),
      ),
      http.get(
        `${mlopsBaseUrl}/openlineage/api/v1/namespaces/file/datasets/:name/versions`,
        ({ params }) => {
          requests.push(`versions ${params.name}`);
          return HttpResponse.json({
            versions: [
              version(
                '2',
                [
                  ['alcohol', 'DOUBLE'],
                  ['quality', 'INT'],
                ],
                'sha256:two',
              ),
              version('1', [['alcohol', 'DOUBLE']], 'sha256:one'),
            ],
            totalCount: 2,
          });
        },
      ),
      http.get(`${mlopsBaseUrl}/openlineage/api/v1/column-lineage`, () =>
        HttpResponse.json({
          graph: [
            {
              id: 'datasetField:loopline:models/wine-quality:alcohol',
              type: 'DATASET_FIELD',
              data: {
                namespace: 'loopline',
                dataset: 'models/wine-quality',
                datasetVersion: null,
                field: 'alcohol',
                fieldType: null,
                transformationDescription: null,
                transformationType: 'DIRECT',
                inputFields: [
                  {
                    namespace: 'file',
                    dataset: 'winequality.csv',
                    field: 'alcohol',
                    transformationDescription: null,
                    transformationType: 'DIRECT',
                  },
                ],
              },
              inEdges: [],
              outEdges: [],
            },
          ],
        }),
      ),
    );
    return requests;
  }

  it('draws the graph, marks nodes not in the catalog, lists the impact and the versions', async () => {
    const requests = serve();
    await renderInCatalog(<EntityLineageContent />, {
      entity: wineQualityRaw,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });

    await waitFor(() =>
      expect(screen.getAllByTestId('lineage-node')).toHaveLength(3),
    );
    expect(requests).toContain('graph dataset:default/wine-quality-raw 5');
    expect(graphNode(JOB)).toHaveTextContent('not in the catalog');
    expect(graphNode(RAW)).not.toHaveTextContent('not in the catalog');

    // The impact panel names the model, its versions, stages and deployments.
    const impact = await screen.findByText('Impact: models downstream');
    const impactTable = impact.closest('[class*="MuiPaper"]') as HTMLElement;
    await waitFor(() =>
      expect(
        within(impactTable).getByText('v2 (Staging), v1 (Production)'),
      ).toBeInTheDocument(),
    );
    expect(
      within(impactTable).getByText('staging, production'),
    ).toBeInTheDocument();

    // The Dataset page lists its versions with hash, rows and schema changes.
    await waitFor(() =>
      expect(screen.getByText('sha256:two')).toBeInTheDocument(),
    );
    expect(screen.getByText('+quality')).toBeInTheDocument();
    expect(screen.getByText('run-2 (COMPLETED)')).toBeInTheDocument();

    // Clicking a node opens its panel: catalog link, last run, facets.
    await userEvent.click(graphNode(JOB));
    const panel = await screen.findByRole('region', { name: 'Selected node' });
    expect(
      within(panel).getByText('Not in the catalog · owner unknown'),
    ).toBeInTheDocument();
    expect(within(panel).getByText(/COMPLETED · 0190b5c4/)).toBeInTheDocument();

    // The column-level toggle shows the columnLineage facets' fields.
    await userEvent.click(
      screen.getByRole('checkbox', { name: 'Column-level lineage' }),
    );
    expect(
      await screen.findByText('winequality.csv.alcohol (DIRECT)'),
    ).toBeInTheDocument();
  });

  it('says so when the entity names no lineage node', async () => {
    server.use(
      http.get(`${mlopsBaseUrl}/lineage/graph`, () =>
        HttpResponse.json({ nodeId: null, graph: [], links: [] }),
      ),
      http.get(`${mlopsBaseUrl}/lineage/impact`, () =>
        HttpResponse.json({
          ...rawImpact,
          nodeId: null,
          models: [],
          nodes: [],
        }),
      ),
    );
    await renderInCatalog(<EntityLineageContent />, {
      entity: wineQuality,
      mlopsApi: mswMlopsClient(),
      apis: [discoveryApiPair],
    });
    expect(await screen.findByText('No lineage yet')).toBeInTheDocument();
  });
});
