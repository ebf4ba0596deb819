/**
 * Model monitoring: drift of a Model version's recent requests against its
 * reference, prediction and target drift, quality against ground truth,
 * ADWIN over the per-request error stream, on each Model's schedule or on
 * demand, with alerts. No Express and no knex here.
 */
import { randomUUID } from 'crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import { CronTime } from 'cron';
import type {
  DriftCompareRequest,
  DriftComparison,
  DriftFeatureResult,
  DriftHistoryResponse,
  DriftReport,
  DriftTestMethod,
  FeatureDistribution,
  MonitoringAlertEvent,
  MonitoringConfig as ModelMonitoringSpec,
  QualityMetrics,
  QualityResponse,
} from '@loopline/mlops-common';
import { toDriftTestMethod } from '@loopline/mlops-common';
import { quantile } from 'simple-statistics';
import type { DatasetTable, DatasetValue } from '../datasets';
import type { InferenceLogRecord } from '../serving/log/types';
import type { MonitoringAlerter } from './alerts';
import type { MonitoringConfig } from './config';
import type { MonitoringMetrics } from './metrics';
import type { MonitoringStore, ReferenceProfile } from './MonitoringStore';
import {
  classificationQuality,
  QualityPair,
  regressionQuality,
  requestError,
} from './quality';
import {
  Adwin,
  binnedShares,
  ColumnProfile,
  compareColumns,
  compareProfiles,
  profileColumn,
  Reservoir,
  seedFor,
  testColumn,
} from './statistics';
import { groundTruthValues, mainOutputValues } from '../serving/log/decode';
import { decodeFeatureRecords, positiveScores } from './window';

/** A Model as monitoring sees it (from the catalog). */
export interface MonitoredModel {
  name: string;
  entityRef: string;
  /** `regression`, `classification`, ... */
  type?: string;
  trainedOn?: string[];
  monitoring?: ModelMonitoringSpec;
}

export interface MonitoredDataset {
  entityRef: string;
  location: string;
  format?: string;
  /** Fields with role `feature`, in schema order. */
  features: string[];
  /** The field with role `target`, if any. */
  target?: string;
}

/** Where Models and Datasets are described (the catalog). */
export interface ModelDirectory {
  getModel(name: string): Promise<MonitoredModel | undefined>;
  listModels(): Promise<MonitoredModel[]>;
  getDataset(entityRef: string): Promise<MonitoredDataset | undefined>;
}

/** The inference log's query the monitors need (InferenceLogStore has it). */
export interface InferenceWindowReader {
  listRecent(options: {
    modelName: string;
    since?: number;
    until?: number;
    version?: number;
    limit: number;
  }): Promise<InferenceLogRecord[]>;
}

export interface MonitoringServiceOptions {
  store: MonitoringStore;
  models: ModelDirectory;
  log: InferenceWindowReader;
  /** The model's feature names in input order (its feature layout), when served. */
  featureNamesOf: (modelName: string) => Promise<string[] | undefined>;
  readDataset: (location: string, format?: string) => Promise<DatasetTable>;
  config: MonitoringConfig;
  alerter?: MonitoringAlerter;
  metrics?: MonitoringMetrics;
  logger: LoggerService;
  now?: () => number;
}

const REGRESSION_TYPES = new Set(['regression', 'forecasting']);
const DISTRIBUTION_MAX_BINS = 40;

export class MonitoringService {
  private readonly now: () => number;

