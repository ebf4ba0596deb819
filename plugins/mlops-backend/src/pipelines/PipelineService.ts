import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { randomUUID } from 'node:crypto';
import {
  isFinishedRunState,
  PipelineEntityV1alpha1,
  PipelineLogPage,
  PipelineRun,
  PipelineRunList,
  PipelineRunTriggerType,
  PipelineStepKind,
  StepRunState,
} from '@loopline/mlops-common';
import { actorOf } from '../audit/AuditTrail';
import type { AuditTrail } from '../audit';
import { encodePageToken } from '../lib/pageToken';
import {
  DEFAULT_CONCURRENCY,
  entityRefOfPipeline,
  PipelineSource,
  resolveParameters,
  schedulesOf,
  stepsOf,
} from './definitions';
import { nextFireTime } from './schedule';
import {
  NewLogLine,
  PipelineStore,
  RunRecord,
  StepDefinition,
  StepRunRecord,
} from './PipelineStore';
import { StepExecution, StepResult, StepRunner } from './runners/types';

/** A built-in step kind (validate-data, evaluate, register, rollout, ...). */
export interface BuiltinStep {
  run(context: {
    run: RunRecord;
    pipeline: PipelineEntityV1alpha1;
    step: StepDefinition;
    signal: AbortSignal;
    log(text: string): void;
  }): Promise<StepResult>;
}

/** Told when runs start and finish (lineage, notifications, metrics). */
export interface PipelineRunListener {
  runStarted?(
    run: PipelineRun,
    pipeline: PipelineEntityV1alpha1,
  ): Promise<void>;
  runFinished?(
    run: PipelineRun,
    pipeline: PipelineEntityV1alpha1 | undefined,
  ): Promise<void>;
}

export interface PipelineServiceOptions {
  store: PipelineStore;
  pipelines: PipelineSource;
  runners: StepRunner[];
  builtins?: Partial<Record<PipelineStepKind, BuiltinStep>>;
  /** Variables every step gets: MLflow URI and a short-lived token, OPENLINEAGE_URL. */
  stepEnvironment(run: RunRecord): Promise<Record<string, string>>;
  auditTrail?: AuditTrail;
  /** Credentials the audit trail names for runs no person started. */
  serviceCredentials(): Promise<BackstageCredentials>;
  listeners?: PipelineRunListener[];
  logger: LoggerService;
  /** This backend instance, as stored on the runs it executes. */
  instanceId?: string;
  heartbeatIntervalMs?: number;
  /** A running run whose instance has not beaten for this long is failed. */
  staleAfterMs?: number;
  /** Log lines kept per step attempt; later lines are dropped with a note. */
  maxLogLinesPerStep?: number;
  now?: () => number;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
  /** Why it is being stopped, when it is. */
  stopReason?: 'cancelled' | 'shutdown';
}

const LOG_FLUSH_MS = 250;

/**
 * Runs pipelines: queues runs, starts them within each pipeline's
 * concurrency limit, executes their steps in dependency order on the
 * pipeline's runner, and records states, logs and outputs.
 *
 * Restart behaviour: runs are not resumed. A backend that shuts down stops its
 * steps (their process groups, or their Jobs) and marks its runs failed with
 * the reason; a backend that died is noticed by its missing heartbeat, and
 * any instance then stops what it left behind and fails its runs the same
 * way. A failed step can then be retried, which continues the run.
 */
export class PipelineService {
  private readonly store: PipelineStore;
  private readonly pipelines: PipelineSource;
  private readonly runners: Map<string, StepRunner>;
  private readonly builtins: Partial<Record<PipelineStepKind, BuiltinStep>>;
  private readonly listeners: PipelineRunListener[];
  private readonly logger: LoggerService;
  private readonly now: () => number;
  private readonly active = new Map<string, ActiveRun>();
  readonly instanceId: string;
  private readonly heartbeatIntervalMs: number;
  private readonly staleAfterMs: number;
  private readonly maxLogLinesPerStep: number;
  private heartbeatTimer?: NodeJS.Timeout;
  private dispatching?: Promise<void>;
  private dispatchAgain = false;
  private stopped = false;

