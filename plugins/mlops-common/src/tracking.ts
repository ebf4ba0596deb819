/**
 * Experiment tracking as the native API (`/api/mlops/tracking/...`) shows it.
 * The MLflow-compatible routes map these to MLflow's snake_case shapes.
 */

/** A run's state, with MLflow's names. */
export type RunStatus =
  | 'RUNNING'
  | 'SCHEDULED'
  | 'FINISHED'
  | 'FAILED'
  | 'KILLED';

/** `active` or `deleted` (MLflow's lifecycle_stage). */
export type LifecycleStage = 'active' | 'deleted';

export interface Experiment {
  /** A decimal string, as MLflow's ids are. */
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  /** Milliseconds since the epoch. */
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

/** One logged value of a metric. */
export interface MetricPoint {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface Run {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  /** Milliseconds since the epoch. */
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycleStage: LifecycleStage;
  /** Per metric key, the point with the latest timestamp (largest value on a tie). */
  metrics: MetricPoint[];
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** A page of a list; pass `nextPageToken` back to read the next one. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** `GET /tracking/runs/:runId/metrics/:key`: a metric's full history, by step then time. */
export interface MetricHistory {
  runId: string;
  key: string;
  points: MetricPoint[];
}
