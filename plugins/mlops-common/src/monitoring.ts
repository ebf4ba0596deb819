/**
 * Model monitoring: drift reports, quality against ground truth, and the
 * alert event other plugins (pipelines) subscribe to.
 */

/**
 * Drift methods by Evidently's names, as the monitoring API takes them. A
 * Model's `spec.monitoring.drift.method` also accepts the older spellings
 * `chi2` and `jensen-shannon` (see {@link toDriftTestMethod}).
 */
export type DriftTestMethod =
  | 'ks'
  | 'chisquare'
  | 'z'
  | 'psi'
  | 'kl_div'
  | 'jensenshannon'
  | 'wasserstein';

export const DRIFT_TEST_METHODS: DriftTestMethod[] = [
  'ks',
  'chisquare',
  'z',
  'psi',
  'kl_div',
  'jensenshannon',
  'wasserstein',
];

/** A Model spec's drift method as the API names it. */
export function toDriftTestMethod(method: string): DriftTestMethod | undefined {
  if (method === 'chi2') return 'chisquare';
  if (method === 'jensen-shannon') return 'jensenshannon';
  return (DRIFT_TEST_METHODS as string[]).includes(method)
    ? (method as DriftTestMethod)
    : undefined;
}

/** A column's values as sent to `POST /monitoring/drift/compare`. */
export type DriftColumnValue = number | string | null;

/**
 * What became of one feature in a report. A bad column never fails the
 * report: it gets one of these instead of `ok`.
 * - `ok`: tested.
 * - `missing_values`: tested on the non-missing values (null, NaN, ±inf dropped).
 * - `new_category`: tested; the current window has categories the reference never had.
 * - `constant`: tested; the reference has a single value.
 * - `empty`: no usable value in the reference or the current window; not tested.
 * - `missing_in_current`: the current window has no such feature; not tested.
 * - `schema_mismatch`: numbers on one side, strings on the other; not tested.
 * - `insufficient_data`: fewer values than the configured minimum; not tested.
 * - `error`: the test itself failed (the message says why); not tested.
 */
export type DriftFeatureStatus =
  | 'ok'
  | 'missing_values'
  | 'new_category'
  | 'constant'
  | 'empty'
  | 'missing_in_current'
  | 'schema_mismatch'
  | 'insufficient_data'
  | 'error';

export interface DriftFeatureResult {
  name: string;
  /** `numerical` or `categorical`, as Evidently types the column. */
  columnType: 'numerical' | 'categorical';
  method: DriftTestMethod | null;
  /** The test statistic (KS D, χ², z) or the distance for distance methods. */
  statistic: number | null;
  /** For tests that have one (`ks`, `chisquare`, `z`). */
  pValue: number | null;
  /** The value compared with the threshold: the p-value for tests, else the distance. */
  score: number | null;
  threshold: number;
  /** `p_value` (drift when below; `ks` when ≤) or `distance` (drift when ≥). */
  direction: 'p_value' | 'distance';
  drifted: boolean;
  status: DriftFeatureStatus;
  message?: string;
  referenceCount: number;
  currentCount: number;
}

export interface DriftComparison {
  datasetDrift: boolean;
  /** The share of drifted columns that makes dataset drift (Evidently's `drift_share`). */
  driftShare: number;
  numberOfColumns: number;
  numberOfDriftedColumns: number;
  shareOfDriftedColumns: number;
  /** With Bonferroni (Alibi Detect): batch drift when any p-value < threshold / n. */
  correction?: 'bonferroni';
  features: DriftFeatureResult[];
}

/** Body of `POST /monitoring/drift/compare`. */
export interface DriftCompareRequest {
  reference: { columns: Record<string, DriftColumnValue[]> };
  current: { columns: Record<string, DriftColumnValue[]> };
  methods?: Record<string, DriftTestMethod>;
  thresholds?: Record<string, number>;
  driftShare?: number;
  correction?: 'bonferroni';
}

export type DriftCompareResponse = DriftComparison;

/** A histogram of one feature in both windows, for the tab's overlaid charts. */
export interface FeatureDistribution {
  name: string;
  kind: 'numerical' | 'categorical';
  /** Bin labels: `[lo, hi)` edges formatted, or the categories. */
  bins: string[];
  reference: number[];
  current: number[];
}

/** A stored drift report of one Model version over one current window. */
export interface DriftReport extends DriftComparison {
  id: string;
  model: string;
  version: string;
  referenceId: string;
  windowStart: string;
  windowEnd: string;
  createdAt: string;
  /** `schedule` or `manual` (Run now). */
  trigger: 'schedule' | 'manual';
  /** `ok`, or `insufficient_data` when the window had fewer rows than the minimum. */
  status: 'ok' | 'insufficient_data';
  rowCount: number;
  sampled: boolean;
  distributions?: FeatureDistribution[];
  /** Quality against the ground truth that arrived for the window's requests. */
  quality?: QualityMetrics;
  /**
   * Prediction drift: the model's main output in the window against the
   * reference's target column (the reference holds no predictions).
   */
  predictionDrift?: DriftFeatureResult;
  /** Target drift: the ground truth that arrived against the reference's target. */
  targetDrift?: DriftFeatureResult;
  /** Requests in the window whose inputs did not fit the model's feature layout. */
  undecodedRequests?: number;
  /** Serving figures of the window, for the latency and error-rate alert rules. */
  serving?: { requests: number; errorRate: number; latencyP95Ms?: number };
}

