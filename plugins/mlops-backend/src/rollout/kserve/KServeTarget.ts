/**
 * The KServe target: each deployment (a model in an environment) is one
 * `InferenceService` in a configured namespace. The stable version runs as
 * KServe's last rolled-out revision, a candidate as the newest revision with
 * `canaryTrafficPercent` of the traffic, and KServe's request logger sends
 * every request and response to our logger route.
 */
import { Config } from '@backstage/config';
import { ConflictError, InputError } from '@backstage/errors';
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type {
  DeploymentTargetStatus,
  RolloutStrategy,
} from '@loopline/mlops-common';
import type { DeploymentTarget, DesiredDeployment } from '../types';
import { kubeConfigFor, readKServeConfig } from './config';
import {
  INFERENCE_SERVICE,
  InferenceServiceObject,
  inferenceServiceManifest,
  inferenceServiceName,
  LOOPLINE_LABELS,
  MANAGED_BY,
  sameManagedState,
} from './inferenceService';
import {
  isConflict,
  KubernetesApiError,
  kubernetesClient,
  toApiError,
} from './kubernetesClient';

export { KubernetesApiError } from './kubernetesClient';

/** The manager named in the API server's managedFields. */
const FIELD_MANAGER = 'loopline';

/** The conditions that must all be True for an InferenceService to count as ready. */
const READY_CONDITIONS = ['IngressReady', 'PredictorReady', 'Ready'];

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
      const next = inferenceServiceManifest(desired, {
        name,
        namespace: this.namespace,
        existing,
        loggerUrl: this.loggerUrl,
        loggerToken: this.loggerToken,
      });
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
