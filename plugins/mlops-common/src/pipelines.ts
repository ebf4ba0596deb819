/**
 * Pipeline runs as the API returns them, shared by the backend and the UI.
 * The state names follow Kubeflow Pipelines and Airflow (see the specs).
 */

/** A run's state: `queued` until a slot is free, then `running`, then one of the three final states. */
export const PIPELINE_RUN_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type PipelineRunState = (typeof PIPELINE_RUN_STATES)[number];

export const STEP_RUN_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type StepRunState = (typeof STEP_RUN_STATES)[number];

/** Final states: nothing changes a run in one of them except a step retry. */
export function isFinishedRunState(state: PipelineRunState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/** Built-in step kinds; `command` runs `run:` or `command:`. */
export const PIPELINE_STEP_KINDS = [
  'command',
  'validate-data',
  'train',
  'evaluate',
  'register',
  'rollout',
] as const;
export type PipelineStepKind = (typeof PIPELINE_STEP_KINDS)[number];

/** What started a run. */
export const PIPELINE_TRIGGER_TYPES = [
  'schedule',
  'manual',
  'dataset-update',
  'drift',
] as const;
export type PipelineRunTriggerType = (typeof PIPELINE_TRIGGER_TYPES)[number];

export interface PipelineRunTrigger {
  type: PipelineRunTriggerType;
  /** Why, in words: the cron slot, the user's comment, the dataset version, the alert. */
  cause: string;
  /** Who asked (manual runs): a user entity ref or a service subject. */
  user?: string;
}

export interface PipelineStepRun {
  name: string;
  kind: PipelineStepKind;
  dependsOn: string[];
  state: StepRunState;
  /** 1 for the first try, +1 per retry. */
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Why it failed, was skipped or cancelled. */
  message?: string;
}

export interface PipelineRunOutputs {
  mlflowRunIds: string[];
  modelVersions: Array<{ name: string; version: number }>;
  datasetVersions: Array<{ name: string; version: string }>;
  rollouts: Array<{ model: string; environment: string; version: number }>;
}

export interface PipelineRun {
  id: string;
  pipeline: string;
  entityRef: string;
  state: PipelineRunState;
  runner: 'local' | 'kubernetes';
  parameters: Record<string, string>;
  trigger: PipelineRunTrigger;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Why the run failed or was cancelled. */
  reason?: string;
  cancelRequested: boolean;
  steps: PipelineStepRun[];
  outputs: PipelineRunOutputs;
}

export interface PipelineRunList {
  items: PipelineRun[];
  nextPageToken?: string;
  /** The next time the pipeline's schedule fires, if it has one. */
  nextScheduledAt?: string;
}

export interface PipelineLogLine {
  /** Increasing per run; ask for lines `after` the last one seen. */
  seq: number;
  step: string;
  attempt: number;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: string;
}

export interface PipelineLogPage {
  items: PipelineLogLine[];
  /** Pass as `after` to get the next lines. */
  last: number;
  /** True once the run is finished and every line was returned. */
  complete: boolean;
}

/** The body of `POST /pipelines/:name/runs`. */
export interface PipelineRunRequest {
  parameters?: Record<string, string>;
  comment?: string;
}
