/**
 * `batch/v1` Jobs and `v1` pods (with their logs) for the fake API server:
 * every written Job is validated against the real Job schema (the
 * `kubernetes-models` package's, generated from the Kubernetes OpenAPI) plus
 * the ObjectMeta and Job rules the API server adds, and the fake plays the Job
 * controller: a Job goes active with one pod, then succeeds or fails by a
 * test-controlled rule, or fails with `DeadlineExceeded` when it outlives
 * `activeDeadlineSeconds`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { FieldCause, validateObjectMeta } from './crdSchema';

/** What a Job's pod does: exit with a code after printing a log, or run until stopped. */
export type JobOutcome =
  | { exitCode: number; log?: string; afterMs?: number }
  | { hang: true; log?: string };

export type JobRule = (job: any) => JobOutcome;

export interface FakeJobsApi {
  /** Copies of the stored Jobs (of one namespace, or all). */
  jobs(namespace?: string): any[];
  pods(namespace?: string): any[];
  secrets(namespace?: string): any[];
  /** How the next Jobs end; default: exit 0 with an empty log at once. */
  setJobRule(rule: JobRule): void;
}

export interface RouteAnswer {
  status: number;
  payload: unknown;
  /** Sent as text/plain instead of JSON (pod logs). */
  text?: boolean;
}

type Fail = (
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
) => never;

const JOBS =
  /^\/apis\/batch\/v1\/(?:namespaces\/([^/]+)\/)?jobs(?:\/([^/]+)(\/status)?)?\/?$/;
const PODS =
  /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?pods(?:\/([^/]+)(\/log)?)?\/?$/;
const SECRETS = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?\/?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The Job validation of the API server: schema, ObjectMeta, and the Job's own rules. */
export function validateJob(object: any): FieldCause[] {
  const causes = validateObjectMeta(object?.metadata);
  try {
    new Job(object).validate();
  } catch (error) {
    for (const e of (error as any)?.errors ?? [
      { instancePath: '', message: String(error) },
    ]) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: String(e.instancePath ?? '')
          .replace(/^\//, '')
          .replace(/\//g, '.'),
        message: `Invalid value: ${e.message}`,
      });
    }
  }
  const namespace = object?.metadata?.namespace;
  if (
    typeof namespace === 'string' &&
    (namespace.length > 63 || !DNS_1123_LABEL.test(namespace))
  ) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.namespace',
      message: `Invalid value: "${namespace}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
    });
  }
  const name = object?.metadata?.name;
  // The Job's name becomes the `batch.kubernetes.io/job-name` label of its pods.
  if (typeof name === 'string' && name.length > 63) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": must be no more than 63 characters`,
    });
  }
  const restartPolicy = object?.spec?.template?.spec?.restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.template.spec.restartPolicy',
      message: `Unsupported value: "${restartPolicy}": supported values: "OnFailure", "Never"`,
    });
  }
  const deadline = object?.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && !(deadline > 0)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.activeDeadlineSeconds',
      message: `Invalid value: ${deadline}: must be greater than 0`,
    });
  }
  for (const container of object?.spec?.template?.spec?.containers ?? []) {
    if (!DNS_1123_LABEL.test(String(container?.name))) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.template.spec.containers.name',
        message: `Invalid value: "${container?.name}": a lowercase RFC 1123 label`,
      });
    }
  }
  return causes;
}

function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: string | undefined,
): boolean {
  if (!selector) return true;
  return selector.split(',').every(term => {
    const [key, value] = term.split('=');
    return value === undefined
      ? labels?.[key] !== undefined
      : labels?.[key] === value;
  });
}

