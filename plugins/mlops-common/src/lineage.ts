/**
 * Lineage: the Marquez-compatible read API's JSON shapes (Marquez 0.51,
 * `spec/openapi.yml`), and Loopline's impact analysis.
 */

/** A job or dataset id in Marquez's shape. */
export interface LineageId {
  namespace: string;
  name: string;
}

export interface LineageNamespace {
  name: string;
  createdAt: string;
  updatedAt: string;
  ownerName: string;
  description: string | null;
  isHidden: boolean;
}

export interface LineageField {
  name: string;
  type: string | null;
  tags: string[];
  description: string | null;
}

export type LineageRunState =
  | 'NEW'
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'ABORTED'
  | 'OTHER';

export interface LineageRun {
  id: string;
  createdAt: string;
  updatedAt: string;
  nominalStartTime: string | null;
  nominalEndTime: string | null;
  state: LineageRunState;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  args: Record<string, string>;
  jobVersion: { namespace: string; name: string; version: string } | null;
  inputDatasetVersions: LineageDatasetVersionRef[];
  outputDatasetVersions: LineageDatasetVersionRef[];
  /** Loopline: the parent run (the `parent` run facet). */
  parentRunId: string | null;
  facets: Record<string, unknown>;
}

export interface LineageDatasetVersionRef {
  datasetVersionId: { namespace: string; name: string; version: string };
  facets: Record<string, unknown>;
}

export interface LineageDataset {
  id: LineageId;
  type: string;
  name: string;
  physicalName: string;
  createdAt: string;
  updatedAt: string;
  namespace: string;
  sourceName: string;
  fields: LineageField[];
  tags: string[];
  lastModifiedAt: string | null;
  lastLifecycleState: string | null;
  description: string | null;
  facets: Record<string, unknown>;
  currentVersion: string | null;
  deleted: boolean;
}

export interface LineageDatasetVersion {
  id: LineageId & { version: string };
  type: string;
  name: string;
  physicalName: string;
  createdAt: string;
  version: string;
  namespace: string;
  sourceName: string;
  fields: LineageField[];
  tags: string[];
  lifecycleState: string | null;
  description: string | null;
  createdByRunUuid: string | null;
  createdByRun: LineageRun | null;
  facets: Record<string, unknown>;
  /** Loopline: what the facets say about this version's content. */
  contentHash: string | null;
  rowCount: number | null;
  byteSize: number | null;
}

export interface LineageJob {
  id: LineageId;
  type: string;
  name: string;
  simpleName: string;
  parentJobName: string | null;
  parentJobUuid: string | null;
  createdAt: string;
  updatedAt: string;
  namespace: string;
  inputs: LineageId[];
  outputs: LineageId[];
  location: string | null;
  description: string | null;
  latestRun: LineageRun | null;
  facets: Record<string, unknown>;
  currentVersion: string | null;
}

export interface LineageJobVersion {
  id: LineageId & { version: string };
  name: string;
  version: string;
  createdAt: string;
  namespace: string;
  inputs: LineageId[];
  outputs: LineageId[];
  location: string | null;
  latestRun: LineageRun | null;
}

export type LineageNodeType = 'DATASET' | 'DATASET_FIELD' | 'JOB' | 'RUN';

export interface LineageEdge {
  origin: string;
  destination: string;
}

export interface LineageColumnNodeData {
  namespace: string;
  dataset: string;
  datasetVersion: string | null;
  field: string;
  fieldType: string | null;
  transformationDescription: string | null;
  transformationType: string | null;
  inputFields: Array<{
    namespace: string;
    dataset: string;
    field: string;
    transformationDescription: string | null;
    transformationType: string | null;
  }>;
}

export interface LineageNode {
  id: string;
  type: LineageNodeType;
  data: LineageDataset | LineageJob | LineageColumnNodeData;
  inEdges: LineageEdge[];
  outEdges: LineageEdge[];
}

/** `GET /api/mlops/openlineage/api/v1/lineage` and `.../column-lineage`. */
export interface LineageGraph {
  graph: LineageNode[];
}

/** A lineage node resolved to the catalog entity that names it, if any. */
export interface LineageCatalogLink {
  nodeId: string;
  entityRef: string | null;
  /** The entity's owner, or null when the node is not in the catalog. */
  owner: string | null;
}

/** `GET /api/mlops/lineage/impact`. */
export interface LineageImpact {
  entityRef: string;
  nodeId: string | null;
  direction: 'downstream' | 'upstream';
  /** Downstream (from a Dataset): models fed by its versions. */
  models: Array<{
    entityRef: string | null;
    name: string;
    owner: string | null;
    versions: Array<{ version: string; stage: string | null }>;
    deployments: string[];
    via: string[];
  }>;
  /** Upstream (from a Model): datasets and their versions behind it. */
  datasets: Array<{
    nodeId: string;
    entityRef: string | null;
    owner: string | null;
    versions: Array<{
      version: string;
      contentHash: string | null;
      rowCount: number | null;
    }>;
  }>;
  /** Every node reached, with its catalog link. */
  nodes: LineageCatalogLink[];
}

