/**
 * Events about Datasets on the Backstage events service; pipelines with a
 * `dataset-update` trigger subscribe to them.
 */

/**
 * A new version of a dataset, published by lineage once it is stored: what
 * a run wrote, when the run completes, or a version a DatasetEvent declares.
 */
export const DATASET_VERSION_TOPIC = 'loopline.lineage.dataset-version';

export interface DatasetVersionPayload {
  /** The OpenLineage dataset: namespace and name. */
  namespace: string;
  name: string;
  /** The version: its content hash (OpenLineage `version` facet) when there is one, else its version id. */
  version: string;
  /** The catalog Dataset naming this OpenLineage dataset, e.g. `dataset:default/wine-features`, when there is one. */
  entityRef?: string;
  /** ISO-8601 time it was stored. */
  producedAt: string;
}
