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

/**
 * The lineage domain's event of a new dataset version seen in an OpenLineage
 * event: the same topic, named as the lineage domain names it.
 */
export const LINEAGE_DATASET_VERSION_TOPIC = DATASET_VERSION_TOPIC;

/** What the lineage domain publishes on {@link LINEAGE_DATASET_VERSION_TOPIC}. */
export interface LineageDatasetVersionEvent {
  /** OpenLineage dataset namespace, e.g. `file` or `s3://bucket`. */
  namespace: string;
  /** OpenLineage dataset name, e.g. a path. */
  name: string;
  version: string;
  /** The catalog Dataset it was matched to, when it was. */
  entityRef?: string;
}