export function createFakeJobs(nextResourceVersion: () => string) {
  const jobs = new Map<string, any>();
  const pods = new Map<string, any>();
  const logs = new Map<string, string>();
  const secrets = new Map<string, any>();
  const timers = new Set<NodeJS.Timeout>();
  let rule: JobRule = () => ({ exitCode: 0 });
  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
  const copy = <T>(value: T): T => structuredClone(value);

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  /** The Job controller's end of a Job: pod terminated, Job condition set. */
  function finish(
    key: string,
    podKey: string,
    exitCode: number,
    condition: {
      type: 'Complete' | 'Failed';
      reason?: string;
      message?: string;
    },
  ) {
    const job = jobs.get(key);
    const pod = pods.get(podKey);
    if (!job || !pod || job.status.completionTime || job.status.failed) return;
    const now = new Date().toISOString();
    pod.status = {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [
        {
          name: pod.spec.containers[0].name,
          ready: false,
          restartCount: 0,
          image: pod.spec.containers[0].image,
          imageID: '',
          state: {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? 'Completed' : 'Error',
              finishedAt: now,
            },
          },
        },
      ],
    };
    pod.metadata.resourceVersion = nextResourceVersion();
    job.status = {
      ...job.status,
      active: 0,
      ...(condition.type === 'Complete'
        ? { succeeded: 1, completionTime: now }
        : { failed: 1 }),
      conditions: [
        {
          type: condition.type,
          status: 'True',
          lastProbeTime: now,
          lastTransitionTime: now,
          ...(condition.reason ? { reason: condition.reason } : {}),
          ...(condition.message ? { message: condition.message } : {}),
        },
      ],
    };
    job.metadata.resourceVersion = nextResourceVersion();
  }

  function start(job: any) {
    const { namespace, name } = job.metadata;
    const key = keyOf(namespace, name);
    const podName = `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const podKey = keyOf(namespace, podName);
    const template = job.spec.template;
    pods.set(podKey, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        uid: randomUUID(),
        resourceVersion: nextResourceVersion(),
        creationTimestamp: new Date().toISOString(),
        labels: {
          ...(template.metadata?.labels ?? {}),
          'batch.kubernetes.io/job-name': name,
          'job-name': name,
          'batch.kubernetes.io/controller-uid': job.metadata.uid,
        },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name,
            uid: job.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: copy(template.spec),
      status: { phase: 'Running' },
    });
    job.status = { active: 1, startTime: new Date().toISOString() };
    const outcome = rule(copy(job));
    logs.set(podKey, outcome.log ?? '');
    if (!('hang' in outcome)) {
      later(outcome.afterMs ?? 0, () =>
        finish(
          key,
          podKey,
          outcome.exitCode,
          outcome.exitCode === 0
            ? { type: 'Complete' }
            : {
                type: 'Failed',
                reason: 'BackoffLimitExceeded',
                message: 'Job has reached the specified backoff limit',
              },
        ),
      );
    }
    const deadline = job.spec.activeDeadlineSeconds;
    if (deadline !== undefined) {
      later(deadline * 1000, () =>
        finish(key, podKey, 137, {
          type: 'Failed',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        }),
      );
    }
  }

  function route(
    method: string,
    pathname: string,
    query: Record<string, string>,
    body: unknown,
    fail: Fail,
  ): RouteAnswer | undefined {
    const jobMatch = JOBS.exec(pathname);
    if (jobMatch) {
      const namespace = jobMatch[1] && decodeURIComponent(jobMatch[1]);
      const name = jobMatch[2] && decodeURIComponent(jobMatch[2]);
      if (!name) {
        if (method === 'GET') {
          return {
            status: 200,
            payload: {
              apiVersion: 'batch/v1',
              kind: 'JobList',
              metadata: { resourceVersion: nextResourceVersion() },
              items: [...jobs.values()]
                .filter(j => !namespace || j.metadata.namespace === namespace)
                .filter(j =>
                  matchesSelector(j.metadata.labels, query.labelSelector),
                )
                .map(copy),
            },
          };
        }
        if (method === 'POST' && namespace) {
          const job = copy(body) as any;
          if (job?.apiVersion !== 'batch/v1' || job?.kind !== 'Job') {
            return fail(
              400,
              'BadRequest',
              `the API version and kind in the data (${job?.apiVersion}, ${job?.kind}) do not match the expected API version and kind (batch/v1, Job)`,
            );
          }
          if (job.metadata && job.metadata.namespace === undefined) {
            job.metadata.namespace = namespace;
          }
          if (job.metadata?.namespace !== namespace) {
            return fail(
              400,
              'BadRequest',
              'the namespace of the provided object does not match the namespace sent on the request',
            );
          }
          const causes = validateJob(job);
          if (causes.length > 0) {
            return fail(
              422,
              'Invalid',
              `Job.batch "${job.metadata?.name}" is invalid: ${causes
                .map(c => `${c.field}: ${c.message}`)
                .join(', ')}`,
              { name: job.metadata?.name, group: 'batch', kind: 'Job', causes },
            );
          }
          const key = keyOf(namespace, job.metadata.name);
          if (jobs.has(key)) {
            return fail(
              409,
              'AlreadyExists',
              `jobs.batch "${job.metadata.name}" already exists`,
            );
          }
          job.metadata.uid = randomUUID();
          job.metadata.resourceVersion = nextResourceVersion();
          job.metadata.generation = 1;
          job.metadata.creationTimestamp = new Date().toISOString();
          job.spec.backoffLimit ??= 6;
          job.spec.completions ??= 1;
          job.spec.parallelism ??= 1;
          jobs.set(key, job);
          start(job);
          return { status: 201, payload: copy(job) };
        }
        return fail(405, 'MethodNotAllowed', `${method} is not supported`);
      }
      const key = keyOf(namespace ?? '', name);
      const job = jobs.get(key);
      if (!job) {
        return fail(404, 'NotFound', `jobs.batch "${name}" not found`);
      }
      if (method === 'GET') return { status: 200, payload: copy(job) };
      if (method === 'DELETE') {
        jobs.delete(key);
        const propagation =
          query.propagationPolicy ?? (body as any)?.propagationPolicy;
        // Orphan (the default for batch/v1 through the API) leaves the pods.
        if (propagation === 'Background' || propagation === 'Foreground') {
          // The garbage collector: dependents of the Job (its env Secret).
          for (const [secretKey, secret] of secrets) {
            if (
              (secret.metadata.ownerReferences ?? []).some(
                (o: any) => o.uid === job.metadata.uid,
              )
            ) {
              secrets.delete(secretKey);
            }
          }
          for (const [podKey, pod] of pods) {
            if (pod.metadata.labels['batch.kubernetes.io/job-name'] === name) {
              pods.delete(podKey);
              logs.delete(podKey);
            }
          }
        }
        return {
          status: 200,
          payload: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: {
              name,
              group: 'batch',
              kind: 'jobs',
              uid: job.metadata.uid,
            },
          },
        };
      }
      return fail(405, 'MethodNotAllowed', `${method} is not supported`);
    }

    const secretMatch = SECRETS.exec(pathname);
    if (secretMatch) {
      const namespace = decodeURIComponent(secretMatch[1]);
      const name = secretMatch[2] && decodeURIComponent(secretMatch[2]);
      if (!name && method === 'POST') {
        const secret = copy(body) as any;
        if (secret?.metadata && secret.metadata.namespace === undefined) {
          secret.metadata.namespace = namespace;
        }
        const causes = validateObjectMeta(secret?.metadata);
        try {
          new Secret(secret).validate();
        } catch (error) {
          causes.push({
            reason: 'FieldValueInvalid',
            field: '',
            message: String((error as Error).message),
          });
        }
        if (causes.length > 0) {
          return fail(
            422,
            'Invalid',
            `Secret "${secret?.metadata?.name}" is invalid: ${causes
              .map(c => `${c.field}: ${c.message}`)
              .join(', ')}`,
            { name: secret?.metadata?.name, kind: 'Secret', causes },
          );
        }
        const key = keyOf(namespace, secret.metadata.name);
        if (secrets.has(key)) {
          return fail(
            409,
            'AlreadyExists',
            `secrets "${secret.metadata.name}" already exists`,
          );
        }
        secret.metadata.uid = randomUUID();
        secret.metadata.resourceVersion = nextResourceVersion();
        // The API server turns stringData into base64 data.
        secret.data = {
          ...(secret.data ?? {}),
          ...Object.fromEntries(
            Object.entries(secret.stringData ?? {}).map(([k, v]) => [
              k,
              Buffer.from(String(v)).toString('base64'),
            ]),
          ),
        };
        delete secret.stringData;
        secrets.set(key, secret);
        return { status: 201, payload: copy(secret) };
      }
      if (name) {
        const key = keyOf(namespace, name);
        const secret = secrets.get(key);
        if (!secret)
          return fail(404, 'NotFound', `secrets "${name}" not found`);
        if (method === 'GET') return { status: 200, payload: copy(secret) };
        if (method === 'DELETE') {
          secrets.delete(key);
          return {
            status: 200,
            payload: { kind: 'Status', apiVersion: 'v1', status: 'Success' },
          };
        }
      }
      return fail(405, 'MethodNotAllowed', `${method} is not supported`);
    }

    const podMatch = PODS.exec(pathname);
    if (podMatch) {
      const namespace = podMatch[1] && decodeURIComponent(podMatch[1]);
      const name = podMatch[2] && decodeURIComponent(podMatch[2]);
      if (method !== 'GET') {
        return fail(405, 'MethodNotAllowed', `${method} is not supported`);
      }
      if (!name) {
        return {
          status: 200,
          payload: {
            apiVersion: 'v1',
            kind: 'PodList',
            metadata: { resourceVersion: nextResourceVersion() },
            items: [...pods.values()]
              .filter(p => !namespace || p.metadata.namespace === namespace)
              .filter(p =>
                matchesSelector(p.metadata.labels, query.labelSelector),
              )
              .map(copy),
          },
        };
      }
      const key = keyOf(namespace ?? '', name);
      const pod = pods.get(key);
      if (!pod) return fail(404, 'NotFound', `pods "${name}" not found`);
      if (!podMatch[3]) return { status: 200, payload: copy(pod) };
      const container = query.container ?? pod.spec.containers[0].name;
      if (!pod.spec.containers.some((c: any) => c.name === container)) {
        return fail(
          400,
          'BadRequest',
          `container ${container} is not valid for pod ${name}`,
        );
      }
      return { status: 200, payload: logs.get(key) ?? '', text: true };
    }
    return undefined;
  }

  const api: FakeJobsApi = {
    jobs: namespace =>
      [...jobs.values()]
        .filter(j => !namespace || j.metadata.namespace === namespace)
        .map(copy),
    pods: namespace =>
      [...pods.values()]
        .filter(p => !namespace || p.metadata.namespace === namespace)
        .map(copy),
    secrets: namespace =>
      [...secrets.values()]
        .filter(x => !namespace || x.metadata.namespace === namespace)
        .map(copy),
    setJobRule(next) {
      rule = next;
    },
  };
  return {
    api,
    route,
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
