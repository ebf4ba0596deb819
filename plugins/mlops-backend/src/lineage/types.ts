/** The OpenLineage event shapes (spec 2-0-2) as the ingest reads them, after validation. */

export type Facets = Record<string, Record<string, unknown>>;

export interface EventDataset {
  namespace: string;
  name: string;
  facets?: Facets;
  inputFacets?: Facets;
  outputFacets?: Facets;
}

export interface EventJob {
  namespace: string;
  name: string;
  facets?: Facets;
}

export type RunEventType =
  | 'START'
  | 'RUNNING'
  | 'COMPLETE'
  | 'ABORT'
  | 'FAIL'
  | 'OTHER';

interface BaseEvent {
  eventTime: string;
  producer: string;
  schemaURL: string;
}

export interface RunEvent extends BaseEvent {
  eventType?: RunEventType;
  run: { runId: string; facets?: Facets };
  job: EventJob;
  inputs?: EventDataset[];
  outputs?: EventDataset[];
}

export interface DatasetEvent extends BaseEvent {
  dataset: EventDataset;
}

export interface JobEvent extends BaseEvent {
  job: EventJob;
  inputs?: EventDataset[];
  outputs?: EventDataset[];
}

export type LineageEvent = RunEvent | DatasetEvent | JobEvent;