  constructor(private readonly options: PipelineServiceOptions) {
    this.store = options.store;
    this.pipelines = options.pipelines;
    this.runners = new Map(options.runners.map(r => [r.type, r]));
    this.builtins = options.builtins ?? {};
    this.listeners = options.listeners ?? [];
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.instanceId = options.instanceId ?? randomUUID();
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    this.maxLogLinesPerStep = options.maxLogLinesPerStep ?? 100_000;
  }

  /** Starts the heartbeat that keeps this instance's runs alive and hears cancellations. */
  start(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      this.beat().catch(error =>
        this.logger.warn(`Pipeline heartbeat failed: ${error}`),
      );
    }, this.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  async pipeline(name: string): Promise<PipelineEntityV1alpha1> {
    const entity = await this.pipelines.get(name);
    if (!entity) {
      throw new NotFoundError(`No pipeline named ${name}`);
    }
    return entity;
  }

  /**
   * Queues a run and starts it when the pipeline has a free slot. With a
   * trigger key the pipeline has seen, returns that run instead (`created`
   * false).
   */
  async startRun(request: {
    pipeline: string;
    parameters?: Record<string, string>;
    trigger: {
      type: PipelineRunTriggerType;
      cause: string;
      key?: string;
    };
    credentials: BackstageCredentials;
    user?: string;
    comment?: string;
  }): Promise<{ created: boolean; run: PipelineRun }> {
    const entity = await this.pipeline(request.pipeline);
    const parameters = resolveParameters(entity, request.parameters ?? {}, {
      onlyDeclared: request.trigger.type === 'manual',
    });
    const steps = stepsOf(entity);
    const runner = entity.spec.runner?.type ?? 'local';
    for (const step of steps) {
      if (step.kind !== 'command' && !this.builtins[step.kind]) {
        if (!(step.kind === 'train' && (step.run || step.command))) {
          throw new InputError(
            `Step ${step.name}: the built-in kind ${step.kind} is not available on this backend`,
          );
        }
      }
    }
    if (!this.runners.has(runner)) {
      throw new InputError(
        `Pipeline ${entity.metadata.name} asks for the ${runner} runner, which is not configured`,
      );
    }
    const { created, run } = await this.store.createRun({
      id: randomUUID(),
      pipeline: entity.metadata.name,
      entityRef: entityRefOfPipeline(entity),
      runner,
      parameters,
      trigger: {
        type: request.trigger.type,
        cause: request.trigger.cause,
        ...(request.user ? { user: request.user } : {}),
        ...(request.trigger.key ? { key: request.trigger.key } : {}),
      },
      steps,
      now: this.now(),
    });
    if (created) {
      await this.options.auditTrail?.record({
        entityRef: run.entityRef,
        action: 'pipeline.run.start',
        credentials: request.credentials,
        comment: request.comment,
        details: {
          runId: run.id,
          trigger: request.trigger.type,
          cause: request.trigger.cause,
          parameters,
        },
      });
      this.dispatch();
    }
    return { created, run: toApi(run) };
  }

  async listRuns(
    pipeline: string,
    options: { limit: number; offset: number },
  ): Promise<PipelineRunList> {
    const entity = await this.pipeline(pipeline);
    const runs = await this.store.listRuns(entity.metadata.name, {
      limit: options.limit + 1,
      offset: options.offset,
    });
    const next = schedulesOf(entity)
      .map(cron => nextFireTime(cron, this.now()))
      .sort((a, b) => a - b)[0];
    return {
      items: runs.slice(0, options.limit).map(toApi),
      ...(next !== undefined
        ? { nextScheduledAt: new Date(next).toISOString() }
        : {}),
      ...(runs.length > options.limit
        ? { nextPageToken: encodePageToken(options.offset + options.limit) }
        : {}),
    };
  }

  async getRun(pipeline: string, id: string): Promise<PipelineRun> {
    return toApi(await this.requireRun(pipeline, id));
  }

