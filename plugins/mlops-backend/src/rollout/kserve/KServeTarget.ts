/**
 * The KServe target: each deployment (a model in an environment) is one
 * `InferenceService` in a configured namespace. The stable version runs as
 * KServe's last rolled-out revision, a candidate as the newest revision with
 * `canaryTrafficPercent` of the traffic, and KServe's request logger sends
 * every request and response to our logger route.
 */
import { STATUS_CODES } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { Config } from '@backstage/config';
import { ConflictError, CustomErrorBase, InputError } from '@backstage/errors';
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type {
  DeploymentTargetStatus,
  RolloutStrategy,
} from '@loopline/mlops-common';
import type {
  DeploymentTarget,
  DesiredDeployment,
  TargetVersion,
} from '../types';
import { kubeConfigFor, readKServeConfig } from './config';
import {
  INFERENCE_SERVICE,
  InferenceServiceObject,
  InferenceServicePredictor,
  LOOPLINE_ANNOTATIONS,
  LOOPLINE_LABELS,
  MANAGED_BY,
  inferenceServiceName,
  labelValue,
} from './inferenceService';
import { kubernetesClient } from './kubernetesClient';

/** The manager named in the API server's managedFields. */
const FIELD_MANAGER = 'loopline';

/**
 * The Kubernetes API server refused a request or could not be reached. The
 * message names the object and carries the server's own message; a 422
 * Invalid also lists the fields it rejected.
 */
/** The conditions that must all be True for an InferenceService to count as ready. */
const READY_CONDITIONS = ['IngressReady', 'PredictorReady', 'Ready'];

export class KubernetesApiError extends CustomErrorBase {
  name = 'KubernetesApiError' as const;

