import { PipelineLogLine, PipelineRunOutputs } from '@loopline/mlops-common';
import type { StepDefinition, StepHandle } from '../PipelineStore';

/** One step to run, with everything the runner passes on to it. */
export interface StepExecution {
  runId: string;
  pipeline: string;
  step: StepDefinition;
  attempt: number;
  parameters: Record<string, string>;
  /** The pipeline's `spec.runner` (image, cluster, namespace for Kubernetes). */
  runnerSpec?: { image?: string; cluster?: string; namespace?: string };
  /** MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, OPENLINEAGE_URL, ... */
  env: Record<string, string>;
  /** Fires on cancellation or shutdown; the runner stops the step. */
  signal: AbortSignal;
  /** One line of output (without its newline). */
  onLog(stream: PipelineLogLine['stream'], text: string): void;
  /** Where the step runs, stored so that a restarted backend can stop it. */
  onHandle(handle: StepHandle): Promise<void>;
}

export interface StepResult {
  state: 'succeeded' | 'failed' | 'cancelled';
  exitCode?: number;
  message?: string;
  outputs?: Partial<PipelineRunOutputs>;
}

/** Runs command steps somewhere: child processes here, or Jobs on a cluster. */
export interface StepRunner {
  readonly type: 'local' | 'kubernetes';
  runStep(execution: StepExecution): Promise<StepResult>;
  /** Stops what a step left running when its backend went away (restart, crash). */
  stopOrphan(runId: string, handle: StepHandle): Promise<void>;
}

/** Parses the JSON lines a step writes to `$LOOPLINE_OUTPUTS`; returns bad lines apart. */
export function parseOutputLines(text: string): {
  outputs: Partial<PipelineRunOutputs>;
  invalid: string[];
} {
  const outputs: PipelineRunOutputs = {
    mlflowRunIds: [],
    modelVersions: [],
    datasetVersions: [],
    rollouts: [],
  };
  const invalid: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: any;
    try {
      value = JSON.parse(line);
    } catch {
      invalid.push(line);
      continue;
    }
    if (typeof value?.mlflowRunId === 'string') {
      outputs.mlflowRunIds.push(value.mlflowRunId);
    } else if (
      typeof value?.modelVersion?.name === 'string' &&
      Number.isInteger(value.modelVersion.version)
    ) {
      outputs.modelVersions.push({
        name: value.modelVersion.name,
        version: value.modelVersion.version,
      });
    } else if (
      typeof value?.datasetVersion?.name === 'string' &&
      typeof value.datasetVersion.version === 'string'
    ) {
      outputs.datasetVersions.push({
        name: value.datasetVersion.name,
        version: value.datasetVersion.version,
      });
    } else {
      invalid.push(line);
    }
  }
  return { outputs, invalid };
}

/** Splits a byte stream into lines, cutting lines longer than `maxLine`. */
export class LineSplitter {
  private pending = '';
  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLine = 16_384,
  ) {}

  push(chunk: string): void {
    this.pending += chunk;
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.emit(this.pending.slice(0, newline).replace(/\r$/, ''));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (this.pending.length > this.maxLine) {
      this.emit(this.pending.slice(0, this.maxLine));
      this.pending = this.pending.slice(this.maxLine);
    }
  }

  end(): void {
    if (this.pending !== '') this.emit(this.pending);
    this.pending = '';
  }
}