  async readLogs(
    pipeline: string,
    id: string,
    options: { after: number; limit: number; step?: string },
  ): Promise<PipelineLogPage> {
    const run = await this.requireRun(pipeline, id);
    const items = await this.store.readLogs(run.id, options);
    const last = items.length > 0 ? items[items.length - 1].seq : options.after;
    // Finished and nothing more after this page: the client may stop following.
    const complete =
      isFinishedRunState(run.state) && items.length < options.limit;
    return { items, last, complete };
  }

  /**
   * Cancels a run: a queued run at once, a running one by stopping its steps
   * (on whichever instance runs it, through the stored request).
   */
  async cancel(request: {
    pipeline: string;
    id: string;
    credentials: BackstageCredentials;
    comment?: string;
  }): Promise<PipelineRun> {
    const run = await this.requireRun(request.pipeline, request.id);
    if (isFinishedRunState(run.state)) {
      throw new ConflictError(`Run ${run.id} is already ${run.state}`);
    }
    const now = this.now();
    const reason = `Cancelled by ${actorOf(request.credentials)}`;
    if (
      await this.store.updateRun(
        run.id,
        { state: 'cancelled', finishedAt: now, reason, cancelRequested: true },
        ['queued'],
      )
    ) {
      for (const step of run.steps) {
        await this.store.updateStep(
          run.id,
          step.name,
          { state: 'cancelled', message: 'The run was cancelled' },
          ['queued'],
        );
      }
    } else {
      await this.store.updateRun(run.id, {
        cancelRequested: true,
        reason,
      });
      const active = this.active.get(run.id);
      if (active) {
        active.stopReason = 'cancelled';
        active.controller.abort();
      }
    }
    await this.options.auditTrail?.record({
      entityRef: run.entityRef,
      action: 'pipeline.run.cancel',
      credentials: request.credentials,
      comment: request.comment,
      details: { runId: run.id },
    });
    return toApi((await this.store.getRun(run.id))!);
  }

  /**
   * Retries a failed (or cancelled) step of a finished run: the step and the
   * steps after it that did not succeed run again; succeeded steps are kept.
   */
  async retryStep(request: {
    pipeline: string;
    id: string;
    step: string;
    credentials: BackstageCredentials;
    comment?: string;
  }): Promise<PipelineRun> {
    const run = await this.requireRun(request.pipeline, request.id);
    if (run.state !== 'failed' && run.state !== 'cancelled') {
      throw new ConflictError(
        `Run ${run.id} is ${run.state}; only a failed or cancelled run's steps can be retried`,
      );
    }
    const step = run.steps.find(s => s.name === request.step);
    if (!step) {
      throw new NotFoundError(`Run ${run.id} has no step ${request.step}`);
    }
    if (step.state !== 'failed' && step.state !== 'cancelled') {
      throw new ConflictError(
        `Step ${step.name} is ${step.state}; only a failed or cancelled step can be retried`,
      );
    }
    const again = new Set([step.name, ...downstreamOf(run.steps, step.name)]);
    for (const s of run.steps) {
      if (!again.has(s.name) || s.state === 'succeeded') continue;
      await this.store.updateStep(run.id, s.name, {
        state: 'queued',
        attempt: s.startedAt ? s.attempt + 1 : s.attempt,
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        message: null,
        handle: null,
      });
    }
    await this.store.updateRun(run.id, {
      state: 'queued',
      finishedAt: null,
      reason: null,
      cancelRequested: false,
      claimedBy: null,
    });
    await this.options.auditTrail?.record({
      entityRef: run.entityRef,
      action: 'pipeline.run.retry',
      credentials: request.credentials,
      comment: request.comment,
      details: { runId: run.id, step: step.name },
    });
    this.dispatch();
    return toApi((await this.store.getRun(run.id))!);
  }