  constructor(
    message: string,
    /** The HTTP status, absent when the server was not reached. */
    readonly statusCode?: number,
    /** The Status `reason`, e.g. `Invalid`, `Conflict`, `Forbidden`. */
    readonly reason?: string,
    /** The fields a 422 Invalid named (`details.causes[].field`). */
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

export interface KServeTargetOptions {
  /** Where the API server is and how to authenticate (see `kubeConfigFor`). */
  kubeConfig: KubeConfig;
  /** The namespace every InferenceService is written to. */
  namespace: string;
  /** Our KServe logger route as the cluster reaches it. */
  loggerUrl: string;
  /** The logger route's shared secret, added to the URL as `?token=`. */
  loggerToken?: string;
  /** For `observedAt`; tests pin it. */
  clock?: () => number;
}

/**
 * Writes one `serving.kserve.io/v1beta1` InferenceService per deployment
 * and reads its status back. Runs canary and blue-green rollouts (KServe
 * has no shadow or A/B routing):
 * - stable only: `storageUri` of stable, no `canaryTrafficPercent` (100%);
 * - with a candidate: `storageUri` of the candidate and
 *   `canaryTrafficPercent` = the candidate's share; KServe keeps the rest on
 *   its last revision rolled out at 100%, the stable one (a first
 *   deployment has none, so its candidate simply gets all traffic);
 * - promotion: the field is removed, so the candidate's revision gets 100%;
 * - rollback: as KServe documents it, `canaryTrafficPercent: 0` with the
 *   candidate pinned, so stable's revision, still running, takes all
 *   traffic at once and the failing candidate never gets more. When stable's
 *   revision is not in the split (the candidate had reached 100%), stable's
 *   `storageUri` is written instead;
 * - nothing to run (a first deployment rolled back): the object is deleted.
 * Applying is idempotent (an unchanged state is not written again), keeps
 * fields others set (e.g. KServe's defaults), refuses objects it does not
 * manage, and retries once after a resourceVersion conflict.
 */
export class KServeTarget implements DeploymentTarget {
  readonly kind = 'kserve' as const;
  readonly strategies: RolloutStrategy[] = ['canary', 'blue-green'];

  private readonly api: CustomObjectsApi;
  private readonly namespace: string;
  private readonly server: string;
  private readonly loggerUrl: string;
  private readonly loggerToken?: string;
  private readonly clock: () => number;

  /** A target from `mlops.rollout.kserve`; undefined when that section is absent. */
  static fromConfig(
    config: Config,
    options?: { clock?: () => number },
  ): KServeTarget | undefined {
    const kserve = readKServeConfig(config);
    if (!kserve) {
      return undefined;
    }
    return new KServeTarget({
      kubeConfig: kubeConfigFor(kserve),
      namespace: kserve.namespace,
      loggerUrl: kserve.loggerUrl,
      ...(kserve.loggerToken ? { loggerToken: kserve.loggerToken } : {}),
      ...(options?.clock ? { clock: options.clock } : {}),
    });
  }

  constructor(options: KServeTargetOptions) {
    this.api = options.kubeConfig.makeApiClient(
      kubernetesClient().CustomObjectsApi,
    );
    this.namespace = options.namespace;
    this.server =
      options.kubeConfig.getCurrentCluster()?.server ?? 'the API server';
    this.loggerUrl = options.loggerUrl;
    this.loggerToken = options.loggerToken;
    this.clock = options.clock ?? Date.now;
  }

  /** The InferenceService name of a model's deployment to an environment. */
  nameOf(modelName: string, environment: string): string {
    return inferenceServiceName(modelName, environment, this.namespace);
  }

  async apply(desired: DesiredDeployment): Promise<DeploymentTargetStatus> {
    if (desired.strategy && !this.strategies.includes(desired.strategy)) {
      throw new InputError(
        `The kserve target cannot run a ${
          desired.strategy
        } rollout; it runs ${this.strategies.join(' and ')}`,
      );
    }
    const name = this.nameOf(desired.modelName, desired.environment);
    const resource = this.resource(name);

    for (let attempt = 1; ; attempt++) {
      const existing = await this.read(name);
      if (existing) {
        this.requireManaged(existing);
      }
      const next = this.objectFor(desired, name, existing);
      try {
        if (!next) {
          if (existing) {
            await this.remove(name);
          }
          return {
            ready: false,
            message: `No version is deployed; InferenceService ${resource} ${
              existing ? 'was deleted' : 'does not exist'
            }`,
            resource,
            observedAt: this.now(),
          };
        }
        let written: InferenceServiceObject;
        if (!existing) {
          written = await this.call('create', name, () =>
            this.api.createNamespacedCustomObject({
              ...this.collection(),
              body: next,
              fieldManager: FIELD_MANAGER,
              fieldValidation: 'Strict',
            }),
          );
        } else if (sameManagedState(existing, next)) {
          written = existing;
        } else {
          written = await this.call('replace', name, () =>
            this.api.replaceNamespacedCustomObject({
              ...this.collection(),
              name,
              body: next,
              fieldManager: FIELD_MANAGER,
              fieldValidation: 'Strict',
            }),
          );
        }
        return this.statusOf(written);
      } catch (error) {
        // A 409: someone wrote the object between our read and our write
        // (stale resourceVersion, or created it meanwhile). Read it again, once.
        if (isConflict(error)) {
          if (attempt === 1) continue;
          throw new KubernetesApiError(
            `${error.message} (still conflicting after a re-read and retry)`,
            error.statusCode,
            error.reason,
            error.fields,
          );
        }
        throw error;
      }
    }
  }

  async status(
    modelName: string,
    environment: string,
  ): Promise<DeploymentTargetStatus | undefined> {
    const existing = await this.read(this.nameOf(modelName, environment));
    return existing ? this.statusOf(existing) : undefined;
  }

  /** What should be written, from what is wanted and what is there; undefined: nothing to run. */
  private objectFor(
    desired: DesiredDeployment,
    name: string,
    existing: InferenceServiceObject | undefined,
  ): InferenceServiceObject | undefined {
    const { stable, candidate, candidatePercent } = desired;
    if (!stable && !candidate) {
      return undefined;
    }
    if (
      !Number.isInteger(candidatePercent) ||
      candidatePercent < 0 ||
      candidatePercent > 100
    ) {
      throw new InputError(
        `Invalid candidatePercent ${candidatePercent} for ${desired.modelName} in ${desired.environment}: it must be an integer from 0 to 100`,
      );
    }

    let storageUri: string;
    /** The registry version the newest revision serves. */
    let served: string;
    let canaryTrafficPercent: number | undefined;
    let rolledBackVersion: string | undefined;
    if (candidate) {
      storageUri = candidate.storageUri;
      served = String(candidate.version);
      canaryTrafficPercent = stable ? candidatePercent : undefined;
    } else {
      const pinned = pinnedRollback(existing, stable!);
      if (pinned) {
        storageUri = pinned.storageUri;
        served = pinned.version;
        canaryTrafficPercent = 0;
        rolledBackVersion = pinned.version;
      } else {
        storageUri = stable!.storageUri;
        served = String(stable!.version);
      }
    }

    const labels: Record<string, string> = {
      ...existing?.metadata.labels,
      [LOOPLINE_LABELS.managedBy]: MANAGED_BY,
      [LOOPLINE_LABELS.model]: labelValue(desired.modelName),
      [LOOPLINE_LABELS.environment]: labelValue(desired.environment),
    };
    const annotations: Record<string, string> = {
      ...existing?.metadata.annotations,
      [LOOPLINE_ANNOTATIONS.entityRef]: desired.entityRef,
      [LOOPLINE_ANNOTATIONS.modelName]: desired.modelName,
      [LOOPLINE_ANNOTATIONS.environment]: desired.environment,
    };
    setOrDelete(
      annotations,
      LOOPLINE_ANNOTATIONS.stableVersion,
      versionText(stable),
    );
    setOrDelete(
      annotations,
      LOOPLINE_ANNOTATIONS.candidateVersion,
      versionText(candidate),
    );
    setOrDelete(
      annotations,
      LOOPLINE_ANNOTATIONS.rolledBackVersion,
      rolledBackVersion,
    );

    const previous = existing?.spec.predictor;
    const predictor: InferenceServicePredictor = {
      ...previous,
      model: {
        ...previous?.model,
        modelFormat: { name: 'onnx' },
        storageUri,
      },
      logger: {
        mode: 'all',
        url: this.loggerUrlFor(desired.modelName, served),
      },
    };
    if (canaryTrafficPercent === undefined) {
      delete predictor.canaryTrafficPercent;
    } else {
      predictor.canaryTrafficPercent = canaryTrafficPercent;
    }

    if (existing) {
      // A replace: everything else as it is, resourceVersion included, so a
      // concurrent change is refused (409) instead of overwritten.
      const { status: _status, ...rest } = existing;
      return {
        ...rest,
        metadata: { ...existing.metadata, labels, annotations },
        spec: { ...existing.spec, predictor },
      };
    }
    return {
      apiVersion: INFERENCE_SERVICE.apiVersion,
      kind: INFERENCE_SERVICE.kind,
      metadata: { name, namespace: this.namespace, labels, annotations },
      spec: { predictor },
    };
  }

  /**
   * KServe's request logger posts to this URL: our route, its token, the
   * registry model name (the events only name the InferenceService) and the
   * version the revision serves. The URL is part of the revision, so each
   * revision reports its own version: KServe builds a canary's two revisions
   * from one template, so the events' `ce-endpoint` cannot tell them apart.
   */
  private loggerUrlFor(modelName: string, version: string): string {
    const url = new URL(this.loggerUrl);
    if (this.loggerToken && !url.searchParams.has('token')) {
      url.searchParams.set('token', this.loggerToken);
    }
    url.searchParams.set('model', modelName);
    url.searchParams.set('version', version);
    return url.toString();
  }

  /** Maps the object's conditions and traffic. */
  private statusOf(object: InferenceServiceObject): DeploymentTargetStatus {
    const resource = this.resource(object.metadata.name);
    const status = object.status;
    const traffic = status?.components?.predictor?.traffic?.map(entry => ({
      name: entry.revisionName ?? entry.tag ?? 'latest',
      percent: entry.percent ?? 0,
      ...(entry.latestRevision !== undefined
        ? { latest: entry.latestRevision }
        : {}),
    }));
    const base = {
      resource,
      ...(traffic ? { traffic } : {}),
      observedAt: this.now(),
    };

    const generation = object.metadata.generation;
    const observed = status?.observedGeneration;
    if (generation !== undefined && (observed ?? 0) < generation) {
      return {
        ready: false,
        message: `KServe has not reconciled generation ${generation} of InferenceService ${resource} yet${
          observed !== undefined ? ` (it last saw ${observed})` : ''
        }`,
        ...base,
      };
    }
    const conditions = status?.conditions ?? [];
    const ready = conditions.find(condition => condition.type === 'Ready');
    const allTrue = READY_CONDITIONS.every(
      type => conditions.find(c => c.type === type)?.status === 'True',
    );
    if (allTrue) {
      // Ready, and routing what was asked: the latest revision takes the
      // canary's share, or everything without one.
      const asked = object.spec?.predictor?.canaryTrafficPercent ?? 100;
      const latest = status?.components?.predictor?.traffic?.find(
        entry => entry.latestRevision,
      );
      if (latest && (latest.percent ?? 0) !== asked) {
        return {
          ready: false,
          message: `InferenceService ${resource} routes ${
            latest.percent ?? 0
          }% to its latest revision; ${asked}% was asked`,
          ...base,
        };
      }
      return { ready: true, ...base };
    }
    const failing =
      ready?.message !== undefined
        ? ready
        : conditions.find(c => c.status === 'False' && c.message) ?? ready;
    const failure = status?.modelStatus?.lastFailureInfo?.message;
    const parts = [
      failing
        ? `${failing.type}=${failing.status}${
            failing.reason ? ` (${failing.reason})` : ''
          }${failing.message ? `: ${failing.message}` : ''}`
        : 'no Ready condition yet',
      ...(failure && !failing?.message?.includes(failure)
        ? [`model: ${failure}`]
        : []),
    ];
    return {
      ready: false,
      message: `InferenceService ${resource} is not ready: ${parts.join('; ')}`,
      ...base,
    };
  }

  private async read(
    name: string,
  ): Promise<InferenceServiceObject | undefined> {
    try {
      return await this.call('read', name, () =>
        this.api.getNamespacedCustomObject({ ...this.collection(), name }),
      );
    } catch (error) {
      if (error instanceof KubernetesApiError && error.statusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.call('delete', name, () =>
        this.api.deleteNamespacedCustomObject({ ...this.collection(), name }),
      );
    } catch (error) {
      // Deleted by someone else meanwhile: what we wanted.
      if (!(error instanceof KubernetesApiError && error.statusCode === 404)) {
        throw error;
      }
    }
  }

  /** Refuses to take over an object someone else created under our name. */
  private requireManaged(existing: InferenceServiceObject): void {
    const manager = existing.metadata.labels?.[LOOPLINE_LABELS.managedBy];
    if (manager !== MANAGED_BY) {
      throw new ConflictError(
        `InferenceService ${this.resource(
          existing.metadata.name,
        )} exists and is not managed by Loopline (label ${
          LOOPLINE_LABELS.managedBy
        } is ${manager === undefined ? 'missing' : `"${manager}"`}); ` +
          'delete or rename it, or label it to hand it over',
      );
    }
  }

  /** Runs one API call; its failure becomes a KubernetesApiError naming the object. */
  private async call<T>(
    action: 'read' | 'create' | 'replace' | 'delete',
    name: string,
    request: () => Promise<T>,
  ): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toApiError(error, action, this.resource(name), this.server);
    }
  }

  private collection() {
    return {
      group: INFERENCE_SERVICE.group,
      version: INFERENCE_SERVICE.version,
      namespace: this.namespace,
      plural: INFERENCE_SERVICE.plural,
    };
  }

  private resource(name: string): string {
    return `${this.namespace}/${name}`;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }
}

/**
 * The rolled-back candidate to keep pinned at 0%, when `existing` shows a
 * rollout of another version over `stable` whose stable revision still takes
 * part in the split (so KServe sends it everything at 0%), or an earlier
 * rollback already pinned it.
 */
function pinnedRollback(
  existing: InferenceServiceObject | undefined,
  stable: TargetVersion,
): { storageUri: string; version: string } | undefined {
  const annotations = existing?.metadata.annotations ?? {};
  const predictor = existing?.spec.predictor;
  const storageUri = predictor?.model?.storageUri;
  const percent = predictor?.canaryTrafficPercent;
  if (
    annotations[LOOPLINE_ANNOTATIONS.stableVersion] !==
      String(stable.version) ||
    !storageUri ||
    percent === undefined
  ) {
    return undefined;
  }
  const pinned = annotations[LOOPLINE_ANNOTATIONS.rolledBackVersion];
  if (pinned !== undefined && percent === 0) {
    return { storageUri, version: pinned };
  }
  const candidate = annotations[LOOPLINE_ANNOTATIONS.candidateVersion];
  if (
    candidate === undefined ||
    candidate === String(stable.version) ||
    percent >= 100
  ) {
    // At 100% KServe made the candidate its rolled-out revision: 0% would
    // send everything back to the candidate.
    return undefined;
  }
  const traffic = existing?.status?.components?.predictor?.traffic ?? [];
  const previousInSplit = traffic.some(
    entry => entry.latestRevision === false && entry.revisionName,
  );
  return previousInSplit ? { storageUri, version: candidate } : undefined;
}

/** True when the fields we manage already hold what we would write. */
function sameManagedState(
  existing: InferenceServiceObject,
  next: InferenceServiceObject,
): boolean {
  return (
    isDeepStrictEqual(existing.metadata.labels ?? {}, next.metadata.labels) &&
    isDeepStrictEqual(
      existing.metadata.annotations ?? {},
      next.metadata.annotations,
    ) &&
    isDeepStrictEqual(existing.spec, next.spec)
  );
}

function versionText(version: TargetVersion | undefined): string | undefined {
  return version ? String(version.version) : undefined;
}

function setOrDelete(
  record: Record<string, string>,
  key: string,
  value: string | undefined,
): void {
  if (value === undefined) {
    delete record[key];
  } else {
    record[key] = value;
  }
}

function isConflict(error: unknown): error is KubernetesApiError {
  return error instanceof KubernetesApiError && error.statusCode === 409;
}

/** A Kubernetes `Status` body, as the API server sends with every error. */
interface KubernetesStatus {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ field?: string; message?: string }> };
}

