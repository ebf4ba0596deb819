import {
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { ModelVersion, Run } from '@loopline/mlops-common';
import {
  lineageIdFromLocation,
  parseLineageName,
} from '@loopline/mlops-common';
import { Knex } from 'knex';
import { applyMigrations } from '../database/migrations';
import { LineageCatalog } from './LineageCatalog';
import { LineageImpactService } from './LineageImpact';
import { LineageService } from './LineageService';
import { LineageStore } from './LineageStore';
import { LooplineEmitter, runUuidOf } from './LooplineEmitter';
import { OpenLineageValidator } from './OpenLineageValidator';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const validator = new OpenLineageValidator();
const PRODUCER = 'https://airflow.example/openlineage';
const SCHEMA =
  'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

const entities = [
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'wine-quality-raw', namespace: 'default' },
    spec: {
      owner: 'group:wine-science',
      location: 'file:examples/data/winequality.csv',
    },
  },
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Dataset',
    metadata: {
      name: 'wine-features',
      namespace: 'default',
      annotations: { 'openlineage.io/dataset': 's3://lake/features/wine' },
    },
    spec: { owner: 'group:wine-science', location: 'file:elsewhere.parquet' },
  },
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Pipeline',
    metadata: {
      name: 'wine-features-job',
      namespace: 'default',
      annotations: { 'openlineage.io/job': 'airflow/wine.features' },
    },
    spec: { owner: 'group:data-eng' },
  },
  {
    apiVersion: 'loopline.dev/v1alpha1',
    kind: 'Model',
    metadata: { name: 'wine-quality', namespace: 'default' },
    spec: { owner: 'group:wine-science' },
  },
];

describe('lineage names of catalog entities', () => {
  it('parses annotations and derives names from spec.location', () => {
    expect(parseLineageName('s3://lake/features/wine')).toEqual({
      namespace: 's3://lake',
      name: 'features/wine',
    });
    expect(parseLineageName('postgres://db:5432/shop.public.orders')).toEqual({
      namespace: 'postgres://db:5432',
      name: 'shop.public.orders',
    });
    expect(parseLineageName('airflow/wine.features')).toEqual({
      namespace: 'airflow',
      name: 'wine.features',
    });
    expect(parseLineageName('no-slash')).toBeUndefined();
    expect(lineageIdFromLocation('file:examples/data/winequality.csv')).toEqual(
      {
        namespace: 'file',
        name: 'examples/data/winequality.csv',
      },
    );
    expect(lineageIdFromLocation('file:///data/x.csv')).toEqual({
      namespace: 'file',
      name: '/data/x.csv',
    });
    expect(lineageIdFromLocation('gs://bucket/a/b.parquet')).toEqual({
      namespace: 'gs://bucket',
      name: 'a/b.parquet',
    });
    expect(lineageIdFromLocation('data/local.csv')).toEqual({
      namespace: 'file',
      name: 'data/local.csv',
    });
    expect(runUuidOf('0123456789abcdef0123456789abcdef')).toBe(
      '01234567-89ab-cdef-0123-456789abcdef',
    );
  });
});

describe('LooplineEmitter', () => {
  it("falls back to the run's dataset location when the catalog cannot say", async () => {
    const emitter = new LooplineEmitter({
      getRun: async runId =>
        ({
          runId,
          experimentId: '1',
          runName: 'r',
          startTime: 0,
          endTime: Date.parse('2026-12-07T10:00:00Z'),
          metrics: [],
          params: {},
          tags: {
            'loopline.dev/dataset': 'dataset:default/wine-quality-raw',
            'loopline.dev/dataset-location':
              'file:examples/data/winequality.csv',
          },
        } as unknown as Run),
      getExperimentName: async () => 'wine-quality',
      datasetIdOf: async () => {
        throw new Error('catalog not ready');
      },
      ingest: async () => {},
      logger: mockServices.logger.mock(),
    });
    const event = await emitter.registrationEvent({
      name: 'wine-quality',
      version: 3,
      entityRef: 'model:default/wine-quality',
      source: 'runs:/x/model',
      runId: 'cd'.repeat(16),
    } as unknown as ModelVersion);
    expect(event.inputs).toEqual([
      { namespace: 'file', name: 'examples/data/winequality.csv' },
    ]);
    expect(event.run.runId).toBe(runUuidOf('cd'.repeat(16)));
    expect(event.outputs?.[0].facets?.version).toMatchObject({
      datasetVersion: 'v3',
    });
    expect(validator.validate(event)).toMatchObject({ valid: true });
  });
});

