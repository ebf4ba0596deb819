import {
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type {
  DatasetVersionPayload,
  Deployment,
  ModelVersion,
  Run,
} from '@loopline/mlops-common';
import { DATASET_VERSION_TOPIC } from '@loopline/mlops-common';
import { Knex } from 'knex';
import { applyMigrations } from '../database/migrations';
import { publishDatasetVersions } from './index';
import { LineageCatalog } from './LineageCatalog';
import { LineageService } from './LineageService';
import { LineageStore } from './LineageStore';
import {
  LooplineEmitter,
  mlflowDataset,
  runUuidOf,
} from './LooplineEmitter';
import { OpenLineageValidator } from './OpenLineageValidator';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });
const validator = new OpenLineageValidator();

const RUN_ID = 'ab'.repeat(16);
const run: Run = {
  runId: RUN_ID,
  runName: 'train-1',
  experimentId: '7',
  status: 'RUNNING',
  startTime: Date.parse('2026-12-07T10:00:00Z'),
  endTime: Date.parse('2026-12-07T10:05:00Z'),
  params: { alpha: '0.5' },
  metrics: [{ key: 'rmse', value: 0.61, timestamp: 0, step: 0 }],
  tags: {},
} as unknown as Run;

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
];

/** MLflow's `mlflow.data` dataset of a pandas frame read from a file. */
const mlflowInput = {
  dataset: {
    name: 'wine',
    digest: 'd1g35t',
    source_type: 'local',
    source: JSON.stringify({ uri: 'file:examples/data/winequality.csv' }),
    schema: JSON.stringify({
      mlflow_colspec: [
        { name: 'alcohol', type: 'double' },
        { name: 'quality', type: 'long' },
      ],
    }),
  },
  tags: [{ key: 'mlflow.data.context', value: 'training' }],
};

function deployment(
  action: 'start' | 'promote',
  candidateVersion: number,
): Deployment {
  return {
    id: 'dep-1',
    modelName: 'wine-quality',
    entityRef: 'model:default/wine-quality',
    environment: 'production',
    target: 'embedded',
    weights:
      action === 'start'
        ? { stable: 90, candidate: 10 }
        : { stable: 100, candidate: 0 },
    stableVersion: action === 'start' ? undefined : candidateVersion,
    rollout: {
      id: `rollout-${candidateVersion}`,
      deploymentId: 'dep-1',
      strategy: 'canary',
      state: action === 'start' ? 'progressing' : 'promoted',
      candidateVersion,
      steps: [10, 100],
      stepIndex: 0,
      weight: 10,
      slo: {},
      startedBy: 'user:default/ada',
      startedAt: '2026-12-07T11:00:00Z',
      stepStartedAt: '2026-12-07T11:00:00Z',
    },
    createdAt: '2026-12-07T11:00:00Z',
    updatedAt: '2026-12-07T11:00:00Z',
  } as unknown as Deployment;
}

describe('mlflowDataset', () => {
  it("names a dataset by its source's URI, with digest and schema", () => {
    expect(mlflowDataset(mlflowInput)).toMatchObject({
      namespace: 'file',
      name: 'examples/data/winequality.csv',
      facets: {
        version: { datasetVersion: 'd1g35t' },
        schema: {
          fields: [
            { name: 'alcohol', type: 'double' },
            { name: 'quality', type: 'long' },
          ],
        },
        loopline_mlflowDataset: { name: 'wine', context: 'training' },
      },
    });
    expect(
      mlflowDataset({ dataset: { name: 'frame', source: 'not json' } }),
    ).toMatchObject({ namespace: 'mlflow', name: 'frame' });
    expect(mlflowDataset({})).toBeUndefined();
  });
});

