/**
 * Model monitoring: drift of a Model version's recent requests against its
 * reference, prediction and target drift, quality against ground truth,
 * ADWIN over the per-request error stream, on each Model's schedule or on
 * demand, with alerts. No Express and no knex here.
 */
import { randomUUID } from 'crypto';
import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import { CronTime } from 'cron';
import type {
  DriftCompareRequest,
  DriftComparison,
  DriftFeatureResult,
  DriftHistoryResponse,
  DriftReferenceInfo,
  ModelMonitoringSummary,
  DriftReport,
  DriftTestMethod,
  FeatureDistribution,
  MonitoringAlertEvent,
  MonitoringConfig as ModelMonitoringSpec,
  QualityMetrics,
  QualityResponse,
  SetDriftReferenceRequest,
} from '@loopline/mlops-common';
import { isDriftByRules, toDriftTestMethod } from '@loopline/mlops-common';
import { quantile } from 'simple-statistics';
import { actorOf } from '../audit';
import type { AuditTrail } from '../audit';
import type { DatasetTable, DatasetValue } from '../datasets';
import type {
  InferenceLogRecord,
  LogWindowQuery,
  LogWindowSummary,
} from '../serving/log/types';
import type { MonitoringAlerter } from './alerts';
import type { MonitoringConfig } from './config';
import type { MonitoringMetrics } from './metrics';
import type {
  ChangePoint,
  GroundTruthCursor,
  MonitoringStore,
  ReferenceProfile,
} from './MonitoringStore';
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
import { mainOutputValues, predictionPairs } from '../serving/log/decode';
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
  /** Successful requests whose ground truth arrived after `after`, in arrival order. */
  labelledSince(options: {
    modelName: string;
    after?: GroundTruthCursor;
    until?: number;
    version?: number;
    limit: number;
  }): Promise<LabelledRecord[]>;
  /** Requests (weighted by the sample rate) and errors of a window. */
  windowSummary(query: LogWindowQuery): Promise<LogWindowSummary>;
}

/** A logged request with the ground truth that arrived for it. */
export type LabelledRecord = InferenceLogRecord & {
  groundTruth: { value: unknown; createdAt: number };
};

export interface MonitoringServiceOptions {
  store: MonitoringStore;
  models: ModelDirectory;
  log: InferenceWindowReader;
  /** The model's feature names in input order (its feature layout), when served. */
  featureNamesOf: (modelName: string) => Promise<string[] | undefined>;
  /** The registry's Production version of a Model, for the overview. */
  productionVersionOf?: (modelName: string) => Promise<number | undefined>;
  readDataset: (location: string, format?: string) => Promise<DatasetTable>;
  config: MonitoringConfig;
  alerter?: MonitoringAlerter;
  /** Where setting a reference is recorded. */
  auditTrail?: AuditTrail;
  metrics?: MonitoringMetrics;
  logger: LoggerService;
  now?: () => number;
}