/**
 * The client throws an ApiException (`code`, `body` as text) for an HTTP
 * error and a TypeError (`fetch failed`, with a `cause`) when the server
 * cannot be reached.
 */
function toApiError(
  error: unknown,
  action: string,
  resource: string,
  server: string,
): KubernetesApiError {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'number') {
    const body = (error as { body?: unknown }).body;
    const status = parseStatus(body);
    const reason = status?.reason ?? STATUS_CODES[code];
    const fields = (status?.details?.causes ?? [])
      .map(cause => cause.field)
      .filter((field): field is string => Boolean(field));
    const serverMessage =
      status?.message ??
      (typeof body === 'string' && body.trim()
        ? body.trim().slice(0, 500)
        : undefined);
    return new KubernetesApiError(
      `Kubernetes API refused to ${action} InferenceService ${resource}: HTTP ${code}${
        reason ? ` ${reason}` : ''
      }${serverMessage ? `: ${serverMessage}` : ''}${
        fields.length > 0 ? ` (fields: ${fields.join(', ')})` : ''
      }`,
      code,
      status?.reason ?? reason,
      fields,
    );
  }
  const cause = (error as { cause?: { message?: string } })?.cause?.message;
  const message = (error as Error)?.message ?? String(error);
  return new KubernetesApiError(
    `Could not ${action} InferenceService ${resource}: the Kubernetes API at ${server} failed: ${message}${
      cause ? ` (${cause})` : ''
    }`,
  );
}

function parseStatus(body: unknown): KubernetesStatus | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return parsed && typeof parsed === 'object'
    ? (parsed as KubernetesStatus)
    : undefined;
}