  /**
   * Starts queued runs where their pipeline has free slots. Calls made while
   * one is under way fold into one more pass.
   */
  dispatch(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.dispatching) {
      this.dispatchAgain = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      try {
        do {
          this.dispatchAgain = false;
          await this.dispatchOnce();
        } while (this.dispatchAgain && !this.stopped);
      } catch (error) {
        this.logger.error(`Could not start queued pipeline runs: ${error}`);
      } finally {
        this.dispatching = undefined;
      }
    })();
    return this.dispatching;
  }

  private async dispatchOnce(): Promise<void> {
    for (const name of await this.store.pipelinesWithQueuedRuns()) {
      const entity = await this.pipelines.get(name);
      const limit = entity?.spec.concurrency ?? DEFAULT_CONCURRENCY;
      for (;;) {
        if (this.stopped) return;
        const run = await this.store.claimNextRun(
          name,
          limit,
          this.instanceId,
          this.now(),
        );
        if (!run) break;
        this.launch(run, entity);
      }
    }
  }

  /** Resolves when every run this instance executes has finished. */
  async idle(): Promise<void> {
    for (;;) {
      await this.dispatching;
      const running = [...this.active.values()].map(a => a.done);
      if (running.length === 0 && !this.dispatching) return;
      await Promise.all(running);
    }
  }

  /**
   * Fails the runs of instances that stopped beating (a crash or a restart),
   * after stopping what their steps left running.
   */
  async recoverAbandonedRuns(): Promise<number> {
    const stale = await this.store.runningRuns({
      heartbeatBefore: this.now() - this.staleAfterMs,
    });
    let count = 0;
    for (const run of stale) {
      if (this.active.has(run.id)) continue;
      await this.stopRunningSteps(run);
      const failed = await this.finishRun(
        run,
        'failed',
        'The backend executing the run stopped (restart or crash) before it finished; its steps were stopped. Retry the failed step to continue.',
        'The backend executing the run stopped',
      );
      if (failed) count++;
    }
    if (count > 0) this.dispatch();
    return count;
  }

  /** Stops this instance's runs (their steps are killed) and marks them failed. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const active of this.active.values()) {
      active.stopReason ??= 'shutdown';
      active.controller.abort();
    }
    await Promise.all([...this.active.values()].map(a => a.done));
  }

  async purgeLogs(retentionDays: number): Promise<number> {
    return this.store.purgeLogs(this.now() - retentionDays * 86_400_000);
  }

  private async beat(): Promise<void> {
    const ids = [...this.active.keys()];
    const cancelled = await this.store.heartbeat(
      this.instanceId,
      ids,
      this.now(),
    );
    for (const id of cancelled) {
      const active = this.active.get(id);
      if (active && !active.controller.signal.aborted) {
        active.stopReason = 'cancelled';
        active.controller.abort();
      }
    }
  }

  private launch(run: RunRecord, entity: PipelineEntityV1alpha1 | undefined) {
    const controller = new AbortController();
    const active: ActiveRun = {
      controller,
      done: Promise.resolve(),
    };
    active.done = this.execute(run, entity, active)
      .catch(async error => {
        this.logger.error(`Pipeline run ${run.id} broke: ${error}`);
        const current = await this.store.getRun(run.id);
        if (current) {
          await this.finishRun(current, 'failed', `Internal error: ${error}`);
        }
      })
      .finally(() => {
        this.active.delete(run.id);
        this.dispatch();
      });
    this.active.set(run.id, active);
  }

  private async execute(
    claimed: RunRecord,
    entity: PipelineEntityV1alpha1 | undefined,
    active: ActiveRun,
  ): Promise<void> {
    if (!entity) {
      await this.finishRun(
        claimed,
        'failed',
        `Pipeline ${claimed.pipeline} is no longer in the catalog`,
      );
      return;
    }
    if (claimed.cancelRequested) {
      await this.finishRun(claimed, 'cancelled', claimed.reason ?? 'Cancelled');
      return;
    }
    await this.notify(l => l.runStarted?.(toApi(claimed), entity));
    const env = await this.options.stepEnvironment(claimed);
    const running = new Map<string, Promise<void>>();

    for (;;) {
      const run = (await this.store.getRun(claimed.id))!;
      const aborted = active.controller.signal.aborted;
      // Steps whose dependencies cannot succeed any more are skipped.
      let changed = false;
      for (const step of run.steps) {
        if (step.state !== 'queued' || running.has(step.name)) continue;
        const blocked = step.dependsOn
          .map(d => run.steps.find(s => s.name === d)!)
          .find(d => ['failed', 'skipped', 'cancelled'].includes(d.state));
        if (aborted) {
          await this.store.updateStep(run.id, step.name, {
            state: 'cancelled',
            message:
              active.stopReason === 'shutdown'
                ? 'The backend shut down'
                : 'The run was cancelled',
          });
          changed = true;
        } else if (blocked) {
          await this.store.updateStep(run.id, step.name, {
            state: 'skipped',
            message: `${blocked.name} ${blocked.state}`,
          });
          changed = true;
        }
      }
      if (changed) continue;
      const ready = aborted
        ? []
        : run.steps.filter(
            step =>
              step.state === 'queued' &&
              !running.has(step.name) &&
              step.dependsOn.every(
                d => run.steps.find(s => s.name === d)!.state === 'succeeded',
              ),
          );
      for (const step of ready) {
        const promise = this.executeStep(run, entity, step, env, active)
          .catch(async error => {
            await this.store.updateStep(run.id, step.name, {
              state: 'failed',
              finishedAt: this.now(),
              message: `Internal error: ${error}`,
            });
          })
          .finally(() => running.delete(step.name));
        running.set(step.name, promise);
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }

    const final = (await this.store.getRun(claimed.id))!;
    const failed = final.steps.filter(s => s.state === 'failed');
    if (active.stopReason === 'shutdown') {
      await this.finishRun(
        final,
        'failed',
        'The backend shut down while the run was running; its steps were stopped. Retry the failed step to continue.',
      );
    } else if (active.stopReason === 'cancelled' || final.cancelRequested) {
      await this.finishRun(final, 'cancelled', final.reason ?? 'Cancelled');
    } else if (failed.length > 0) {
      await this.finishRun(
        final,
        'failed',
        failed.map(s => `${s.name}: ${s.message ?? 'failed'}`).join('; '),
      );
    } else {
      await this.finishRun(final, 'succeeded');
    }
  }

  private async executeStep(
    run: RunRecord,
    entity: PipelineEntityV1alpha1,
    step: StepRunRecord,
    env: Record<string, string>,
    active: ActiveRun,
  ): Promise<void> {
    const { definition, attempt } = step;
    await this.store.updateStep(run.id, step.name, {
      state: 'running',
      startedAt: this.now(),
    });
    const log = new StepLog(
      this.store,
      run.id,
      step.name,
      attempt,
      this.maxLogLinesPerStep,
      this.now,
      this.logger,
    );
    let result: StepResult;
    try {
      const builtin = this.builtins[definition.kind];
      if (
        definition.kind !== 'command' &&
        builtin &&
        !(definition.kind === 'train' && (definition.run || definition.command))
      ) {
        log.write('system', `Running the built-in step ${definition.kind}`);
        result = await builtin.run({
          run,
          pipeline: entity,
          step: definition,
          signal: active.controller.signal,
          log: text => log.write('system', text),
        });
      } else {
        const runner = this.runners.get(run.runner)!;
        const execution: StepExecution = {
          runId: run.id,
          pipeline: run.pipeline,
          step: definition,
          attempt,
          parameters: run.parameters,
          ...(entity.spec.runner ? { runnerSpec: entity.spec.runner } : {}),
          env,
          signal: active.controller.signal,
          onLog: (stream, text) => log.write(stream, text),
          onHandle: handle =>
            this.store
              .updateStep(run.id, step.name, { handle })
              .then(() => undefined),
        };
        result = await runner.runStep(execution);
      }
    } catch (error) {
      result = { state: 'failed', message: String(error) };
    }
    if (result.message) log.write('system', result.message);
    await log.close();
    if (result.outputs) {
      await this.store.addOutputs(run.id, result.outputs);
    }
    await this.store.updateStep(run.id, step.name, {
      state: result.state,
      finishedAt: this.now(),
      exitCode: result.exitCode ?? null,
      message: result.message ?? null,
    });
  }

  private async stopRunningSteps(run: RunRecord): Promise<void> {
    const runner = this.runners.get(run.runner);
    for (const step of run.steps) {
      if (step.state !== 'running') continue;
      if (step.handle && runner) {
        try {
          await runner.stopOrphan(run.id, step.handle);
        } catch (error) {
          this.logger.warn(
            `Could not stop step ${step.name} of run ${run.id}: ${error}`,
          );
        }
      }
      await this.store.updateStep(run.id, step.name, {
        state: 'failed',
        finishedAt: this.now(),
        message: 'Stopped: the backend executing it went away',
      });
    }
  }

  /** Moves a run to a final state (once) and tells the listeners. */
  private async finishRun(
    run: RunRecord,
    state: 'succeeded' | 'failed' | 'cancelled',
    reason?: string,
    stepMessage?: string,
  ): Promise<boolean> {
    const now = this.now();
    for (const step of run.steps) {
      if (step.state === 'queued' || step.state === 'running') {
        await this.store.updateStep(run.id, step.name, {
          state: (step.state === 'running'
            ? 'failed'
            : 'skipped') as StepRunState,
          ...(step.state === 'running' ? { finishedAt: now } : {}),
          message: stepMessage ?? reason ?? `The run ${state}`,
        });
      }
    }
    const changed = await this.store.updateRun(
      run.id,
      {
        state,
        finishedAt: now,
        reason: reason ?? null,
        claimedBy: null,
      },
      ['running', 'queued'],
    );
    if (!changed) return false;
    const finished = (await this.store.getRun(run.id))!;
    const entity = await this.pipelines
      .get(run.pipeline)
      .catch(() => undefined);
    await this.options.auditTrail
      ?.record({
        entityRef: run.entityRef,
        action: `pipeline.run.${state}`,
        credentials: await this.options.serviceCredentials(),
        ...(reason ? { comment: reason } : {}),
        details: { runId: run.id, outputs: finished.outputs },
      })
      .catch(error =>
        this.logger.warn(`Could not audit the end of run ${run.id}: ${error}`),
      );
    await this.notify(l => l.runFinished?.(toApi(finished), entity));
    return true;
  }

  private async notify(
    call: (listener: PipelineRunListener) => Promise<void> | undefined,
  ): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await call(listener);
      } catch (error) {
        this.logger.warn(`A pipeline run listener failed: ${error}`);
      }
    }
  }

  private async requireRun(pipeline: string, id: string): Promise<RunRecord> {
    const run = await this.store.getRun(id);
    if (!run || run.pipeline !== pipeline) {
      throw new NotFoundError(`Pipeline ${pipeline} has no run ${id}`);
    }
    return run;
  }
}

