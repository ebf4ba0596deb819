import crypto from 'node:crypto';
import type { EventDataset, Facets, RunEventType } from './types';

/** Marquez's run states. */
export type RunState =
  | 'NEW'
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'ABORTED'
  | 'OTHER';

export interface DatasetId {
  namespace: string;
  name: string;
}

export interface SchemaField {
  name: string;
  type: string | null;
  description: string | null;
  tags: string[];
}

/**
 * The state an event type moves a run to (Marquez's `getRunState`): START
 * and RUNNING → RUNNING, COMPLETE → COMPLETED, FAIL → FAILED, ABORT →
 * ABORTED. OTHER carries metadata only and moves nothing (undefined); a
 * missing eventType counts as RUNNING, as in Marquez.
 */
export function runStateOf(
  eventType: RunEventType | undefined,
): RunState | undefined {
  switch (eventType) {
    case 'COMPLETE':
      return 'COMPLETED';
    case 'FAIL':
      return 'FAILED';
    case 'ABORT':
      return 'ABORTED';
    case 'OTHER':
      return undefined;
    default:
      return 'RUNNING';
  }
}

export function isDone(state: RunState | undefined): boolean {
  return state === 'COMPLETED' || state === 'FAILED' || state === 'ABORTED';
}

/** Java's `UUID.nameUUIDFromBytes` (a version 3 UUID from the MD5 of the bytes), which Marquez uses for its ids. */
export function nameUuidFromBytes(text: string): string {
  const bytes = md5(text);
  bytes[6] = (bytes[6] & 0x0f) | 0x30;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(
    12,
    16,
  )}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function compareIds(a: DatasetId, b: DatasetId): number {
  if (a.namespace !== b.namespace) {
    return a.namespace < b.namespace ? -1 : 1;
  }
  if (a.name !== b.name) {
    return a.name < b.name ? -1 : 1;
  }
  return 0;
}

/** Sorted, without duplicates. */
export function uniqueIds(ids: DatasetId[]): DatasetId[] {
  const sorted = [...ids].sort(compareIds);
  return sorted.filter(
    (id, i) => i === 0 || compareIds(sorted[i - 1], id) !== 0,
  );
}

/**
 * A job version's id as Marquez computes it (`Utils.newJobVersionFor`):
 * the name UUID of `namespace:name:<sorted inputs ns:name>:<sorted outputs
 * ns:name>[:location]`.
 */
export function jobVersionUuid(
  namespace: string,
  name: string,
  inputs: DatasetId[],
  outputs: DatasetId[],
  location: string | null,
): string {
  const join = (ids: DatasetId[]) =>
    uniqueIds(ids)
      .flatMap(id => [id.namespace, id.name])
      .join(':');
  const parts = [namespace, name, join(inputs), join(outputs)];
  if (location) {
    parts.push(location);
  }
  return nameUuidFromBytes(parts.join(':'));
}

/** MD5 of the UTF-8 bytes: Node's one-shot `crypto.hash` where it exists (20.12+), else a Hash object. */
const md5: (text: string) => Buffer =
  typeof (crypto as any).hash === 'function'
    ? text => (crypto as any).hash('md5', text, 'buffer')
    : text => crypto.createHash('md5').update(text, 'utf8').digest();

/**
 * Entity ids already computed (a pure function of the name, so never
 * stale): every event names its job and datasets again. Bounded: emptied
 * when full.
 */
const entityUuids = new Map<string, string>();
const ENTITY_UUIDS_MAX = 20_000;

/** The stable id of a job or dataset: the name UUID of its namespace and name. */
export function entityUuid(kind: 'job' | 'dataset', id: DatasetId): string {
  const key = `${kind}:${id.namespace}:${id.name}`;
  let uuid = entityUuids.get(key);
  if (uuid === undefined) {
    uuid = nameUuidFromBytes(key);
    if (entityUuids.size >= ENTITY_UUIDS_MAX) entityUuids.clear();
    entityUuids.set(key, uuid);
  }
  return uuid;
}

/** One version per run that wrote a dataset: every write is a version. */
export function datasetVersionUuid(id: DatasetId, runUuid: string): string {
  return nameUuidFromBytes(`${id.namespace}:${id.name}:${runUuid}`);
}

/** A version from a DatasetEvent (no run): keyed by its content. */
export function staticDatasetVersionUuid(
  id: DatasetId,
  content: string,
): string {
  return nameUuidFromBytes(`${id.namespace}:${id.name}:static:${content}`);
}

/** Facets merged the way the spec says: a same-named facet replaces the previous one, `{_deleted: true}` removes it. */
export function mergeFacets(
  previous: Facets,
  next: Facets | undefined,
): Facets {
  if (!next) {
    return previous;
  }
  const merged: Facets = { ...previous };
  for (const [name, facet] of Object.entries(next)) {
    if ((facet as any)?._deleted === true) {
      delete merged[name];
    } else {
      merged[name] = facet;
    }
  }
  return merged;
}

/** What a dataset's facets say about a version of it. */
export interface DatasetVersionFacts {
  fields: SchemaField[] | undefined;
  /** From the `version` facet (`datasetVersion`), e.g. `sha256:…` or a table version. */
  version: string | undefined;
  rowCount: number | undefined;
  byteSize: number | undefined;
  sourceName: string | undefined;
  lifecycleState: string | undefined;
  description: string | undefined;
}