const REGRESSION_TYPES = new Set(['regression', 'forecasting']);
const DISTRIBUTION_MAX_BINS = 40;
const SUMMARY_RATE_WINDOW_MS = 5 * 60_000;
const QUALITY_METRICS = [
  'rmse',
  'mae',
  'r2',
  'accuracy',
  'f1',
  'rocAuc',
] as const;

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

  /** The Models of these names that the catalog holds. */
  async modelsNamed(names: string[]): Promise<MonitoredModel[]> {
    const wanted = new Set(names);
    return (await this.options.models.listModels()).filter(m =>
      wanted.has(m.name),
    );
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
    const active = await this.options.store.getActiveReference(model.name);
    const pinned = active
      ? await this.options.store.getReferenceProfileById(active.profileId)
      : undefined;
    if (pinned) {
      const target = (await this.referenceDataset(model, false))?.target;
      return {
        profile: pinned,
        ...(target && pinned.columns[target] ? { target } : {}),
      };
    }
    const dataset = (await this.referenceDataset(model, true))!;
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

  /** The Dataset a Model's drift is measured against by its spec; throws when `required` and there is none. */
  private async referenceDataset(
    model: MonitoredModel,
    required: boolean,
  ): Promise<MonitoredDataset | undefined> {
    const ref = model.monitoring?.drift?.reference ?? model.trainedOn?.[0];
    if (!ref) {
      if (!required) return undefined;
      throw new InputError(
        `Model ${model.name} names no drift reference (spec.monitoring.drift.reference) and no training Dataset (spec.trainedOn)`,
      );
    }
    const datasetRef = ref.includes(':') ? ref : `dataset:${ref}`;
    const dataset = await this.options.models.getDataset(datasetRef);
    if (!dataset && required)
      throw new NotFoundError(
        `No Dataset entity ${datasetRef} (the reference of ${model.name})`,
      );
    return dataset;
  }

  /** What the Model's checks compare with now. */
  async getReference(name: string): Promise<DriftReferenceInfo> {
    const model = await this.requireModel(name);
    const active = await this.options.store.getActiveReference(model.name);
    const profile = active
      ? await this.options.store.getReferenceProfileById(active.profileId)
      : undefined;
    if (active && profile) return referenceInfo(profile, active.setBy);
    const ref = model.monitoring?.drift?.reference ?? model.trainedOn?.[0];
    if (!ref) {
      throw new NotFoundError(
        `Model ${model.name} has no drift reference: no Dataset in its spec and none set through the API`,
      );
    }
    const dataset = await this.referenceDataset(model, false);
    if (!dataset) {
      return {
        source: 'dataset',
        dataset: ref.includes(':') ? ref : `dataset:${ref}`,
      };
    }
    const stored = await this.options.store.getReferenceProfile(
      model.name,
      `dataset:${dataset.entityRef}@${dataset.location}`,
    );
    return stored
      ? { ...referenceInfo(stored), dataset: dataset.entityRef }
      : { source: 'dataset', dataset: dataset.entityRef };
  }

  /**
   * Sets the Model's reference to uploaded columns or to a pinned window of
   * its inference log (decoded features, the ground truth as the target),
   * profiled once and stored; later checks compare with it instead of the
   * Dataset until it is cleared.
   */
  async setReference(
    name: string,
    request: SetDriftReferenceRequest,
    credentials?: BackstageCredentials,
  ): Promise<DriftReferenceInfo> {
    const model = await this.requireModel(name);
    const setBy = credentials ? actorOf(credentials) : undefined;
    const { config, store } = this.options;
    let columns: Record<string, DatasetValue[]>;
    let key: string;
    let source: 'upload' | 'log';
    if ('columns' in request) {
      columns = request.columns;
      key = `upload:${randomUUID()}`;
      source = 'upload';
    } else {
      const since = Date.parse(request.window.since);
      const until = Date.parse(request.window.until);
      if (!(since < until)) {
        throw new InputError('window.since must be before window.until');
      }
      const records = await this.options.log.listRecent({
        modelName: model.name,
        since,
        until: until + 1,
        ...(request.window.version !== undefined
          ? { version: request.window.version }
          : {}),
        limit: config.maxLogRows,
      });
      const featureNames = await this.featureNames(model);
      if (!featureNames) {
        throw new InputError(
          `Model ${model.name} has no feature layout to decode its logged requests with`,
        );
      }
      const target = (await this.referenceDataset(model, false))?.target;
      columns = Object.fromEntries(
        [...featureNames, ...(target ? [target] : [])].map(f => [f, []]),
      );
      for (const record of [...records].reverse()) {
        if (record.status !== 'ok') continue;
        const decoded = decodeFeatureRecords(record.inputs, featureNames);
        if (!decoded) continue;
        const truth = record.groundTruth
          ? predictionPairs([
              {
                outputs: record.outputs,
                groundTruth: record.groundTruth.value,
              },
            ]).map(([, actual]) => actual)
          : [];
        decoded.forEach((row, i) => {
          for (const f of featureNames) columns[f].push(row[f]);
          if (target) {
            const t = truth[i];
            columns[target].push(
              t === undefined ? null : typeof t === 'boolean' ? String(t) : t,
            );
          }
        });
      }
      const rows = columns[featureNames[0]].length;
      if (rows < config.minRows) {
        throw new InputError(
          `The window holds ${rows} decoded requests of ${model.name}, fewer than ${config.minRows} (mlops.monitoring.minRows)`,
        );
      }
      key = `log:${request.window.version ?? 'all'}@${since}-${until}`;
      source = 'log';
    }
    const rowCount = Math.max(...Object.values(columns).map(c => c.length));
    const profile = await store.saveReferenceProfile({
      modelName: model.name,
      referenceKey: key,
      source,
      rowCount,
      sampled: rowCount > config.maxReferenceRows,
      columns: Object.fromEntries(
        Object.entries(columns).map(([column, values]) => {
          const keep = sampleIndices(
            values.length,
            config.maxReferenceRows,
            seedFor(`${key}:${column}`),
          );
          return [column, profileColumn(keep.map(i => values[i]))];
        }),
      ),
    });
    await store.setActiveReference(model.name, profile.id, setBy, this.now());
    if (credentials)
      await this.options.auditTrail?.record({
        entityRef: model.entityRef,
        action: 'monitoring.reference.set',
        credentials,
        comment:
          source === 'log'
            ? `drift reference: the inference log's ${key.slice(4)}`
            : `drift reference: ${rowCount} uploaded rows`,
        details: { profileId: profile.id, source, rowCount },
      });
    return referenceInfo(profile, setBy);
  }

  /** Back to the spec's Dataset; false when no reference was set. */
  async clearReference(
    name: string,
    credentials?: BackstageCredentials,
  ): Promise<boolean> {
    const model = await this.requireModel(name);
    const cleared = await this.options.store.clearActiveReference(model.name);
    if (cleared && credentials)
      await this.options.auditTrail?.record({
        entityRef: model.entityRef,
        action: 'monitoring.reference.cleared',
        credentials,
        comment: 'drift reference: back to the Dataset',
      });
    return cleared;
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
    // Grouped by pushing: the window holds up to maxLogRows (200,000) rows,
    // and copying a group per row was quadratic, holding the event loop
    // (and with it the data plane's new connections) for minutes.
    const byVersion = new Map<string, InferenceLogRecord[]>();
    for (const record of records) {
      if (record.version === undefined) continue;
      const key = String(record.version);
      const group = byVersion.get(key);
      if (group) group.push(record);
      else byVersion.set(key, [record]);
    }
    if (byVersion.size === 0) byVersion.set(options.version ?? 'all', []);
    const featureNames =
      (await this.featureNames(model)) ??
      Object.keys(profile.columns).filter(c => c !== target);
    // Quality is over the ground truth that arrived in the window, however
    // old the requests it labels: labels often come hours or days late.
    const labelled = await this.options.log.labelledSince({
      modelName: model.name,
      after: { at: windowStart - 1, logId: Number.MAX_SAFE_INTEGER },
      until: windowEnd,
      ...(options.version && options.version !== 'all'
        ? { version: Number(options.version) }
        : {}),
      limit: config.maxLogRows,
    });
    const labelledByVersion = new Map<string, LabelledRecord[]>();
    for (const record of labelled) {
      const key = String(record.version ?? 'all');
      const group = labelledByVersion.get(key);
      if (group) group.push(record);
      else labelledByVersion.set(key, [record]);
    }
    await this.feedGroundTruth(model);
    const reports: DriftReport[] = [];
    for (const [version, rows] of byVersion) {
      const report = await this.report(
        model,
        profile,
        target,
        featureNames,
        version,
        rows,
        labelledByVersion.get(version) ?? [],
        {
          windowStart,
          windowEnd,
          trigger: options.trigger,
        },
      );
      await this.options.store.insertReport(report);
      this.options.metrics?.record(report);
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
    labelled: LabelledRecord[],
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
    const asValue = (v: string | number | boolean): DatasetValue =>
      typeof v === 'boolean' ? String(v) : v;
    // Oldest first, so that a sample is the same whichever way the log was read.
    for (const record of [...ok].reverse()) {
      const decoded = decodeFeatureRecords(record.inputs, featureNames);
      if (!decoded) {
        undecoded++;
        continue;
      }
      for (const row of decoded) reservoir.add(row);
      for (const p of mainOutputValues(record.outputs) ?? [])
        predictions.push(asValue(p));
    }
    for (const record of labelled) {
      const scores = positiveScores(record.outputs);
      predictionPairs([
        { outputs: record.outputs, groundTruth: record.groundTruth.value },
      ]).forEach(([predicted, actual], i) => {
        truths.push(asValue(actual));
        pairs.push({
          predicted,
          actual,
          ...(scores ? { score: scores[i] } : {}),
        });
      });
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

  /**
   * Feeds ADWIN (one per version) the per-request errors of the ground truth
   * that arrived since it last read, in arrival order, however late it
   * came; stores its state and change points, and alerts on a change. Runs
   * on every tick and check; of two instances feeding the same rows, one
   * saves (the cursor moves by compare-and-set). Returns the change points.
   */
  async feedGroundTruth(model: MonitoredModel): Promise<ChangePoint[]> {
    const { store, log, config } = this.options;
    const from = await store.getGroundTruthCursor(model.name);
    // Ground truth of the last seconds waits: a label may arrive in the same
    // millisecond as the cursor, or before its request's log row is flushed.
    const rows = await log.labelledSince({
      modelName: model.name,
      ...(from ? { after: from } : {}),
      until: this.now() - config.groundTruthSettleMs,
      limit: config.maxLogRows,
    });
    if (!rows.length) return [];
    const states = await store.getAdwinStates(model.name);
    const adwins = new Map<string, Adwin>();
    const regression = REGRESSION_TYPES.has(model.type ?? '');
    const changePoints: ChangePoint[] = [];
    for (const record of rows) {
      const version = String(record.version ?? 'all');
      let adwin = adwins.get(version);
      if (!adwin) {
        adwin = new Adwin({}, states.get(version));
        adwins.set(version, adwin);
      }
      for (const [predicted, actual] of predictionPairs([
        { outputs: record.outputs, groundTruth: record.groundTruth.value },
      ])) {
        const error = requestError({ predicted, actual }, regression);
        if (error === undefined) continue;
        adwin.update(error);
        if (adwin.driftDetected)
          changePoints.push({
            version,
            at: record.groundTruth.createdAt,
            estimation: adwin.estimation,
          });
      }
    }
    const last = rows[rows.length - 1];
    const saved = await store.saveAdwinProgress(
      model.name,
      { from, to: { at: last.groundTruth.createdAt, logId: last.id } },
      new Map([...adwins].map(([v, a]) => [v, a.state()])),
      changePoints,
      this.now(),
    );
    if (!saved) return [];
    if (model.monitoring?.alerts?.onConceptDrift !== false) {
      for (const version of new Set(changePoints.map(c => c.version))) {
        const found = changePoints.filter(c => c.version === version);
        await this.raise(model, {
          kind: 'concept_drift',
          version,
          summary: `the error stream changed (ADWIN, ${
            found.length
          } change point${found.length > 1 ? 's' : ''}; mean error now ${found[
            found.length - 1
          ].estimation.toPrecision(3)})`,
        });
      }
    }
    return changePoints;
  }

  private async alert(
    model: MonitoredModel,
    report: DriftReport,
  ): Promise<void> {
    if (report.status !== 'ok') return;
    const rules = model.monitoring?.alerts;
    const drifted = report.features.filter(f => f.drifted).map(f => f.name);
    if (isDriftByRules(report, model.monitoring)) {
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
    // Serving rules: the Model's alert rules, else its serving SLOs, judged
    // once the window holds the SLO's minimum of requests.
    const slos = model.monitoring?.slos;
    const maxLatency = rules?.maxLatencyP95Ms ?? slos?.latencyP95Ms;
    const maxErrorRate = rules?.maxErrorRate ?? slos?.maxErrorRate;
    const serving = report.serving;
    if (!serving || serving.requests < (slos?.minRequests ?? 1)) return;
    const breaches: string[] = [];
    if (
      maxLatency !== undefined &&
      serving.latencyP95Ms !== undefined &&
      serving.latencyP95Ms > maxLatency
    )
      breaches.push(
        `p95 latency ${serving.latencyP95Ms.toFixed(
          1,
        )} ms is above ${maxLatency} ms`,
      );
    if (maxErrorRate !== undefined && serving.errorRate > maxErrorRate)
      breaches.push(
        `error rate ${(serving.errorRate * 100).toFixed(2)}% is above ${(
          maxErrorRate * 100
        ).toFixed(2)}%`,
      );
    if (breaches.length) {
      await this.raise(model, {
        kind: 'serving',
        version: report.version,
        reportId: report.id,
        summary: breaches.join('; '),
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
    const latest = latestOfRun(reports);
    return {
      ...(latest ? { latest, lastRunAt: reports[0].createdAt } : {}),
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

  /**
   * The ML overview's row of each Model: its Production version, request
   * rate over the last five minutes, latest drift status and quality.
   */
  async summary(models: MonitoredModel[]): Promise<ModelMonitoringSummary[]> {
    const until = this.now();
    const since = until - SUMMARY_RATE_WINDOW_MS;
    return Promise.all(
      models.map(async model => {
        const [production, traffic, recent, [labelled]] = await Promise.all([
          this.options.productionVersionOf?.(model.name).catch(() => undefined),
          this.options.log.windowSummary({
            modelName: model.name,
            since,
            until,
          }),
          // Enough for the newest run's reports (one per version).
          this.options.store.listReports({ modelName: model.name, limit: 20 }),
          this.options.store.listReports({
            modelName: model.name,
            withQuality: true,
            limit: 1,
          }),
        ]);
        const latest = latestOfRun(recent);
        const slo = model.monitoring?.quality;
        const metric =
          labelled?.quality &&
          (slo && labelled.quality[slo.metric] !== undefined
            ? slo.metric
            : QUALITY_METRICS.find(m => labelled.quality![m] !== undefined));
        const value = metric ? labelled!.quality![metric] : undefined;
        return {
          model: model.name,
          ...(production !== undefined
            ? { productionVersion: production }
            : {}),
          requestRate: traffic.requests / (SUMMARY_RATE_WINDOW_MS / 1000),
          ...(latest
            ? {
                drift: {
                  status:
                    latest.status === 'insufficient_data'
                      ? ('insufficient_data' as const)
                      : isDriftByRules(latest, model.monitoring)
                      ? ('drift' as const)
                      : ('no_drift' as const),
                  version: latest.version,
                  shareOfDriftedColumns: latest.shareOfDriftedColumns,
                  createdAt: latest.createdAt,
                },
              }
            : {}),
          ...(metric && value !== undefined
            ? {
                quality: {
                  metric,
                  value,
                  version: labelled!.version,
                  createdAt: labelled!.createdAt,
                  ...(slo?.metric === metric
                    ? {
                        withinSlo:
                          (slo.min === undefined || value >= slo.min) &&
                          (slo.max === undefined || value <= slo.max),
                      }
                    : {}),
                },
              }
            : {}),
        };
      }),
    );
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
      if (!model.monitoring) continue;
      // The error stream is read on every tick, so ADWIN sees late ground
      // truth within one tick whatever the drift schedule.
      try {
        await this.feedGroundTruth(model);
      } catch (error) {
        this.options.logger.warn(
          `Feeding ${model.name}'s ground truth to ADWIN failed: ${
            (error as Error)?.message
          }`,
        );
      }
      const cron = model.monitoring.drift?.schedule;
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

/**
 * The report that speaks for a Model now: one run reports on each version
 * that served in its window; of the newest run's reports (`reports` newest
 * first) it is the one of the version that served the most, not a canary's
 * leftovers.
 */
function latestOfRun(reports: DriftReport[]): DriftReport | undefined {
  return reports
    .filter(r => r.windowEnd === reports[0]?.windowEnd)
    .reduce<DriftReport | undefined>(
      (best, r) => (!best || r.rowCount > best.rowCount ? r : best),
      undefined,
    );
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

function referenceInfo(
  profile: ReferenceProfile,
  setBy?: string,
): DriftReferenceInfo {
  const window = profile.referenceKey.match(/^log:(\w+)@(\d+)-(\d+)$/);
  return {
    source: profile.source,
    id: profile.id,
    rowCount: profile.rowCount,
    sampled: profile.sampled,
    columns: Object.keys(profile.columns),
    ...(window
      ? {
          window: {
            since: new Date(Number(window[2])).toISOString(),
            until: new Date(Number(window[3])).toISOString(),
            ...(window[1] !== 'all' ? { version: Number(window[1]) } : {}),
          },
        }
      : {}),
    ...(setBy ? { setBy } : {}),
    createdAt: new Date(profile.createdAt).toISOString(),
  };
}