/** A step's output on its way to the store: batched, capped per attempt. */
class StepLog {
  private buffer: NewLogLine[] = [];
  private lines = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: PipelineStore,
    private readonly runId: string,
    private readonly step: string,
    private readonly attempt: number,
    private readonly maxLines: number,
    private readonly now: () => number,
    private readonly logger: LoggerService,
  ) {}

  write(stream: NewLogLine['stream'], text: string): void {
    this.lines++;
    if (this.lines > this.maxLines + 1) return;
    this.buffer.push({
      runId: this.runId,
      step: this.step,
      attempt: this.attempt,
      stream: this.lines > this.maxLines ? 'system' : stream,
      text:
        this.lines > this.maxLines
          ? `Log truncated: more than ${this.maxLines} lines`
          : text,
      at: this.now(),
    });
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS);
    }
  }

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    // A failed write loses its batch (said in the backend's log), not the lines after it.
    this.writing = this.writing
      .then(() => this.store.appendLogs(batch))
      .catch(error =>
        this.logger.warn(
          `Lost ${batch.length} log lines of run ${this.runId}: ${error}`,
        ),
      );
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

function downstreamOf(steps: StepRunRecord[], name: string): string[] {
  const result = new Set<string>();
  const visit = (n: string) => {
    for (const step of steps) {
      if (step.dependsOn.includes(n) && !result.has(step.name)) {
        result.add(step.name);
        visit(step.name);
      }
    }
  };
  visit(name);
  return [...result];
}

/** The API's view of a stored run (no definitions, handles or instance ids). */
export function toApi(run: RunRecord): PipelineRun {
  const { claimedBy: _c, heartbeatAt: _h, steps, ...rest } = run;
  return {
    ...rest,
    steps: steps.map(({ definition: _d, handle: _x, ...step }) => step),
  };
}
