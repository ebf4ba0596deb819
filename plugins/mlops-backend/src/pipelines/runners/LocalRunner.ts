import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StepHandle } from '../PipelineStore';
import {
  LineSplitter,
  parseOutputLines,
  StepExecution,
  StepResult,
  StepRunner,
} from './types';

/** Variables of the backend's own environment a step sees; nothing else leaks (no secrets). */
const DEFAULT_PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface LocalRunnerOptions {
  /** Each run gets `<root>/<run id>`, shared by its steps. */
  workspaceRoot: string;
  /** Steps without `timeoutSeconds` are killed after this. */
  defaultTimeoutSeconds: number;
  /** Between SIGTERM and SIGKILL of the step's process group. */
  killGraceMs?: number;
  /** More variables of the backend's environment to pass on (e.g. PYTHONPATH). */
  passEnv?: string[];
}

/**
 * Runs each step as a child process in its own process group, in the run's
 * workspace folder. Timeout and cancellation signal the whole group (SIGTERM,
 * then SIGKILL), and whatever the step left running in its group is killed
 * when it exits, so no process outlives its step.
 */
export class LocalRunner implements StepRunner {
  readonly type = 'local' as const;
  private readonly killGraceMs: number;
  private readonly passEnv: string[];

  constructor(private readonly options: LocalRunnerOptions) {
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.passEnv = [...DEFAULT_PASSED_ENV, ...(options.passEnv ?? [])];
  }

  workspaceOf(runId: string): string {
    return path.join(this.options.workspaceRoot, runId);
  }

  async runStep(execution: StepExecution): Promise<StepResult> {
    const { step } = execution;
    const argv = step.run ? ['/bin/sh', '-c', step.run] : step.command;
    if (!argv || argv.length === 0) {
      return {
        state: 'failed',
        message: `Step ${step.name} has nothing to run: give it run or command`,
      };
    }
    const workspace = this.workspaceOf(execution.runId);
    const meta = path.join(workspace, '.loopline');
    await fs.mkdir(meta, { recursive: true });
    const outputsFile = path.join(
      meta,
      `outputs-${step.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${
        execution.attempt
      }.jsonl`,
    );
    await fs.writeFile(outputsFile, '');

    const env: Record<string, string> = {};
    for (const name of this.passEnv) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, parameterEnv(execution.parameters), execution.env, {
      LOOPLINE_RUN_ID: execution.runId,
      LOOPLINE_PIPELINE: execution.pipeline,
      LOOPLINE_STEP: step.name,
      LOOPLINE_WORKSPACE: workspace,
      LOOPLINE_OUTPUTS: outputsFile,
      LOOPLINE_PARAMETERS: JSON.stringify(execution.parameters),
    });

    if (execution.signal.aborted) {
      return { state: 'cancelled', message: 'Cancelled before it started' };
    }

    const child = spawn(argv[0], argv.slice(1), {
      cwd: workspace,
      env,
      detached: true, // its own process group, so that a kill reaches its children
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    // Listened to at once: a quick step may be done before the handle is stored.
    const exited = new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
    }>(resolve =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const closed = new Promise<void>(resolve =>
      child.once('close', () => resolve()),
    );
    const stdout = new LineSplitter(line => execution.onLog('stdout', line));
    const stderr = new LineSplitter(line => execution.onLog('stderr', line));
    child.stdout!.setEncoding('utf8').on('data', c => stdout.push(c));
    child.stderr!.setEncoding('utf8').on('data', c => stderr.push(c));

    const spawned = await new Promise<Error | undefined>(resolve => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', error => resolve(error));
    });
    if (spawned) {
      return {
        state: 'failed',
        message: `Could not start ${argv[0]}: ${spawned.message}`,
      };
    }
    const pid = child.pid!;
    await execution.onHandle({ host: os.hostname(), pid });

    let stopReason: 'timeout' | 'cancelled' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'cancelled') => {
      if (stopReason) return;
      stopReason = reason;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(
        () => signalGroup(pid, 'SIGKILL'),
        this.killGraceMs,
      );
    };
    const timeoutSeconds =
      step.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    const timeout = setTimeout(() => stop('timeout'), timeoutSeconds * 1000);
    const onAbort = () => stop('cancelled');
    execution.signal.addEventListener('abort', onAbort);
    // A cancel while the process was being started came before the listener.
    if (execution.signal.aborted) onAbort();

    const exit = await exited;
    clearTimeout(timeout);
    execution.signal.removeEventListener('abort', onAbort);
    // Whatever the step started in the background ends with it.
    signalGroup(pid, 'SIGKILL');
    if (killTimer) clearTimeout(killTimer);
    await closed;
    stdout.end();
    stderr.end();

    const { outputs, invalid } = parseOutputLines(
      await fs.readFile(outputsFile, 'utf8').catch(() => ''),
    );
    for (const line of invalid) {
      execution.onLog(
        'system',
        `Ignored a line of $LOOPLINE_OUTPUTS that is not a known output: ${line.slice(
          0,
          200,
        )}`,
      );
    }

    const exitCode = exit.code ?? undefined;
    if (stopReason === 'timeout') {
      return {
        state: 'failed',
        ...(exitCode !== undefined ? { exitCode } : {}),
        message: `Timed out after ${timeoutSeconds} s; the step's processes were killed`,
        outputs,
      };
    }
    if (stopReason === 'cancelled') {
      return {
        state: 'cancelled',
        ...(exitCode !== undefined ? { exitCode } : {}),
        message: "Cancelled; the step's processes were stopped",
        outputs,
      };
    }
    if (exit.code === 0) {
      return { state: 'succeeded', exitCode: 0, outputs };
    }
    return {
      state: 'failed',
      ...(exitCode !== undefined ? { exitCode } : {}),
      message:
        exit.code !== null
          ? `Exited with code ${exit.code}`
          : `Killed by ${exit.signal}`,
      outputs,
    };
  }

  /**
   * Kills the process group a step of `runId` left on this host. The group
   * leader's environment must name the run, so a reused pid is never hit.
   */
  async stopOrphan(runId: string, handle: StepHandle): Promise<void> {
    if (handle.host !== os.hostname() || !handle.pid) return;
    let environ: string;
    try {
      environ = await fs.readFile(`/proc/${handle.pid}/environ`, 'utf8');
    } catch {
      return; // gone already (or not Linux: nothing we can check)
    }
    if (environ.split('\0').includes(`LOOPLINE_RUN_ID=${runId}`)) {
      signalGroup(handle.pid, 'SIGKILL');
    }
  }
}

/** Each parameter as `LOOPLINE_PARAM_<NAME>` (upper-cased), besides `LOOPLINE_PARAMETERS`. */
export function parameterEnv(
  parameters: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    env[`LOOPLINE_PARAM_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] =
      value;
  }
  return env;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}
