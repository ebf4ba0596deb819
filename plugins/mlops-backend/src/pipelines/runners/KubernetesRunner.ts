import type { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClient } from '../../rollout/kserve/kubernetesClient';
import type { StepHandle } from '../PipelineStore';
import { parameterEnv } from './LocalRunner';
import { StepExecution, StepResult, StepRunner } from './types';

/** Labels of every Job this runner writes, so its cleanup finds them (and only them). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'loopline';
export const RUN_ID_LABEL = 'loopline.dev/run-id';
export const STEP_LABEL = 'loopline.dev/step';
const CONTAINER = 'step';
/** Step variables that carry credentials: passed through a Secret, not written into the Job. */
const SECRET_ENV = [
  'MLFLOW_TRACKING_TOKEN',
  'OPENLINEAGE__TRANSPORT__AUTH__API_KEY',
];

export interface KubernetesRunnerOptions {
  /** The client configuration of a cluster by its name in the Kubernetes plugin's config (undefined: the default). */
  kubeConfigOf(cluster: string | undefined): KubeConfig;
  /** Cluster of pipelines whose `spec.runner.cluster` is unset. */
  cluster?: string;
  /** Namespace of pipelines whose `spec.runner.namespace` is unset. */
  namespace: string;
  /** Image of steps without one (neither the step's `image` nor `spec.runner.image`). */
  image?: string;
  /** `activeDeadlineSeconds` of steps without `timeoutSeconds`. */
  defaultTimeoutSeconds: number;
  /** Finished Jobs are deleted this long after they finished (`ttlSecondsAfterFinished` and our own cleanup). */
  ttlSecondsAfterFinished: number;
  /** Between two reads of a running Job's status. Default 2000. */
  pollIntervalMs?: number;
  now?: () => number;
}

/**
 * Runs each step as a `batch/v1` Job (one pod, no retries: the pipeline
 * retries steps itself), polls it to completion, then copies its pod's log
 * into the step's log. Polling rather than a watch: a read every few seconds
 * needs no reconnect and resourceVersion bookkeeping, and a watch would need
 * the initial read and a poll fallback anyway. Cancellation deletes the Job
 * (propagationPolicy Background, which kills its pod); the timeout is the
 * Job's `activeDeadlineSeconds`.
 */
export class KubernetesRunner implements StepRunner {
  readonly type = 'kubernetes' as const;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly clients = new Map<string, KubeConfig>();

  constructor(private readonly options: KubernetesRunnerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  private apis(cluster: string | undefined) {
    const key = cluster ?? '';
    let kubeConfig = this.clients.get(key);
    if (!kubeConfig) {
      kubeConfig = this.options.kubeConfigOf(cluster);
      this.clients.set(key, kubeConfig);
    }
    const k8s = kubernetesClient();
    return {
      batch: kubeConfig.makeApiClient(k8s.BatchV1Api),
      core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    };
  }

  /** The Job of one step attempt: a DNS-1123 label of at most 63 characters, unique per run, step and attempt. */
  static jobName(runId: string, step: string, attempt: number): string {
    const suffix = `-${runId
      .replace(/[^a-z0-9]/gi, '')
      .slice(0, 8)
      .toLowerCase()}-${attempt}`;
    const base =
      step
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 63 - suffix.length - 3)
        .replace(/-+$/, '') || 'step';
    return `lp-${base}${suffix}`;
  }

