/**
 * The event monitoring publishes on the Backstage events service when a
 * Model drifts, its quality falls below its SLO, or ADWIN detects a change;
 * pipelines with a `drift` trigger on that Model subscribe to retrain.
 */
export const MONITORING_ALERT_TOPIC = 'loopline.monitoring.alert';

export interface MonitoringAlertPayload {
  /** Unique per alert; a pipeline runs once per alert id. */
  alertId: string;
  /** The Model's entity ref, e.g. `model:default/wine-quality`. */
  model: string;
  /** The version served when the alert fired. */
  version?: number;
  /** What fired: data drift, quality below the SLO, an ADWIN change point, latency or errors. */
  reason: 'drift' | 'quality' | 'change-point' | 'latency' | 'error-rate';
  severity: 'info' | 'warning' | 'critical';
  /** One line for people. */
  summary: string;
  /** ISO-8601 time the alert fired. */
  firedAt: string;
  /** Share of drifted features, when the reason is drift. */
  driftShare?: number;
  /** The drifted feature names, when the reason is drift. */
  driftedFeatures?: string[];
}

/** A new version of a Dataset (from an OpenLineage COMPLETE event of a job writing it). */
export const DATASET_VERSION_TOPIC = 'loopline.lineage.dataset-version';

export interface DatasetVersionPayload {
  /** The Dataset's entity ref, e.g. `dataset:default/wine-features`. */
  dataset: string;
  /** The version (OpenLineage `datasetVersion` facet, else the event's run id). */
  version: string;
  /** ISO-8601 time it was produced. */
  producedAt: string;
}
