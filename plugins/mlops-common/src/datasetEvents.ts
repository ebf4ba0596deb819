/**
 * Events about Datasets on the Backstage events service; pipelines with a
 * `dataset-update` trigger subscribe to them.
 */

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