export function datasetFacts(dataset: EventDataset): DatasetVersionFacts {
  const facets: Record<string, any> = dataset.facets ?? {};
  const stats: Record<string, any> =
    dataset.outputFacets?.outputStatistics ??
    dataset.inputFacets?.inputStatistics ??
    {};
  const fields = Array.isArray(facets.schema?.fields)
    ? (facets.schema.fields as any[]).map(
        (field): SchemaField => ({
          name: String(field.name),
          type: field.type ?? null,
          description: field.description ?? null,
          tags: [],
        }),
      )
    : undefined;
  return {
    fields,
    version:
      typeof facets.version?.datasetVersion === 'string'
        ? facets.version.datasetVersion
        : undefined,
    rowCount: numberOrUndefined(stats.rowCount),
    byteSize: numberOrUndefined(stats.size ?? stats.bytes),
    sourceName:
      typeof facets.dataSource?.name === 'string'
        ? facets.dataSource.name
        : undefined,
    lifecycleState:
      typeof facets.lifecycleStateChange?.lifecycleStateChange === 'string'
        ? facets.lifecycleStateChange.lifecycleStateChange
        : undefined,
    description:
      typeof facets.documentation?.description === 'string'
        ? facets.documentation.description
        : undefined,
  };
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value)
    ? value
    : undefined;
}

/** One input column behind an output column, from the `columnLineage` facet. */
export interface ColumnLineageRow {
  field: string;
  inputNamespace: string;
  inputName: string;
  inputField: string;
  transformationType: string | null;
  transformationSubtype: string | null;
  transformationDescription: string | null;
}

export function columnLineageOf(dataset: EventDataset): ColumnLineageRow[] {
  const facet: any = dataset.facets?.columnLineage;
  const rows: ColumnLineageRow[] = [];
  for (const [field, value] of Object.entries<any>(facet?.fields ?? {})) {
    for (const input of value?.inputFields ?? []) {
      const transformations: any[] = input.transformations ?? [];
      const first = transformations[0];
      rows.push({
        field,
        inputNamespace: String(input.namespace),
        inputName: String(input.name),
        inputField: String(input.field),
        // The deprecated per-field transformation* keys are the fallback.
        transformationType: first?.type ?? value.transformationType ?? null,
        transformationSubtype: first?.subtype ?? null,
        transformationDescription:
          first?.description ?? value.transformationDescription ?? null,
      });
    }
  }
  return rows;
}

/** The job's type for Marquez's `type` field, from the `jobType` facet. */
export function jobTypeOf(facets: Facets | undefined): 'BATCH' | 'STREAM' {
  return (facets?.jobType as any)?.processingType === 'STREAMING'
    ? 'STREAM'
    : 'BATCH';
}

/** The `parent` run facet: the parent job and run, if any. */
export function parentOf(
  facets: Facets | undefined,
): { job: DatasetId; runId: string | undefined } | undefined {
  const parent: any = facets?.parent;
  if (!parent?.job?.namespace || !parent?.job?.name) {
    return undefined;
  }
  return {
    job: { namespace: parent.job.namespace, name: parent.job.name },
    runId: parent.run?.runId,
  };
}

/** Node ids in Marquez's grammar. */
export const nodeIds = {
  dataset: (id: DatasetId) => `dataset:${id.namespace}:${id.name}`,
  job: (id: DatasetId) => `job:${id.namespace}:${id.name}`,
  field: (id: DatasetId, field: string) =>
    `datasetField:${id.namespace}:${id.name}:${field}`,
};

export type ParsedNodeId =
  | { type: 'dataset' | 'job'; id: DatasetId; version?: string }
  | { type: 'datasetField'; id: DatasetId; field: string; version?: string }
  | { type: 'run'; runId: string };

/**
 * Parses a node id. Namespaces may contain `:` (`postgres://host:5432`), so
 * the namespace is matched against the known ones: the longest known
 * namespace that the rest starts with wins, else the text up to the first
 * `:` that is not part of a `://` or a port.
 */
export function parseNodeId(
  nodeId: string,
  knownNamespaces: string[],
): ParsedNodeId | undefined {
  const match = /^(dataset|datasetField|job|run):(.*)$/s.exec(nodeId);
  if (!match) {
    return undefined;
  }
  const type = match[1] as ParsedNodeId['type'];
  let rest = match[2];
  let version: string | undefined;
  const hash = rest.lastIndexOf('#');
  if (hash >= 0 && /^[0-9a-f-]{36}$/i.test(rest.slice(hash + 1))) {
    version = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  if (type === 'run') {
    return { type, runId: rest };
  }
  const namespace = [...knownNamespaces]
    .sort((a, b) => b.length - a.length)
    .find(ns => rest.startsWith(`${ns}:`));
  if (namespace === undefined) {
    return undefined;
  }
  const name = rest.slice(namespace.length + 1);
  if (type === 'datasetField') {
    const colon = name.lastIndexOf(':');
    if (colon < 0) {
      return undefined;
    }
    return {
      type,
      id: { namespace, name: name.slice(0, colon) },
      field: name.slice(colon + 1),
      version,
    };
  }
  return { type, id: { namespace, name }, version };
}