  /** The Job manifest of a step (exported for the tests and for reading). */
  jobFor(execution: StepExecution): {
    job: any;
    /** The credentials of the step's environment, for its Secret (named as the Job). */
    secretEnv: Record<string, string>;
    namespace: string;
    cluster?: string;
    timeoutSeconds: number;
  } {
    const { step, runnerSpec } = execution;
    const argv = step.run ? ['/bin/sh', '-c', step.run] : step.command;
    if (!argv || argv.length === 0) {
      throw new Error(
        `Step ${step.name} has nothing to run: give it run or command`,
      );
    }
    const image = step.image ?? runnerSpec?.image ?? this.options.image;
    if (!image) {
      throw new Error(
        `Step ${step.name} has no image: give the step or spec.runner an image, or set mlops.pipelines.kubernetes.image`,
      );
    }
    const namespace = runnerSpec?.namespace ?? this.options.namespace;
    const cluster = runnerSpec?.cluster ?? this.options.cluster;
    const timeoutSeconds = Math.max(
      1,
      Math.ceil(step.timeoutSeconds ?? this.options.defaultTimeoutSeconds),
    );
    const name = KubernetesRunner.jobName(
      execution.runId,
      step.name,
      execution.attempt,
    );
    const env: Record<string, string> = {
      ...parameterEnv(execution.parameters),
      ...execution.env,
      LOOPLINE_RUN_ID: execution.runId,
      LOOPLINE_PIPELINE: execution.pipeline,
      LOOPLINE_STEP: step.name,
      LOOPLINE_PARAMETERS: JSON.stringify(execution.parameters),
    };
    const labels = {
      [MANAGED_BY_LABEL]: MANAGED_BY,
      [RUN_ID_LABEL]: labelValue(execution.runId),
      [STEP_LABEL]: labelValue(step.name),
    };
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace,
        labels,
        annotations: {
          'loopline.dev/pipeline': execution.pipeline,
          'loopline.dev/step': step.name,
        },
      },
      spec: {
        // The pipeline retries steps (attempts) itself.
        backoffLimit: 0,
        activeDeadlineSeconds: timeoutSeconds,
        ttlSecondsAfterFinished: this.options.ttlSecondsAfterFinished,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: CONTAINER,
                image,
                command: argv,
                env: Object.keys(env).map(key =>
                  SECRET_ENV.includes(key)
                    ? {
                        name: key,
                        valueFrom: { secretKeyRef: { name, key } },
                      }
                    : { name: key, value: env[key] },
                ),
              },
            ],
          },
        },
      },
    };
    const secretEnv = Object.fromEntries(
      Object.entries(env).filter(([key]) => SECRET_ENV.includes(key)),
    );
    return {
      job,
      secretEnv,
      namespace,
      ...(cluster ? { cluster } : {}),
      timeoutSeconds,
    };
  }

  async runStep(execution: StepExecution): Promise<StepResult> {
    let planned: ReturnType<KubernetesRunner['jobFor']>;
    try {
      planned = this.jobFor(execution);
    } catch (error) {
      return { state: 'failed', message: (error as Error).message };
    }
    const { job, secretEnv, namespace, cluster, timeoutSeconds } = planned;
    const name = job.metadata.name as string;
    if (execution.signal.aborted) {
      return { state: 'cancelled', message: 'Cancelled before it started' };
    }
    const { batch, core } = this.apis(cluster);
    let created: any;
    try {
      created = await batch.createNamespacedJob({ namespace, body: job });
    } catch (error) {
      return {
        state: 'failed',
        message: `Could not create the Job ${namespace}/${name}: ${apiMessage(
          error,
        )}`,
      };
    }
    if (Object.keys(secretEnv).length > 0) {
      // Written after the Job so that it can be owned by it (and deleted
      // with it, TTL included); the pod waits for it as for any Secret.
      try {
        await core.createNamespacedSecret({
          namespace,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'Opaque',
            metadata: {
              name,
              namespace,
              labels: job.metadata.labels,
              ownerReferences: [
                {
                  apiVersion: 'batch/v1',
                  kind: 'Job',
                  name,
                  uid: created.metadata.uid,
                },
              ],
            },
            stringData: secretEnv,
          },
        });
      } catch (error) {
        await this.deleteJob(batch, namespace, name).catch(() => undefined);
        return {
          state: 'failed',
          message: `Could not create the Secret ${namespace}/${name} of the step's credentials: ${apiMessage(
            error,
          )}`,
        };
      }
    }
    await execution.onHandle({
      job: name,
      namespace,
      ...(cluster ? { cluster } : {}),
    });
    execution.onLog('system', `Created the Job ${namespace}/${name}`);

    let cancelled = false;
    const wake: { fn?: () => void } = {};
    const onAbort = () => {
      cancelled = true;
      wake.fn?.();
    };
    execution.signal.addEventListener('abort', onAbort);
    // A cancel while the Job was being created came before the listener.
    if (execution.signal.aborted) onAbort();
    try {
      // A backstop in case the cluster does not enforce the deadline (e.g. a stuck controller).
      const giveUpAt = this.now() + (timeoutSeconds + 60) * 1000;
      for (;;) {
        if (cancelled) {
          await this.deleteJob(batch, namespace, name);
          return {
            state: 'cancelled',
            message: `Cancelled; the Job ${namespace}/${name} was deleted`,
          };
        }
        let current: any;
        try {
          current = await batch.readNamespacedJobStatus({ name, namespace });
        } catch (error) {
          if (statusOf(error) === 404) {
            return {
              state: 'failed',
              message: `The Job ${namespace}/${name} was deleted by someone else`,
            };
          }
          execution.onLog(
            'system',
            `Could not read the Job's status (retrying): ${apiMessage(error)}`,
          );
        }
        const conditions: any[] = current?.status?.conditions ?? [];
        const complete = conditions.find(
          c => c.type === 'Complete' && c.status === 'True',
        );
        const failed = conditions.find(
          c => c.type === 'Failed' && c.status === 'True',
        );
        if (complete || failed) {
          const exitCode = await this.copyLogs(
            core,
            namespace,
            name,
            execution,
          );
          this.scheduleCleanup(batch, namespace, name);
          if (complete) {
            return { state: 'succeeded', exitCode: exitCode ?? 0 };
          }
          const timedOut = failed.reason === 'DeadlineExceeded';
          return {
            state: 'failed',
            ...(exitCode !== undefined ? { exitCode } : {}),
            message: timedOut
              ? `Timed out after ${timeoutSeconds} s (the Job's activeDeadlineSeconds)`
              : exitCode !== undefined
              ? `Exited with code ${exitCode}`
              : `The Job failed: ${failed.reason ?? ''} ${
                  failed.message ?? ''
                }`.trim(),
          };
        }
        if (this.now() > giveUpAt) {
          await this.deleteJob(batch, namespace, name);
          return {
            state: 'failed',
            message: `Timed out after ${timeoutSeconds} s; the Job ${namespace}/${name} was deleted`,
          };
        }
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, this.pollIntervalMs);
          wake.fn = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake.fn = undefined;
      }
    } finally {
      execution.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Copies the log of the Job's pod(s) into the step's log; returns the container's exit code. */
  private async copyLogs(
    core: any,
    namespace: string,
    job: string,
    execution: StepExecution,
  ): Promise<number | undefined> {
    let exitCode: number | undefined;
    try {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `batch.kubernetes.io/job-name=${job}`,
      });
      for (const pod of pods.items ?? []) {
        const status = pod.status?.containerStatuses?.find(
          (s: any) => s.name === CONTAINER,
        );
        exitCode = status?.state?.terminated?.exitCode ?? exitCode;
        const log: string = await core.readNamespacedPodLog({
          name: pod.metadata.name,
          namespace,
          container: CONTAINER,
        });
        const lines = String(log ?? '').split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        for (const line of lines) execution.onLog('stdout', line);
      }
    } catch (error) {
      execution.onLog(
        'system',
        `Could not read the pod log of the Job ${namespace}/${job}: ${apiMessage(
          error,
        )}`,
      );
    }
    return exitCode;
  }

  private async deleteJob(
    batch: any,
    namespace: string,
    name: string,
  ): Promise<void> {
    try {
      await batch.deleteNamespacedJob({
        name,
        namespace,
        propagationPolicy: 'Background',
      });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /** Our own cleanup besides the TTL controller (which a cluster may not run). */
  private scheduleCleanup(batch: any, namespace: string, name: string): void {
    const timer = setTimeout(() => {
      this.deleteJob(batch, namespace, name).catch(() => undefined);
    }, this.options.ttlSecondsAfterFinished * 1000);
    timer.unref();
  }

  /**
   * Deletes the finished Jobs this runner wrote in a namespace (default: the
   * configured one) that finished more than the time to live ago, e.g. those
   * a restarted backend no longer has a timer for. Returns their names.
   */
  async cleanupFinishedJobs(
    options: { cluster?: string; namespace?: string } = {},
  ): Promise<string[]> {
    const namespace = options.namespace ?? this.options.namespace;
    const { batch } = this.apis(options.cluster ?? this.options.cluster);
    const list = await batch.listNamespacedJob({
      namespace,
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
    });
    const deleted: string[] = [];
    const cutoff = this.now() - this.options.ttlSecondsAfterFinished * 1000;
    for (const job of list.items ?? []) {
      const finishedAt = (job.status?.conditions ?? [])
        .filter(
          (c: any) =>
            (c.type === 'Complete' || c.type === 'Failed') &&
            c.status === 'True',
        )
        .map((c: any) => new Date(c.lastTransitionTime ?? 0).getTime())[0];
      if (finishedAt !== undefined && finishedAt <= cutoff) {
        await this.deleteJob(batch, namespace, job.metadata!.name!);
        deleted.push(job.metadata!.name!);
      }
    }
    return deleted;
  }

  /** Deletes the Job a step of a backend that went away left running. */
  async stopOrphan(_runId: string, handle: StepHandle): Promise<void> {
    if (!handle.job || !handle.namespace) return;
    const { batch } = this.apis(handle.cluster ?? this.options.cluster);
    await this.deleteJob(batch, handle.namespace, handle.job);
  }
}

/** A label value (at most 63 of `[A-Za-z0-9_.-]`, alphanumeric at both ends). */
function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

function statusOf(error: unknown): number | undefined {
  return (error as any)?.code ?? (error as any)?.statusCode;
}

/** The API server's `Status.message` of a client-node error, else the error's message. */
function apiMessage(error: unknown): string {
  const body = (error as any)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body);
      if (parsed?.message) return `${parsed.message} (${statusOf(error)})`;
    } catch {
      // not JSON
    }
  }
  if (body?.message) return `${body.message} (${statusOf(error)})`;
  return (error as Error)?.message ?? String(error);
}
