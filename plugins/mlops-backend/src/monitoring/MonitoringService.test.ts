import {
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { Registry } from 'prom-client';
import type { MonitoringAlertEvent } from '@loopline/mlops-common';
import { MONITORING_ALERT_TOPIC } from '@loopline/mlops-common';
import { applyMigrations } from '../database/migrations';
import { findDemoDataDir } from '../demo/datasets';
import { readDataset } from '../datasets';
import { InferenceLogStore } from '../serving/log/InferenceLogStore';
import type { NewInferenceLogRow } from '../serving/log/types';
import { createAlerter } from './alerts';
import { readMonitoringConfig } from './config';
import { MonitoringMetrics } from './metrics';
import { MonitoringStore } from './MonitoringStore';
import { Adwin } from './statistics';
import {
  ModelDirectory,
  MonitoredModel,
  MonitoringService,
} from './MonitoringService';
import { ConfigReader } from '@backstage/config';

jest.setTimeout(120_000);

const databaseIds: TestDatabaseId[] = ['POSTGRES_15', 'SQLITE_3'];
const databases = TestDatabases.create({ ids: databaseIds });

const FEATURES = [
  'fixed_acidity',
  'volatile_acidity',
  'citric_acid',
  'residual_sugar',
  'chlorides',
  'free_sulfur_dioxide',
  'total_sulfur_dioxide',
  'density',
  'pH',
  'sulphates',
  'alcohol',
  'is_red',
];

const MODEL: MonitoredModel = {
  name: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  type: 'regression',
  trainedOn: ['dataset:default/wine-features'],
  monitoring: {
    drift: { method: 'ks', threshold: 0.05, schedule: '*/5 * * * *' },
    quality: { metric: 'rmse', max: 0.5 },
    alerts: { cooldownMinutes: 30 },
  },
};

/** The catalog's answers for the demo's wine Model and its Dataset. */
const directory: ModelDirectory = {
  async getModel(name) {
    return name === MODEL.name ? MODEL : undefined;
  },
  async listModels() {
    return [MODEL];
  },
  async getDataset(ref) {
    return ref === 'dataset:default/wine-features'
      ? {
          entityRef: ref,
          location: 'file:examples/data/wine-features.parquet',
          format: 'parquet',
          features: FEATURES,
          target: 'quality',
        }
      : undefined;
  },
};

describe.each(databaseIds)('MonitoringService on %s', databaseId => {
  let knex: Knex;
  let now: number;
  let holdout: Record<string, (number | string | null)[]>;

  beforeAll(async () => {
    knex = await databases.init(databaseId);
    await applyMigrations(knex);
    holdout = (await readDataset(`${findDemoDataDir()}/wine-holdout.parquet`))
      .data;
  });

  beforeEach(async () => {
    for (const table of [
      'monitoring_active_references',
      'monitoring_ground_truth_cursors',
      'monitoring_change_points',
      'monitoring_adwin',
      'monitoring_alerts',
      'monitoring_schedules',
      'monitoring_drift_reports',
      'monitoring_reference_profiles',
      'serving_ground_truth',
      'serving_inference_log',
    ]) {
      await knex(table).delete();
    }
    now = Date.parse('2026-12-07T12:00:00Z');
  });

  function harness() {
    const store = new MonitoringStore(knex);
    const log = new InferenceLogStore(knex);
    const events = mockServices.events.mock();
    const notifications = { send: jest.fn() };
    const registry = new Registry();
    const reads: string[] = [];
    const service = new MonitoringService({
      store,
      models: directory,
      log,
      featureNamesOf: async () => FEATURES,
      readDataset: async (location, format) => {
        reads.push(location);
        return readDataset(location, {
          format,
          roots: [`${findDemoDataDir()}/../..`],
        });
      },
      config: readMonitoringConfig(
        new ConfigReader({ mlops: { monitoring: { minRows: 20 } } }),
      ),
      metrics: new MonitoringMetrics(registry),
      alerter: createAlerter({
        store,
        events,
        notifications: notifications as any,
        serviceCredentials: async () => ({} as any),
        logger: mockServices.logger.mock(),
        now: () => now,
      }),
      logger: mockServices.logger.mock(),
      now: () => now,
    });
    return { service, store, log, events, notifications, registry, reads };
  }

  /** Logs the hold-out rows as requests to version 2, `alcohol` shifted by `shift`. */
  async function logRequests(
    log: InferenceLogStore,
    options: { shift: number; truthOffset?: number; prefix: string },
  ) {
    const n = holdout.alcohol.length;
    const rows: NewInferenceLogRow[] = [];
    for (let i = 0; i < n; i++) {
      const record = FEATURES.map(f =>
        f === 'alcohol'
          ? (holdout[f][i] as number) + options.shift
          : (holdout[f][i] as number),
      );
      rows.push({
        requestId: `${options.prefix}-${i}`,
        modelName: MODEL.name,
        version: 2,
        route: 'oip',
        source: 'embedded',
        status: 'ok',
        httpStatus: 200,
        latencyMs: 3,
        sampleRate: 1,
        inputs: JSON.stringify([
          { name: 'input', shape: [1, 12], datatype: 'FP32', data: record },
        ]),
        outputs: JSON.stringify([
          {
            name: 'variable',
            shape: [1, 1],
            datatype: 'FP32',
            data: [holdout.quality[i]],
          },
        ]),
        createdAt: now - 60_000 + i,
      });
    }
    await log.insertBatch(rows);
    await log.upsertGroundTruth(
      rows.map((r, i) => ({
        requestId: r.requestId,
        value: (holdout.quality[i] as number) + (options.truthOffset ?? 0),
      })),
      now,
    );
  }

  it('finds no drift on requests like the reference and stores the report', async () => {
    const { service, log, events } = harness();
    await logRequests(log, { shift: 0, prefix: 'same' });
    const [report] = await service.run(MODEL.name, { trigger: 'manual' });
    expect(report).toMatchObject({
      model: 'wine-quality',
      version: '2',
      status: 'ok',
      datasetDrift: false,
      rowCount: holdout.alcohol.length,
      sampled: false,
    });
    const alcohol = report.features.find(f => f.name === 'alcohol')!;
    expect(alcohol).toMatchObject({
      method: 'ks',
      drifted: false,
      status: 'ok',
    });
    expect(report.quality).toMatchObject({ rmse: 0, mae: 0, r2: 1 });
    expect(events.publish).not.toHaveBeenCalled();
    const history = await service.history(MODEL.name, {});
    expect(history.latest?.id).toBe(report.id);
    expect(history.latest?.features).toHaveLength(FEATURES.length);
    expect(history.history[0].scores.alcohol).toBeCloseTo(alcohol.pValue!, 12);
  });

  it('detects shifted features, alerts once per cooldown, and sets the gauges', async () => {
    const { service, log, events, notifications, registry, reads } = harness();
    await logRequests(log, { shift: 2.5, prefix: 'shifted' });
    const [report] = await service.run(MODEL.name, { trigger: 'manual' });
    const alcohol = report.features.find(f => f.name === 'alcohol')!;
    expect(alcohol.drifted).toBe(true);
    expect(alcohol.pValue).toBeLessThan(1e-6);
    // The hold-out rows differ from the training rows by chance only: the
    // shift adds alcohol to what drifts unshifted, and that is no dataset
    // drift by Evidently's rule (share < 0.5).
    const [unshifted] = await harness().service.run(MODEL.name, {
      trigger: 'manual',
      version: '999',
    });
    const driftedBefore = unshifted.features.filter(f => f.drifted);
    expect(driftedBefore.length).toBe(0); // nothing logged for v999
    const drifted = report.features.filter(f => f.drifted).map(f => f.name);
    expect(drifted).toContain('alcohol');
    expect(report.datasetDrift).toBe(drifted.length / 12 >= 0.5);
    expect(report.numberOfDriftedColumns).toBe(drifted.length);
    expect(report.distributions?.find(d => d.name === 'alcohol')).toBeDefined();
    const metrics = await registry.getSingleMetricAsString(
      'loopline_drift_score',
    );
    expect(metrics).toContain('feature="alcohol",method="ks"');

    // The reference was read once and is reused from the store.
    await service.run(MODEL.name, { trigger: 'manual' });
    expect(reads).toHaveLength(1);

    // A model that alerts at any drifted share: one alert per cooldown.
    MODEL.monitoring!.alerts = { cooldownMinutes: 30, minDriftShare: 0.05 };
    try {
      await service.run(MODEL.name, { trigger: 'manual' });
      await service.run(MODEL.name, { trigger: 'manual' });
      expect(events.publish).toHaveBeenCalledTimes(1);
      const { topic, eventPayload } = events.publish.mock.calls[0][0];
      expect(topic).toBe(MONITORING_ALERT_TOPIC);
      expect(eventPayload as MonitoringAlertEvent).toMatchObject({
        kind: 'drift',
        model: 'wine-quality',
        version: '2',
        entityRef: 'model:default/wine-quality',
        driftedFeatures: drifted,
      });
      expect(notifications.send).toHaveBeenCalledWith(
        expect.objectContaining({
          recipients: { type: 'entity', entityRef: MODEL.entityRef },
        }),
      );
      now += 31 * 60_000;
      await logRequests(log, { shift: 2.5, prefix: 'later' });
      await service.run(MODEL.name, { trigger: 'manual' });
      expect(events.publish).toHaveBeenCalledTimes(2);
    } finally {
      MODEL.monitoring!.alerts = { cooldownMinutes: 30 };
    }
  });

  it('alerts on quality below the SLO and reports it over time', async () => {
    const { service, log, events } = harness();
    await logRequests(log, { shift: 0, truthOffset: 1, prefix: 'q' });
    await service.run(MODEL.name, { trigger: 'manual' });
    expect(events.publish).toHaveBeenCalledWith(
      expect.objectContaining({
        eventPayload: expect.objectContaining({ kind: 'quality' }),
      }),
    );
    const quality = await service.quality(MODEL.name, {});
    expect(quality.points).toHaveLength(1);
    expect(quality.points[0].metrics.rmse).toBeCloseTo(1, 12);
    expect(quality.slo).toEqual({ metric: 'rmse', max: 0.5 });
  });

  it('says insufficient data for a nearly empty window, and never fails', async () => {
    const { service } = harness();
    const [report] = await service.run(MODEL.name, { trigger: 'manual' });
    expect(report).toMatchObject({
      status: 'insufficient_data',
      datasetDrift: false,
      rowCount: 0,
    });
    expect(new Set(report.features.map(f => f.status))).toEqual(
      new Set(['insufficient_data']),
    );
  });

  it('runs a due schedule once when two ticks race', async () => {
    const { service, log } = harness();
    await logRequests(log, { shift: 0, prefix: 'tick' });
    // The first tick records the schedule and its next run.
    expect(await service.tick()).toEqual([]);
    const history = await service.history(MODEL.name, {});
    expect(history.nextRunAt).toBe('2026-12-07T12:05:00.000Z');
    now = Date.parse('2026-12-07T12:05:30Z');
    const results = await Promise.all([service.tick(), service.tick()]);
    expect(results.flat()).toEqual(['wine-quality']);
    const reports = await service.history(MODEL.name, {});
    expect(reports.history).toHaveLength(1);
    expect(reports.history[0].trigger).toBe('schedule');
    expect(reports.nextRunAt).toBe('2026-12-07T12:10:00.000Z');
  });

  it('feeds late ground truth to ADWIN in arrival order, once, and alerts on the change', async () => {
    const { service, log, events, store } = harness();
    // Requests of a minute ago, their ground truth still to come.
    await logRequests(log, { shift: 0, prefix: 'gt' });
    await knex('serving_ground_truth').delete();
    const ids = (await log.listRecent({ modelName: MODEL.name, limit: 10_000 }))
      .sort((a, b) => a.id - b.id)
      .map(r => r.requestId);
    const n = ids.length;
    const half = Math.floor(n / 2);
    // The newer half is labelled first, exactly (error 0)...
    await log.upsertGroundTruth(
      ids.slice(half).map((requestId, i) => ({
        requestId,
        value: holdout.quality[half + i],
      })),
      now - 30_000,
    );
    expect(await service.tick()).toEqual([]);
    expect(await store.getGroundTruthCursor(MODEL.name)).toMatchObject({
      at: now - 30_000,
    });
    expect(events.publish).not.toHaveBeenCalled();
    // ...then the older half, late and 3 points off: requests older than
    // the cursor's, yet read because their labels arrived after it.
    await log.upsertGroundTruth(
      ids.slice(0, half).map((requestId, i) => ({
        requestId,
        value: (holdout.quality[i] as number) + 3,
      })),
      now - 10_000,
    );
    // Two instances racing: the rows are fed once.
    await Promise.all([service.tick(), service.tick()]);

    const expected = new Adwin();
    const detections: number[] = [];
    [...Array(n - half).fill(0), ...Array(half).fill(3)].forEach((e, i) => {
      expected.update(e);
      if (expected.driftDetected) detections.push(i);
    });
    expect(detections.length).toBeGreaterThan(0);
    const { changePoints } = await service.quality(MODEL.name, {});
    expect(changePoints).toHaveLength(detections.length);
    expect(changePoints[0]).toMatchObject({
      version: '2',
      at: new Date(now - 10_000).toISOString(),
    });
    const alerts = events.publish.mock.calls.map(
      c => c[0].eventPayload as MonitoringAlertEvent,
    );
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'concept_drift', version: '2' }),
    ]);
    // Nothing new: nothing fed, nothing raised.
    await service.tick();
    expect(events.publish).toHaveBeenCalledTimes(1);

    // The quality of a window is over the labels that arrived in it.
    const [report] = await service.run(MODEL.name, {
      trigger: 'manual',
      windowMinutes: 5,
    });
    expect(report.quality?.count).toBe(n);
    expect(report.quality?.mae).toBeCloseTo((3 * half) / n, 9);
  });

  it('compares with a pinned window of the log instead of the Dataset', async () => {
    const { service, log, reads } = harness();
    await logRequests(log, { shift: 0, prefix: 'pin' });
    const pinned = await service.setReference(MODEL.name, {
      window: {
        since: new Date(now - 120_000).toISOString(),
        until: new Date(now).toISOString(),
        version: 2,
      },
    });
    expect(pinned).toMatchObject({
      source: 'log',
      rowCount: holdout.alcohol.length,
      window: { version: 2 },
    });
    expect(pinned.columns).toEqual([...FEATURES, 'quality']);
    const [report] = await service.run(MODEL.name, { trigger: 'manual' });
    expect(report.referenceId).toBe(pinned.id);
    // The same requests on both sides: nothing drifts, and the Dataset was never read.
    expect(report.features.every(f => !f.drifted && f.statistic === 0)).toBe(
      true,
    );
    expect(reads).toEqual([]);
    expect(report.targetDrift?.statistic).toBe(0);
    await expect(
      service.setReference(MODEL.name, {
        window: {
          since: new Date(now - 10 * 86_400_000).toISOString(),
          until: new Date(now - 9 * 86_400_000).toISOString(),
        },
      }),
    ).rejects.toThrow(/fewer than 20/);
  });

  it('summarizes a Model for the overview, and alerts on its serving SLOs', async () => {
    const { service, log, events } = harness();
    await logRequests(log, { shift: 0, truthOffset: 0.25, prefix: 'sum' });
    MODEL.monitoring!.slos = { latencyP95Ms: 2, minRequests: 10 };
    try {
      await service.run(MODEL.name, { trigger: 'manual' });
    } finally {
      delete MODEL.monitoring!.slos;
    }
    expect(events.publish).toHaveBeenCalledWith(
      expect.objectContaining({
        eventPayload: expect.objectContaining({
          kind: 'serving',
          summary: 'p95 latency 3.0 ms is above 2 ms',
        }),
      }),
    );
    const [row] = await service.summary([MODEL]);
    expect(row).toMatchObject({
      model: MODEL.name,
      drift: { status: 'no_drift', version: '2' },
      quality: { metric: 'rmse', version: '2', withinSlo: true },
    });
    expect(row.quality!.value).toBeCloseTo(0.25, 9);
    expect(row.requestRate).toBeCloseTo(holdout.alcohol.length / 300, 9);
  });
});
