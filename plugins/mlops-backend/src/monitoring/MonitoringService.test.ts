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
});