describe.each(databaseIds)('lineage impact on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
  }, 60_000);

  it('links nodes to the catalog, records registrations and answers impact both ways', async () => {
    const service = new LineageService(new LineageStore(knex), validator);
    const stages = new Map<number, string>([
      [1, 'Production'],
      [2, 'Staging'],
    ]);
    const registry = {
      findByEntityRef: async (ref: string) =>
        ref === 'model:default/wine-quality' ? [{ name: 'wine-quality' }] : [],
      getRegisteredModel: async (name: string) => {
        if (name !== 'wine-quality')
          throw Object.assign(new Error('no'), { name: 'NotFoundError' });
        return { entityRef: 'model:default/wine-quality' };
      },
      listVersions: async () =>
        [...stages].map(([version, stage]) => ({
          version,
          stage: stage as any,
        })),
    };
    const catalog = new LineageCatalog(
      catalogServiceMock({ entities: entities as any }),
      mockServices.auth(),
      registry,
    );

    // An Airflow job turns the raw CSV into features.
    const airflowRun = '0190b5c4-aaaa-7000-8000-000000000001';
    await service.ingest({
      eventType: 'COMPLETE',
      eventTime: '2026-12-07T09:00:00Z',
      producer: PRODUCER,
      schemaURL: SCHEMA,
      run: { runId: airflowRun },
      job: { namespace: 'airflow', name: 'wine.features' },
      inputs: [{ namespace: 'file', name: 'examples/data/winequality.csv' }],
      outputs: [
        {
          namespace: 's3://lake',
          name: 'features/wine',
          facets: {
            version: {
              _producer: PRODUCER,
              _schemaURL:
                'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
              datasetVersion: 'sha256:feed',
            },
          },
        },
      ],
    });

    // Two registrations from tracking runs that trained on the features.
    const runs = new Map<string, Run>();
    for (const n of [1, 2]) {
      const runId = `${'ab'.repeat(15)}0${n}`;
      runs.set(runId, {
        runId,
        experimentId: '7',
        runName: `setting-${n}`,
        userId: 'demo',
        status: 'FINISHED',
        startTime: Date.parse('2026-12-07T10:00:00Z'),
        endTime: Date.parse(`2026-12-07T10:0${n}:00Z`),
        artifactUri: '',
        lifecycleStage: 'active',
        metrics: [{ key: 'rmse', value: 0.5 + n / 10, timestamp: 0, step: 0 }],
        params: { alpha: String(n) },
        tags: { 'loopline.dev/dataset': 'dataset:default/wine-features' },
      });
    }
    const emitter = new LooplineEmitter({
      getRun: async id => runs.get(id)!,
      getExperimentName: async () => 'wine-quality',
      datasetIdOf: ref => catalog.datasetIdOf(ref),
      ingest: event => service.ingest(event),
      logger: mockServices.logger.mock(),
    });
    for (const n of [1, 2]) {
      await emitter.versionRegistered({
        name: 'wine-quality',
        version: n,
        entityRef: 'model:default/wine-quality',
        source: `runs:/${'ab'.repeat(15)}0${n}/model`,
        runId: `${'ab'.repeat(15)}0${n}`,
        artifact: { sha256: `${n}`.repeat(64), sizeBytes: 10 },
      } as unknown as ModelVersion);
    }
    const job = await service.getJob({
      namespace: 'loopline',
      name: 'mlflow/wine-quality',
    });
    expect(job.inputs).toEqual([
      { namespace: 's3://lake', name: 'features/wine' },
    ]);
    expect(job.outputs).toEqual([
      { namespace: 'loopline', name: 'models/wine-quality' },
    ]);
    expect(job.latestRun?.facets).toMatchObject({
      loopline_mlflowRun: { params: { alpha: '2' }, metrics: { rmse: 0.7 } },
    });

    const impact = new LineageImpactService(service, catalog, registry);
    const down = await impact.impact('dataset:default/wine-quality-raw');
    expect(down).toMatchObject({
      nodeId: 'dataset:file:examples/data/winequality.csv',
      direction: 'downstream',
      models: [
        {
          entityRef: 'model:default/wine-quality',
          name: 'wine-quality',
          owner: 'group:wine-science',
          versions: [
            { version: '2', stage: 'Staging' },
            { version: '1', stage: 'Production' },
          ],
          deployments: ['staging', 'production'],
        },
      ],
    });
    expect(down.nodes).toContainEqual({
      nodeId: 'job:airflow:wine.features',
      entityRef: 'pipeline:default/wine-features-job',
      owner: 'group:data-eng',
    });

    const up = await impact.impact('model:default/wine-quality');
    expect(up.direction).toBe('upstream');
    expect(up.datasets).toEqual([
      {
        nodeId: 'dataset:file:examples/data/winequality.csv',
        entityRef: 'dataset:default/wine-quality-raw',
        owner: 'group:wine-science',
        versions: [expect.objectContaining({ contentHash: null })],
      },
      {
        nodeId: 'dataset:s3://lake:features/wine',
        entityRef: 'dataset:default/wine-features',
        owner: 'group:wine-science',
        versions: [expect.objectContaining({ contentHash: 'sha256:feed' })],
      },
    ]);

    // The graph of the Model, with a node that is not in the catalog.
    await service.ingest({
      eventType: 'COMPLETE',
      eventTime: '2026-12-07T11:00:00Z',
      producer: PRODUCER,
      schemaURL: SCHEMA,
      run: { runId: '0190b5c4-aaaa-7000-8000-000000000009' },
      job: { namespace: 'spark', name: 'scoring' },
      inputs: [{ namespace: 'loopline', name: 'models/wine-quality' }],
      outputs: [{ namespace: 'hive', name: 'scores' }],
    });
    const graph = await impact.graph({
      entityRef: 'model:default/wine-quality',
    });
    expect(graph.nodeId).toBe('dataset:loopline:models/wine-quality');
    expect(graph.links).toContainEqual({
      nodeId: 'dataset:hive:scores',
      entityRef: null,
      owner: null,
    });
    expect(graph.links).toContainEqual({
      nodeId: 'dataset:loopline:models/wine-quality',
      entityRef: 'model:default/wine-quality',
      owner: 'group:wine-science',
    });
    // Where did prediction req-1 come from? v1, its run, the features it read.
    const provenance = new LineageImpactService(service, catalog, registry, {
      getRequest: async id =>
        id === 'req-1'
          ? [
              {
                modelName: 'wine-quality',
                version: 1,
                endpoint: 'production',
                route: 'v2/infer',
                source: 'embedded',
                status: 'ok',
                createdAt: 1,
              },
            ]
          : [],
      getVersion: async (name, version) => ({
        name,
        version,
        entityRef: 'model:default/wine-quality',
        stage: stages.get(version)!,
        runId: `${'ab'.repeat(15)}0${version}`,
        artifact: { sha256: `${version}`.repeat(64) },
      }),
      getRun: async id => runs.get(id)!,
    });
    expect(await provenance.provenanceEntityRef('req-1')).toBe(
      'model:default/wine-quality',
    );
    const chain = await provenance.provenance('req-1');
    expect(chain).toMatchObject({
      modelVersion: { version: 1, stage: 'Production', sha256: '1'.repeat(64) },
      trainingRun: { runName: 'setting-1', params: { alpha: '1' } },
      trainedOn: [
        {
          nodeId: 'dataset:s3://lake:features/wine',
          contentHash: 'sha256:feed',
        },
      ],
    });
    expect(chain.upstream.map(d => d.nodeId)).toEqual([
      'dataset:file:examples/data/winequality.csv',
      'dataset:s3://lake:features/wine',
    ]);
    await expect(provenance.provenance('req-404')).rejects.toMatchObject({
      name: 'NotFoundError',
    });

    const none = await impact.impact('dataset:default/unknown');
    expect(none).toMatchObject({ nodeId: null, models: [], datasets: [] });
  });
});