/** On a Dataset: the OpenLineage dataset it is, as `<namespace>/<name>`. */
export const OPENLINEAGE_DATASET_ANNOTATION = 'openlineage.io/dataset';
/** On a Pipeline: the OpenLineage job it is, as `<namespace>/<name>`. */
export const OPENLINEAGE_JOB_ANNOTATION = 'openlineage.io/job';
/** Loopline's own OpenLineage namespace (its models and training jobs). */
export const LOOPLINE_LINEAGE_NAMESPACE = 'loopline';

/**
 * Splits `<namespace>/<name>`. A namespace with a scheme keeps its
 * authority (`s3://bucket/key` → `s3://bucket`, `key`; `postgres://h:5432/db.t`
 * → `postgres://h:5432`, `db.t`); otherwise the namespace ends at the first `/`.
 */
export function parseLineageName(
  value: string,
): { namespace: string; name: string } | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)\/(.+)$/i.exec(value);
  if (scheme) {
    return { namespace: scheme[1], name: scheme[2] };
  }
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) {
    return undefined;
  }
  return { namespace: value.slice(0, slash), name: value.slice(slash + 1) };
}

/**
 * The OpenLineage dataset a Dataset's `spec.location` names, after the
 * spec's naming conventions: `s3://bucket/key` → (`s3://bucket`, `key`),
 * `file:///abs/path` → (`file`, `/abs/path`), `file:rel/path` → (`file`,
 * `rel/path`), a bare path → (`file`, path).
 */
export function lineageIdFromLocation(
  location: string,
): { namespace: string; name: string } | undefined {
  const trimmed = location.trim();
  if (!trimmed) {
    return undefined;
  }
  const fileUrl = /^file:\/\/(\/.*)$/.exec(trimmed);
  if (fileUrl) {
    return { namespace: 'file', name: fileUrl[1] };
  }
  const withAuthority = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)\/?(.*)$/i.exec(trimmed);
  if (withAuthority) {
    return withAuthority[2]
      ? { namespace: withAuthority[1], name: withAuthority[2] }
      : undefined;
  }
  const opaque = /^([a-z][a-z0-9+.-]*):(.+)$/i.exec(trimmed);
  if (opaque && opaque[1].length > 1) {
    return { namespace: opaque[1], name: opaque[2] };
  }
  return { namespace: 'file', name: trimmed };
}

/** The OpenLineage dataset a registered model's versions are written to. */
export function modelLineageId(registeredModel: string): {
  namespace: string;
  name: string;
} {
  return {
    namespace: LOOPLINE_LINEAGE_NAMESPACE,
    name: `models/${registeredModel}`,
  };
}

/** `GET /api/mlops/lineage/graph`: the Marquez graph around an entity, each node linked to the catalog. */
export interface LineageEntityGraph extends LineageGraph {
  /** The node the graph is centred on; null when the entity names no lineage node. */
  nodeId: string | null;
  links: LineageCatalogLink[];
}

/** `GET /api/mlops/lineage/provenance?requestId=`: where a prediction came from. */
export interface LineageProvenance {
  requestId: string;
  /** The logged request(s) with that id: which model version answered, through which endpoint. */
  requests: Array<{
    modelName: string;
    version: number | null;
    endpoint: string | null;
    route: string;
    source: string;
    status: string;
    createdAt: number;
  }>;
  modelVersion: {
    name: string;
    version: number;
    entityRef: string;
    stage: string;
    sha256: string | null;
  } | null;
  /** The tracking run that produced the version. */
  trainingRun: {
    runId: string;
    runName: string;
    params: Record<string, string>;
    metrics: Record<string, number>;
  } | null;
  /** The dataset versions that run read, with their hashes. */
  trainedOn: Array<{
    nodeId: string;
    version: string;
    contentHash: string | null;
    rowCount: number | null;
  }>;
  /** Everything upstream of the model, as far as lineage goes. */
  upstream: LineageImpact['datasets'];
}

/**
 * One logged inference request as `GET /api/mlops/serving/models/:name/requests`
 * lists it (newest first), for the Serving card's request list.
 */
export interface ServingRequestSummary {
  id: number;
  requestId: string;
  modelName: string;
  version?: number | null;
  /** The rollout arm or route that answered (`stable`, `candidate`, ...). */
  route: string;
  source: string;
  endpoint?: string | null;
  status: 'ok' | 'error';
  httpStatus?: number | null;
  latencyMs?: number | null;
  createdAt: number;
}