describe.each(databaseIds)("Loopline's own lineage events on %s", id => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(id);
    await applyMigrations(knex);
  }, 60_000);

  it('records MLflow run inputs and outputs, registrations and rollouts, and announces new versions', async () => {
    const published: DatasetVersionPayload[] = [];
    const catalog = new LineageCatalog(
      catalogServiceMock({ entities: entities as any }),
      mockServices.auth(),
      {
        findByEntityRef: async () => [{ name: 'wine-quality' }],
        getRegisteredModel: async () => ({
          entityRef: 'model:default/wine-quality',
        }),
      },
    );
    const logger = mockServices.logger.mock();
    const service = new LineageService(
      new LineageStore(knex),
      validator,
      Date.now,
      versions =>
        publishDatasetVersions(
          versions,
          catalog,
          {
            publish: async ({ topic, eventPayload }) => {
              expect(topic).toBe(DATASET_VERSION_TOPIC);
              published.push(eventPayload as DatasetVersionPayload);
            },
          },
          logger,
        ),
    );
    const emitter = new LooplineEmitter({
      getRun: async runId => {
        if (runId !== RUN_ID) throw new Error('no such run');
        return run;
      },
      getExperimentName: async () => 'wine',
      datasetIdOf: ref => catalog.datasetIdOf(ref),
      ingest: event => service.ingest(event),
      logger,
    });

    // MLflow's log-inputs and outputs: the run reads the CSV, writes a logged model.
    await emitter.inputsLogged(RUN_ID, [mlflowInput]);
    await emitter.outputsLogged(RUN_ID, [{ modelId: 'm-1', step: 3 }]);
    const mlflowRun = await service.getRun(runUuidOf(RUN_ID));
    expect(mlflowRun.state).toBe('RUNNING');
    expect(
      mlflowRun.inputDatasetVersions.map(v => v.datasetVersionId.name),
    ).toEqual(['examples/data/winequality.csv']);
    expect(
      mlflowRun.outputDatasetVersions.map(v => v.datasetVersionId.name),
    ).toEqual(['mlflow/logged-models/m-1']);
    // A run that has not completed announces nothing.
    expect(published).toEqual([]);

    // The registration completes the run: run → model version.
    await emitter.versionRegistered({
      name: 'wine-quality',
      version: 1,
      runId: RUN_ID,
      entityRef: 'model:default/wine-quality',
      source: 'runs:/x/model',
      artifact: { sha256: 'f'.repeat(64) },
    } as unknown as ModelVersion);
    const job = await service.getJob({ namespace: 'loopline', name: 'mlflow/wine' });
    expect(logger.warn).not.toHaveBeenCalled();
    expect(job.latestRun?.state).toBe('COMPLETED');
    expect(job.inputs).toEqual([
      { namespace: 'file', name: 'examples/data/winequality.csv' },
    ]);
    expect(job.outputs).toEqual([
      { namespace: 'loopline', name: 'mlflow/logged-models/m-1' },
      { namespace: 'loopline', name: 'models/wine-quality' },
    ]);
    expect(published).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          namespace: 'loopline',
          name: 'models/wine-quality',
          version: `sha256:${'f'.repeat(64)}`,
        }),
      ]),
    );
    // A model's dataset has no Dataset entity to name.
    expect(
      published.find(p => p.name === 'models/wine-quality')?.entityRef,
    ).toBeUndefined();

    // A rollout: the model version deployed to production.
    await emitter.rolloutChanged({
      deployment: deployment('start', 1),
      action: 'start',
    });
    const rolloutJob = {
      namespace: 'loopline',
      name: 'rollout/wine-quality/production',
    };
    expect((await service.getJob(rolloutJob)).latestRun?.state).toBe(
      'RUNNING',
    );
    await emitter.rolloutChanged({
      deployment: deployment('promote', 1),
      action: 'promote',
    });
    const deployed = await service.getJob(rolloutJob);
    expect(deployed.latestRun?.state).toBe('COMPLETED');
    expect(deployed.inputs).toEqual([
      { namespace: 'loopline', name: 'models/wine-quality' },
    ]);
    expect(deployed.outputs).toEqual([
      { namespace: 'loopline', name: 'deployments/wine-quality/production' },
    ]);
    const { versions } = await service.listDatasetVersions(
      { namespace: 'loopline', name: 'deployments/wine-quality/production' },
      { limit: 10, offset: 0 },
    );
    expect(versions[0].facets).toMatchObject({
      loopline_deployment: {
        environment: 'production',
        candidateVersion: 1,
        weights: { stable: 100, candidate: 0 },
      },
    });

    // The whole chain in one graph: CSV → training → model → deployment.
    const { graph } = await service.getLineage(
      'dataset:file:examples/data/winequality.csv',
      20,
    );
    expect(graph.map(n => n.id)).toEqual(
      expect.arrayContaining([
        'job:loopline:mlflow/wine',
        'dataset:loopline:models/wine-quality',
        'job:loopline:rollout/wine-quality/production',
        'dataset:loopline:deployments/wine-quality/production',
      ]),
    );

    // An external job completing a write to a catalog Dataset announces it with its entity.
    await service.ingest({
      eventType: 'COMPLETE',
      eventTime: '2026-12-07T12:00:00Z',
      producer: 'https://airflow.example',
      schemaURL:
        'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: '0190b5c4-aaaa-7000-8000-00000000e001' },
      job: { namespace: 'airflow', name: 'refresh.raw' },
      outputs: [
        {
          namespace: 'file',
          name: 'examples/data/winequality.csv',
          facets: {
            version: {
              _producer: 'https://airflow.example',
              _schemaURL:
                'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json',
              datasetVersion: 'v2',
            },
          },
        },
      ],
    });
    expect(published[published.length - 1]).toEqual({
      namespace: 'file',
      name: 'examples/data/winequality.csv',
      version: 'v2',
      entityRef: 'dataset:default/wine-quality-raw',
      producedAt: expect.any(String),
    });

    // Lineage never fails the action it records.
    await expect(
      emitter.inputsLogged('unknown', [mlflowInput]),
    ).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalled();
  });
});