  constructor(private readonly options: MonitoringServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The stateless comparison of `POST /drift/compare`. */
  compare(request: DriftCompareRequest): DriftComparison {
    return compareColumns(request.reference.columns, request.current.columns, {
      methods: request.methods,
      thresholds: request.thresholds,
      driftShare: request.driftShare,
      correction: request.correction,
      minCount: 1,
    });
  }

  async requireModel(name: string): Promise<MonitoredModel> {
    const model = await this.options.models.getModel(name);
    if (!model) throw new NotFoundError(`No Model entity named ${name}`);
    return model;
  }

  /**
   * The reference profile of a Model: its `spec.monitoring.drift.reference`
   * Dataset, else the first it is trained on. Computed once per Dataset
   * location and stored, so a scheduled check never re-reads the file.
   */
  async referenceOf(
    model: MonitoredModel,
  ): Promise<{ profile: ReferenceProfile; target?: string }> {
    const ref = model.monitoring?.drift?.reference ?? model.trainedOn?.[0];
    if (!ref) {
      throw new InputError(
        `Model ${model.name} names no drift reference (spec.monitoring.drift.reference) and no training Dataset (spec.trainedOn)`,
      );
    }
    const datasetRef = ref.includes(':') ? ref : `dataset:${ref}`;
    const dataset = await this.options.models.getDataset(datasetRef);
    if (!dataset)
      throw new NotFoundError(
        `No Dataset entity ${datasetRef} (the reference of ${model.name})`,
      );
    const key = `dataset:${dataset.entityRef}@${dataset.location}`;
    const stored = await this.options.store.getReferenceProfile(
      model.name,
      key,
    );
    if (stored) return { profile: stored, target: dataset.target };
    const table = await this.options.readDataset(
      dataset.location,
      dataset.format,
    );
    const names = new Set([
      ...dataset.features,
      ...(dataset.target ? [dataset.target] : []),
    ]);
    const columns = dataset.features.length
      ? table.columns.filter(c => names.has(c))
      : table.columns;
    const rows = sampleIndices(
      table.rowCount,
      this.options.config.maxReferenceRows,
      seedFor(key),
    );
    const profile = await this.options.store.saveReferenceProfile({
      modelName: model.name,
      referenceKey: key,
      source: 'dataset',
      rowCount: table.rowCount,
      sampled: rows.length < table.rowCount,
      columns: Object.fromEntries(
        columns.map(c => [c, profileColumn(rows.map(i => table.data[c][i]))]),
      ),
    });
    return { profile, target: dataset.target };
  }

  /**
   * Drift reports of a Model over the log's last window: one per version
   * that served requests in it (or one `insufficient_data` report when none
   * did), each stored, measured and alerted on.
   */
  async run(
    name: string,
    options: {
      trigger: 'schedule' | 'manual';
      version?: string;
      windowMinutes?: number;
    },
  ): Promise<DriftReport[]> {
    const model = await this.requireModel(name);
    const { config } = this.options;
    const { profile, target } = await this.referenceOf(model);
    const windowMinutes =
      options.windowMinutes ??
      model.monitoring?.drift?.windowMinutes ??
      config.windowMinutes;
    const windowEnd = this.now();
    const windowStart = windowEnd - windowMinutes * 60_000;
    const records = await this.options.log.listRecent({
      modelName: model.name,
      since: windowStart,
      until: windowEnd + 1,
      ...(options.version && options.version !== 'all'
        ? { version: Number(options.version) }
        : {}),
      limit: config.maxLogRows,
    });
    const byVersion = new Map<string, InferenceLogRecord[]>();
    for (const record of records) {
      if (record.version === undefined) continue;
      const key = String(record.version);
      byVersion.set(key, [...(byVersion.get(key) ?? []), record]);
    }
    if (byVersion.size === 0) byVersion.set(options.version ?? 'all', []);
    const featureNames =
      (await this.featureNames(model)) ??
      Object.keys(profile.columns).filter(c => c !== target);
    const reports: DriftReport[] = [];
    for (const [version, rows] of byVersion) {
      const report = await this.report(
        model,
        profile,
        target,
        featureNames,
        version,
        rows,
        {
          windowStart,
          windowEnd,
          trigger: options.trigger,
        },
      );
      await this.options.store.insertReport(report);
      this.options.metrics?.record(report);
      await this.updateAdwin(model, version, rows);
      await this.alert(model, report);
      reports.push(report);
    }
    return reports;
  }

  private async featureNames(
    model: MonitoredModel,
  ): Promise<string[] | undefined> {
    try {
      const names = await this.options.featureNamesOf(model.name);
      return names && names.length ? names : undefined;
    } catch (error) {
      this.options.logger.warn(
        `No feature layout for ${model.name}: ${(error as Error)?.message}`,
      );
      return undefined;
    }
  }

  private async report(
    model: MonitoredModel,
    reference: ReferenceProfile,
    target: string | undefined,
    featureNames: string[],
    version: string,
    records: InferenceLogRecord[],
    window: {
      windowStart: number;
      windowEnd: number;
      trigger: 'schedule' | 'manual';
    },
  ): Promise<DriftReport> {
    const { config } = this.options;
    const ok = records.filter(r => r.status === 'ok');
    const errors = records.length - ok.length;
    const latencies = records
      .map(r => r.latencyMs)
      .filter((l): l is number => typeof l === 'number');
    const reservoir = new Reservoir<Record<string, DatasetValue>>(
      config.maxCurrentRows,
      seedFor(`${model.name}:${version}:${window.windowStart}`),
    );
    const predictions: DatasetValue[] = [];
    const truths: DatasetValue[] = [];
    const pairs: QualityPair[] = [];
    let undecoded = 0;
    // Oldest first, so that a sample is the same whichever way the log was read.
    for (const record of [...ok].reverse()) {
      const decoded = decodeFeatureRecords(record.inputs, featureNames);
      if (!decoded) {
        undecoded++;
        continue;
      }
      for (const row of decoded) reservoir.add(row);
      const predicted = mainOutputValues(record.outputs) ?? [];
      for (const p of predicted)
        predictions.push(typeof p === 'boolean' ? String(p) : p);
      const truth = record.groundTruth
        ? groundTruthValues(record.groundTruth.value)
        : undefined;
      if (truth) {
        const scores = positiveScores(record.outputs);
        for (let i = 0; i < Math.min(truth.length, predicted.length); i++) {
          truths.push(
            typeof truth[i] === 'boolean'
              ? String(truth[i])
              : (truth[i] as DatasetValue),
          );
          pairs.push({
            predicted: predicted[i],
            actual: truth[i],
            ...(scores ? { score: scores[i] } : {}),
          });
        }
      }
    }
    const sample = reservoir.sample();
    const base = {
      id: randomUUID(),
      model: model.name,
      version,
      referenceId: reference.id,
      windowStart: new Date(window.windowStart).toISOString(),
      windowEnd: new Date(window.windowEnd).toISOString(),
      createdAt: new Date(this.now()).toISOString(),
      trigger: window.trigger,
      rowCount: reservoir.count,
      sampled: reservoir.sampled,
      undecodedRequests: undecoded,
      serving: {
        requests: records.length,
        errorRate: records.length ? errors / records.length : 0,
        ...(latencies.length
          ? { latencyP95Ms: quantile(latencies, 0.95) }
          : {}),
      },
    };
    const drift = model.monitoring?.drift;
    const method = drift?.method ? toDriftTestMethod(drift.method) : undefined;
    const methods: Record<string, DriftTestMethod> = {};
    const thresholds: Record<string, number> = {};
    for (const name of featureNames) {
      if (method) methods[name] = method;
      if (method && drift?.threshold !== undefined)
        thresholds[name] = drift.threshold;
    }
    const driftShare = drift?.driftShare ?? 0.5;
    if (reservoir.count < config.minRows) {
      const features: DriftFeatureResult[] = featureNames.map(name => ({
        ...testColumn(
          name,
          reference.columns[name],
          profileColumn(sample.map(r => r[name])),
          {
            method: methods[name],
            threshold: thresholds[name],
            minCount: Number.MAX_SAFE_INTEGER,
          },
        ),
        status: 'insufficient_data',
        message: `${reservoir.count} rows in the window, fewer than ${config.minRows}`,
      }));
      return {
        ...base,
        status: 'insufficient_data',
        datasetDrift: false,
        driftShare,
        numberOfColumns: 0,
        numberOfDriftedColumns: 0,
        shareOfDriftedColumns: 0,
        features,
      };
    }
    const current: Record<string, ColumnProfile> = {};
    for (const name of featureNames)
      current[name] = profileColumn(sample.map(r => r[name]));
    const referenceColumns: Record<string, ColumnProfile> = {};
    for (const name of featureNames) {
      if (reference.columns[name])
        referenceColumns[name] = reference.columns[name];
    }
    const comparison = compareProfiles(referenceColumns, current, {
      methods,
      thresholds,
      driftShare,
      minCount: config.minFeatureValues,
    });
    const targetProfile = target ? reference.columns[target] : undefined;
    const regression = REGRESSION_TYPES.has(model.type ?? '');
    const quality = pairs.length
      ? regression
        ? regressionQuality(pairs)
        : classificationQuality(pairs)
      : undefined;
    return {
      ...base,
      ...comparison,
      status: 'ok',
      distributions: comparison.features
        .map(f =>
          distributionOf(f.name, referenceColumns[f.name], current[f.name]),
        )
        .filter((d): d is FeatureDistribution => d !== undefined),
      ...(targetProfile
        ? {
            predictionDrift: testColumn(
              'prediction',
              targetProfile,
              profileColumn(predictions),
              {
                minCount: config.minFeatureValues,
              },
            ),
            targetDrift: testColumn(
              'target',
              targetProfile,
              profileColumn(truths),
              {
                minCount: config.minFeatureValues,
              },
            ),
          }
        : {}),
      ...(quality ? { quality } : {}),
    };
  }

  /** Feeds the window's new (request error) values to the version's ADWIN and stores what it found. */
  private async updateAdwin(
    model: MonitoredModel,
    version: string,
    records: InferenceLogRecord[],
  ) {
    const stored = await this.options.store.getAdwin(model.name, version);
    const adwin = new Adwin({}, stored?.state);
    const regression = REGRESSION_TYPES.has(model.type ?? '');
    const fresh = records
      .filter(r => r.groundTruth && r.status === 'ok')
      .filter(
        r =>
          !stored ||
          r.createdAt > stored.lastCreatedAt ||
          (r.createdAt === stored.lastCreatedAt && r.id > stored.lastLogId),
      )
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    if (!fresh.length) return;
    const changePoints: Array<{ at: number; estimation: number }> = [];
    for (const record of fresh) {
      const predicted = mainOutputValues(record.outputs) ?? [];
      const truth = groundTruthValues(record.groundTruth!.value) ?? [];
      for (let i = 0; i < Math.min(predicted.length, truth.length); i++) {
        const error = requestError(
          { predicted: predicted[i], actual: truth[i] },
          regression,
        );
        if (error === undefined) continue;
        adwin.update(error);
        if (adwin.driftDetected)
          changePoints.push({
            at: record.createdAt,
            estimation: adwin.estimation,
          });
      }
    }
    const last = fresh[fresh.length - 1];
    await this.options.store.saveAdwin(
      model.name,
      version,
      adwin.state(),
      { createdAt: last.createdAt, logId: last.id },
      changePoints,
    );
    if (
      changePoints.length &&
      model.monitoring?.alerts?.onConceptDrift !== false
    ) {
      await this.raise(model, {
        kind: 'concept_drift',
        version,
        summary: `the error stream changed (ADWIN, ${
          changePoints.length
        } change point${changePoints.length > 1 ? 's' : ''})`,
      });
    }
  }

  private async alert(
    model: MonitoredModel,
    report: DriftReport,
  ): Promise<void> {
    if (report.status !== 'ok') return;
    const rules = model.monitoring?.alerts;
    const drifted = report.features.filter(f => f.drifted).map(f => f.name);
    const driftAlert =
      rules?.minDriftShare !== undefined
        ? report.shareOfDriftedColumns >= rules.minDriftShare
        : report.datasetDrift;
    if (driftAlert) {
      await this.raise(model, {
        kind: 'drift',
        version: report.version,
        reportId: report.id,
        shareOfDriftedColumns: report.shareOfDriftedColumns,
        driftedFeatures: drifted,
        summary: `data drift in ${drifted.length} of ${report.numberOfColumns} features`,
      });
    }
    const slo = model.monitoring?.quality;
    const value =
      slo && report.quality ? report.quality[slo.metric] : undefined;
    if (
      slo &&
      value !== undefined &&
      ((slo.min !== undefined && value < slo.min) ||
        (slo.max !== undefined && value > slo.max))
    ) {
      await this.raise(model, {
        kind: 'quality',
        version: report.version,
        reportId: report.id,
        summary: `${slo.metric} ${value.toPrecision(4)} is outside its SLO (${
          slo.min !== undefined ? `min ${slo.min}` : `max ${slo.max}`
        })`,
      });
    }
    const serving = report.serving;
    const latencyBreach =
      rules?.maxLatencyP95Ms !== undefined &&
      (serving?.latencyP95Ms ?? 0) > rules.maxLatencyP95Ms;
    const errorBreach =
      rules?.maxErrorRate !== undefined &&
      (serving?.errorRate ?? 0) > rules.maxErrorRate;
    if (latencyBreach || errorBreach) {
      await this.raise(model, {
        kind: 'quality',
        version: report.version,
        reportId: report.id,
        summary: latencyBreach
          ? `p95 latency ${serving!.latencyP95Ms!.toFixed(1)} ms is above ${
              rules!.maxLatencyP95Ms
            } ms`
          : `error rate ${(serving!.errorRate * 100).toFixed(2)}% is above ${(
              rules!.maxErrorRate! * 100
            ).toFixed(2)}%`,
      });
    }
  }

  private async raise(
    model: MonitoredModel,
    alert: Omit<
      MonitoringAlertEvent,
      'entityRef' | 'model' | 'severity' | 'raisedAt'
    >,
  ): Promise<void> {
    if (!this.options.alerter) return;
    const rules = model.monitoring?.alerts;
    const severity =
      rules?.severity ?? (alert.kind === 'drift' ? 'warning' : 'critical');
    const raised = await this.options.alerter.raise(
      {
        ...alert,
        severity,
        entityRef: model.entityRef,
        model: model.name,
        raisedAt: new Date(this.now()).toISOString(),
      },
      rules?.cooldownMinutes ?? this.options.config.alertCooldownMinutes,
    );
    if (raised)
      this.options.logger.info(
        `Monitoring alert for ${model.name} v${alert.version}: ${alert.summary}`,
      );
  }

  async history(
    name: string,
    filters: {
      version?: string;
      since?: number;
      until?: number;
      limit?: number;
    },
  ): Promise<DriftHistoryResponse> {
    const model = await this.requireModel(name);
    const reports = await this.options.store.listReports({
      modelName: model.name,
      version: filters.version,
      since: filters.since,
      until: filters.until,
      limit: filters.limit ?? 100,
    });
    const schedule = model.monitoring?.drift?.schedule;
    const stored = await this.options.store.getSchedule(model.name);
    return {
      ...(reports[0]
        ? { latest: reports[0], lastRunAt: reports[0].createdAt }
        : {}),
      history: reports.map(r => ({
        id: r.id,
        version: r.version,
        createdAt: r.createdAt,
        windowStart: r.windowStart,
        windowEnd: r.windowEnd,
        datasetDrift: r.datasetDrift,
        shareOfDriftedColumns: r.shareOfDriftedColumns,
        status: r.status,
        trigger: r.trigger,
        scores: Object.fromEntries(r.features.map(f => [f.name, f.score])),
      })),
      ...(schedule ? { schedule } : {}),
      ...(schedule && stored?.cron === schedule
        ? { nextRunAt: new Date(stored.nextRunAt).toISOString() }
        : {}),
    };
  }

  async quality(
    name: string,
    filters: { version?: string; since?: number; until?: number },
  ): Promise<QualityResponse> {
    const model = await this.requireModel(name);
    const reports = await this.options.store.listReports({
      modelName: model.name,
      ...filters,
      limit: 500,
    });
    const changePoints = await this.options.store.listChangePoints(model.name, {
      since: filters.since,
      version: filters.version,
    });
    const slo = model.monitoring?.quality;
    return {
      model: model.name,
      points: reports
        .filter(
          (r): r is DriftReport & { quality: QualityMetrics } =>
            r.quality !== undefined,
        )
        .reverse()
        .map(r => ({
          version: r.version,
          windowStart: r.windowStart,
          windowEnd: r.windowEnd,
          createdAt: r.createdAt,
          metrics: r.quality,
        })),
      ...(slo ? { slo } : {}),
      changePoints: changePoints.map(c => ({
        version: c.version,
        at: new Date(c.at).toISOString(),
        estimation: c.estimation,
      })),
    };
  }

  /**
   * The scheduler's tick: for every Model with `spec.monitoring.drift.schedule`,
   * records the schedule and runs the check when due. A due run is claimed
   * in the database first, so two instances (or two overlapping ticks) run
   * it once. Returns the Models run.
   */
  async tick(): Promise<string[]> {
    const now = this.now();
    const ran: string[] = [];
    for (const model of await this.options.models.listModels()) {
      const cron = model.monitoring?.drift?.schedule;
      if (!cron) continue;
      let next: number;
      try {
        next = new CronTime(cron, 'UTC')
          .getNextDateFrom(new Date(now))
          .toMillis();
      } catch (error) {
        this.options.logger.warn(
          `Model ${model.name}: bad drift schedule "${cron}": ${
            (error as Error)?.message
          }`,
        );
        continue;
      }
      const stored = await this.options.store.getSchedule(model.name);
      if (!stored || stored.cron !== cron) {
        await this.options.store.upsertSchedule(model.name, cron, next);
        continue;
      }
      if (stored.nextRunAt > now) continue;
      if (
        !(await this.options.store.claimRun(
          model.name,
          stored.nextRunAt,
          next,
          now,
        ))
      )
        continue;
      try {
        await this.run(model.name, { trigger: 'schedule' });
        ran.push(model.name);
      } catch (error) {
        this.options.logger.warn(
          `Scheduled drift check of ${model.name} failed: ${
            (error as Error)?.message
          }`,
        );
      }
    }
    return ran;
  }
}

/** Row indices to keep: all, or a seeded reservoir sample of `max`. */
function sampleIndices(n: number, max: number, seed: number): number[] {
  const reservoir = new Reservoir<number>(max, seed);
  for (let i = 0; i < n; i++) reservoir.add(i);
  return [...reservoir.sample()].sort((a, b) => a - b);
}

/** Shares per bin of both sides for the tab's overlaid histograms. */
function distributionOf(
  name: string,
  reference: ColumnProfile | undefined,
  current: ColumnProfile | undefined,
): FeatureDistribution | undefined {
  if (!reference || !current || reference.kind !== current.kind)
    return undefined;
  if (reference.kind === 'numerical') {
    const shares = binnedShares(
      {
        kind: 'numerical',
        sortedReference: reference.sorted!,
        sortedCurrent: current.sorted!,
        // Always bins for the chart, even for few distinct values.
        referenceUnique:
          reference.unique > 20
            ? reference.unique
            : reference.unique <= 10
            ? reference.unique
            : 21,
      },
      false,
    );
    return trimBins({
      name,
      kind: 'numerical',
      bins: shares.labels,
      reference: shares.reference,
      current: shares.current,
    });
  }
  if (reference.kind === 'categorical') {
    const shares = binnedShares(
      {
        kind: 'categorical',
        reference: reference.counts!,
        current: current.counts!,
      },
      false,
    );
    return trimBins({
      name,
      kind: 'categorical',
      bins: shares.labels,
      reference: shares.reference,
      current: shares.current,
    });
  }
  return undefined;
}

function trimBins(d: FeatureDistribution): FeatureDistribution {
  if (d.bins.length <= DISTRIBUTION_MAX_BINS) return d;
  return {
    ...d,
    bins: d.bins.slice(0, DISTRIBUTION_MAX_BINS),
    reference: d.reference.slice(0, DISTRIBUTION_MAX_BINS),
    current: d.current.slice(0, DISTRIBUTION_MAX_BINS),
  };
}