/**
 * Quality against ground truth: accuracy, F1 (binary: the positive class is
 * 1 / "true" / the larger label; else macro) and ROC AUC (when the model
 * outputs a score) for classification; RMSE, MAE and R² for regression.
 */
export interface QualityMetrics {
  /** Requests with ground truth. */
  count: number;
  accuracy?: number;
  f1?: number;
  rocAuc?: number;
  rmse?: number;
  mae?: number;
  r2?: number;
}

/** `GET /monitoring/models/:name/quality`. */
export interface QualityResponse {
  model: string;
  /** Per version and report window, oldest first. */
  points: Array<{
    version: string;
    windowStart: string;
    windowEnd: string;
    createdAt: string;
    metrics: QualityMetrics;
  }>;
  /** The Model's quality SLO, for the chart's line. */
  slo?: {
    metric: keyof Omit<QualityMetrics, 'count'>;
    min?: number;
    max?: number;
  };
  /** Where ADWIN found the per-request error stream changed. */
  changePoints: Array<{ version: string; at: string; estimation: number }>;
}

export interface DriftHistoryResponse {
  latest?: DriftReport;
  history: Array<
    Pick<
      DriftReport,
      | 'id'
      | 'version'
      | 'createdAt'
      | 'windowStart'
      | 'windowEnd'
      | 'datasetDrift'
      | 'shareOfDriftedColumns'
      | 'status'
      | 'trigger'
    > & { scores: Record<string, number | null> }
  >;
  /** When the last report was made. */
  lastRunAt?: string;
  /** When the schedule runs next, if the Model has one. */
  nextRunAt?: string;
  schedule?: string;
}

/**
 * Why an alert was raised: data drift, quality against ground truth outside
 * its SLO, a change in the error stream (ADWIN), or serving (p95 latency or
 * error rate over the rule).
 */
export type MonitoringAlertKind =
  | 'drift'
  | 'quality'
  | 'concept_drift'
  | 'serving';

/**
 * The payload of the `loopline.monitoring.alert` event on Backstage's events
 * service (topic {@link MONITORING_ALERT_TOPIC}). Pipelines subscribe to it
 * to retrain.
 */
export interface MonitoringAlertEvent {
  kind: MonitoringAlertKind;
  severity: 'info' | 'warning' | 'critical';
  /** The Model's entity ref, e.g. `model:default/wine-quality-regressor`. */
  entityRef: string;
  model: string;
  version: string;
  /** Drift: the report that found it. */
  reportId?: string;
  shareOfDriftedColumns?: number;
  driftedFeatures?: string[];
  summary: string;
  raisedAt: string;
}

export const MONITORING_ALERT_TOPIC = 'loopline.monitoring.alert';

/**
 * What a Model's drift checks compare with (`GET /monitoring/models/:name/reference`):
 * its Dataset (`spec.monitoring.drift.reference`, else the first of
 * `spec.trainedOn`), or a reference set through the API instead, either a
 * pinned window of the inference log or columns uploaded. Profiled once and
 * stored.
 */
export interface DriftReferenceInfo {
  source: 'dataset' | 'upload' | 'log';
  /** The Dataset's entity ref (source `dataset`). */
  dataset?: string;
  /** The stored profile; absent for a Dataset not profiled yet. */
  id?: string;
  rowCount?: number;
  sampled?: boolean;
  columns?: string[];
  /** Source `log`: the pinned window. */
  window?: { since: string; until: string; version?: number };
  /** Who set it (source `upload` or `log`). */
  setBy?: string;
  createdAt?: string;
}

/**
 * Body of `PUT /monitoring/models/:name/reference`: columns to compare with
 * (an uploaded reference set), or a window of the Model's inference log to
 * pin (its decoded features, and its ground truth as the target).
 */
export type SetDriftReferenceRequest =
  | { columns: Record<string, DriftColumnValue[]> }
  | { window: { since: string; until: string; version?: number } };

/** One Model's row on the ML overview page. */
export interface ModelMonitoringSummary {
  model: string;
  /** The registry's Production version, if any. */
  productionVersion?: number;
  /** Requests per second over the last five minutes, all versions. */
  requestRate: number;
  /** The latest drift report. */
  drift?: {
    status: 'drift' | 'no_drift' | 'insufficient_data';
    version: string;
    shareOfDriftedColumns: number;
    createdAt: string;
  };
  /** The latest quality against ground truth: the SLO's metric, else the first there is. */
  quality?: {
    metric: keyof Omit<QualityMetrics, 'count'>;
    value: number;
    version: string;
    createdAt: string;
    /** Against the Model's quality SLO, when it has one. */
    withinSlo?: boolean;
  };
}

/** `GET /monitoring/summary?model=a&model=b`: the Models the caller may read. */
export interface ModelMonitoringSummaryResponse {
  items: ModelMonitoringSummary[];
}

/**
 * Whether a report is drift by the Model's rules: its drifted share reaches
 * `spec.monitoring.alerts.minDriftShare` when the Model sets one, else
 * Evidently's dataset drift (the share reaches `driftShare`). The alert, the
 * overview's badge and the Drift tab decide alike.
 */
export function isDriftByRules(
  report: Pick<
    DriftReport,
    'status' | 'datasetDrift' | 'shareOfDriftedColumns'
  >,
  monitoring?: { alerts?: { minDriftShare?: number } },
): boolean {
  if (report.status !== 'ok') return false;
  const minShare = monitoring?.alerts?.minDriftShare;
  return minShare !== undefined
    ? report.shareOfDriftedColumns >= minShare
    : report.datasetDrift;
}
