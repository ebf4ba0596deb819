import { Knex } from 'knex';
import {
  mockCredentials,
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { DatasetEntityV1alpha1 } from '@loopline/mlops-common';
import {
  createPipelineHarness,
  pipelineEntity,
  prepareDatabase,
} from './__testUtils__/harness';
import { PipelineTriggers, sameLocation } from './triggers';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

describe.each(databaseIds)('pipeline triggers on %s', databaseId => {
  let knex: Knex;
  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await prepareDatabase(knex);
  }, 60_000);

  let counter = 0;
  const unique = (name: string) => `${name}-${++counter}`;

  function backend(clock: { now: number }) {
    const harness = createPipelineHarness(knex, { now: () => clock.now });
    const datasets = new Map<string, DatasetEntityV1alpha1>();
    const triggers = new PipelineTriggers({
      service: harness.service,
      pipelines: harness.source,
      store: harness.store,
      datasets: { getDataset: async ref => datasets.get(ref) },
      serviceCredentials: async () => mockCredentials.service('plugin:mlops'),
      logger: mockServices.logger.mock(),
      now: () => clock.now,
    });
    return { ...harness, triggers, datasets };
  }

  it('runs each schedule slot once, with two backends ticking, and never a lost slot', async () => {
    const clock = { now: Date.parse('2026-12-07T04:00:20Z') };
    const a = backend(clock);
    const b = backend(clock);
    const name = unique('nightly');
    const entity = pipelineEntity(name, [{ name: 'a', run: 'true' }], {
      schedule: '0 4 * * *',
      triggers: [{ type: 'schedule', cron: '0 4 * * *' }],
    });
    a.source.add(entity);
    b.source.add(entity);

    const [fromA, fromB] = await Promise.all([
      a.triggers.tick(),
      b.triggers.tick(),
    ]);
    expect([...fromA, ...fromB]).toHaveLength(1);
    // Later ticks in the same slot change nothing.
    clock.now += 60_000;
    expect(await a.triggers.tick()).toEqual([]);
    expect(await b.triggers.tick()).toEqual([]);
    await a.service.idle();
    await b.service.idle();
    const runs = await a.store.listRuns(name, { limit: 10, offset: 0 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      state: 'succeeded',
      trigger: {
        type: 'schedule',
        cause: 'Schedule 0 4 * * *, slot 2026-12-07T04:00:00.000Z',
      },
    });

    // Both backends down at the next slot; the first tick after, within the
    // lateness, still runs it.
    clock.now = Date.parse('2026-12-08T04:40:00Z');
    expect(await b.triggers.tick()).toHaveLength(1);
    await b.service.idle();
    expect(await a.store.listRuns(name, { limit: 10, offset: 0 })).toHaveLength(
      2,
    );
    // Beyond the lateness, a slot is not run.
    clock.now = Date.parse('2026-12-09T05:30:00Z');
    expect(await a.triggers.tick()).toEqual([]);
  });

  it('retrains on a monitoring alert for its model, once per alert, with the alert as parameters', async () => {
    const clock = { now: Date.now() };
    const a = backend(clock);
    const name = unique('retrain');
    a.source.add(
      pipelineEntity(
        name,
        [
          {
            name: 'show',
            run: 'sleep 0.5; echo "$LOOPLINE_PARAM_ALERT_KIND $LOOPLINE_PARAM_ALERT_DRIFT_SHARE"',
          },
        ],
        { triggers: [{ type: 'drift', model: 'model:wine-quality' }] },
      ),
    );
    a.source.add(
      pipelineEntity(unique('other'), [{ name: 'x', run: 'true' }], {
        triggers: [{ type: 'drift', model: 'model:default/customer-churn' }],
      }),
    );
    const alert = {
      kind: 'drift' as const,
      severity: 'warning' as const,
      entityRef: 'model:default/wine-quality',
      model: 'wine-quality',
      version: '3',
      reportId: `report-${name}`,
      shareOfDriftedColumns: 0.27,
      driftedFeatures: ['alcohol', 'sulphates', 'pH'],
      summary: '3 of 11 features drifted',
      raisedAt: '2026-12-07T12:00:00Z',
    };
    const created = await a.triggers.onMonitoringAlert(alert);
    expect(created).toHaveLength(1);
    expect(await a.triggers.onMonitoringAlert(alert)).toEqual([]);
    // The same episode's quality alert, while its retraining is under way, joins it.
    const quality = {
      ...alert,
      kind: 'quality' as const,
      reportId: undefined,
      raisedAt: '2026-12-07T12:00:05Z',
    };
    expect(await a.triggers.onMonitoringAlert(quality)).toEqual([]);
    await a.service.idle();
    const run = await a.service.getRun(name, created[0]);
    expect(run).toMatchObject({
      state: 'succeeded',
      trigger: {
        type: 'drift',
        cause:
          'Monitoring alert (drift) on model:default/wine-quality: 3 of 11 features drifted',
      },
      parameters: {
        alert_report_id: alert.reportId,
        alert_model: 'model:default/wine-quality',
        alert_version: '3',
        alert_drift_share: '0.27',
        alert_drifted_features: 'alcohol,sulphates,pH',
      },
    });
    const logs = await a.service.readLogs(name, run.id, {
      after: 0,
      limit: 10,
    });
    expect(logs.items.map(l => l.text)).toEqual(['drift 0.27']);
    // Once it is over, a new alert retrains again.
    expect(
      await a.triggers.onMonitoringAlert({
        ...quality,
        raisedAt: '2026-12-07T12:30:00Z',
      }),
    ).toHaveLength(1);
    await a.service.idle();
    expect(
      await a.triggers.onMonitoringAlert({
        ...alert,
        entityRef: 'not a ref::',
      }),
    ).toEqual([]);
  });

  it('runs on a new dataset version and on a changed Dataset entity', async () => {
    const clock = { now: Date.now() };
    const a = backend(clock);
    const name = unique('prep');
    a.source.add(
      pipelineEntity(name, [{ name: 'x', run: 'true' }], {
        triggers: [{ type: 'dataset-update', dataset: 'wine-quality-raw' }],
      }),
    );
    const event = {
      namespace: 'file',
      name: 'examples/data/winequality.csv',
      entityRef: 'dataset:default/wine-quality-raw',
      version: 'v7',
      producedAt: '2026-12-07T12:00:00Z',
    };
    expect(await a.triggers.onDatasetVersion(event)).toHaveLength(1);
    expect(await a.triggers.onDatasetVersion(event)).toEqual([]);
    expect(
      await a.triggers.onDatasetVersion({ ...event, entityRef: 'other' }),
    ).toEqual([]);
    // Not in the catalog: no Dataset to match a trigger.
    expect(
      await a.triggers.onDatasetVersion({
        ...event,
        entityRef: undefined,
        version: 'v8',
      }),
    ).toEqual([]);

    const dataset: DatasetEntityV1alpha1 = {
      apiVersion: 'loopline.dev/v1alpha1',
      kind: 'Dataset',
      metadata: { name: 'wine-quality-raw' },
      spec: {
        type: 'raw',
        format: 'csv',
        owner: 'group:wine-science',
        lifecycle: 'production',
        location: 'examples/data/winequality.csv',
      } as unknown as DatasetEntityV1alpha1['spec'],
    };
    a.datasets.set('dataset:default/wine-quality-raw', dataset);
    // First sight: a baseline only.
    expect(await a.triggers.tick()).toEqual([]);
    expect(await a.triggers.tick()).toEqual([]);
    a.datasets.set('dataset:default/wine-quality-raw', {
      ...dataset,
      spec: { ...dataset.spec, location: 'examples/data/winequality-v2.csv' },
    });
    const created = await a.triggers.tick();
    expect(created).toHaveLength(1);
    await a.service.idle();
    expect(await a.service.getRun(name, created[0])).toMatchObject({
      state: 'succeeded',
      trigger: {
        type: 'dataset-update',
        cause:
          'The Dataset dataset:default/wine-quality-raw changed in the catalog',
      },
    });

    // The lineage domain's event: by entity ref, else by OpenLineage name.
    expect(
      await a.triggers.onDatasetVersion({
        namespace: 'file',
        name: '/data/elsewhere.csv',
        version: 'v8',
        entityRef: 'dataset:default/wine-quality-raw',
      }),
    ).toHaveLength(1);
    const byName = await a.triggers.onDatasetVersion({
      namespace: 'file',
      name: '/srv/loopline/examples/data/winequality-v2.csv',
      version: 'v9',
    });
    expect(byName).toHaveLength(1);
    expect(
      await a.triggers.onDatasetVersion({
        namespace: 's3://other-bucket',
        name: 'examples/data/winequality-v2.csv',
        version: 'v10',
      }),
    ).toEqual([]);
    await a.service.idle();
    expect(await a.service.getRun(name, byName[0])).toMatchObject({
      parameters: {
        dataset: 'dataset:default/wine-quality-raw',
        dataset_version: 'v9',
      },
      trigger: {
        type: 'dataset-update',
        cause: 'New version v9 of dataset:default/wine-quality-raw',
      },
    });
  });

  it('matches OpenLineage dataset names with Dataset locations', () => {
    expect(
      sameLocation('s3://lake/raw/events/', 's3://lake', 'raw/events'),
    ).toBe(true);
    expect(
      sameLocation(
        'file:examples/data/x.csv',
        'file',
        '/repo/examples/data/x.csv',
      ),
    ).toBe(true);
    expect(sameLocation('file:///repo/x.csv', 'file', '/repo/x.csv')).toBe(
      true,
    );
    expect(
      sameLocation(
        'file:examples/data/x.csv',
        'file',
        '/repo/examples/data/y.csv',
      ),
    ).toBe(false);
    expect(
      sameLocation('s3://lake/raw/events', 's3://other', 'raw/events'),
    ).toBe(false);
  });
});
