/**
 * The KServe `InferenceService` as the target writes and reads it: the
 * resource's coordinates, the fields we use, and how a deployment's object
 * is named and labelled.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { InputError } from '@backstage/errors';
import type { DesiredDeployment, TargetVersion } from '../types';

export const INFERENCE_SERVICE = {
  group: 'serving.kserve.io',
  version: 'v1beta1',
  plural: 'inferenceservices',
  kind: 'InferenceService',
  apiVersion: 'serving.kserve.io/v1beta1',
} as const;

export const LOOPLINE_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  model: 'loopline.dev/model',
  environment: 'loopline.dev/environment',
} as const;

/** The value of `app.kubernetes.io/managed-by` on every object we own. */
export const MANAGED_BY = 'loopline';

export const LOOPLINE_ANNOTATIONS = {
  entityRef: 'loopline.dev/entity-ref',
  /** The exact names; the labels may have been shortened to fit. */
  modelName: 'loopline.dev/model-name',
  environment: 'loopline.dev/environment',
  stableVersion: 'loopline.dev/stable-version',
  candidateVersion: 'loopline.dev/candidate-version',
  /** Set while a rolled-back candidate stays pinned at 0% (KServe's rollback). */
  rolledBackVersion: 'loopline.dev/rolled-back-version',
} as const;

export interface KubernetesCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  severity?: string;
  lastTransitionTime?: string;
}

/** One entry of `status.components.predictor.traffic` (Knative's TrafficTarget). */
export interface RevisionTraffic {
  tag?: string;
  revisionName?: string;
  configurationName?: string;
  latestRevision?: boolean;
  percent?: number;
  url?: string;
}

export interface InferenceServicePredictor {
  canaryTrafficPercent?: number;
  model?: {
    modelFormat?: { name: string; version?: string };
    storageUri?: string;
    [field: string]: unknown;
  };
  logger?: { mode?: string; url?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface InferenceServiceStatus {
  observedGeneration?: number;
  conditions?: KubernetesCondition[];
  url?: string;
  components?: Record<
    string,
    {
      latestCreatedRevision?: string;
      latestReadyRevision?: string;
      latestRolledoutRevision?: string;
      previousRolledoutRevision?: string;
      traffic?: RevisionTraffic[];
      url?: string;
      [field: string]: unknown;
    }
  >;
  modelStatus?: {
    transitionStatus?: string;
    lastFailureInfo?: {
      reason?: string;
      message?: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface InferenceServiceObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    creationTimestamp?: string;
    [field: string]: unknown;
  };
  spec: { predictor: InferenceServicePredictor; [field: string]: unknown };
  status?: InferenceServiceStatus;
}

/**
 * KServe derives host names as `<name>-predictor-<namespace>` (raw
 * deployment mode) and revision names as `<name>-predictor-00001`; each must
 * fit a 63-character DNS label, so the name is kept well below 63.
 */
const MAX_NAME_LENGTH = 45;
const MIN_NAME_LENGTH = 20;
const HASH_LENGTH = 8;

/**
 * The InferenceService name of a model's deployment to an environment:
 * readable (`wine-quality-production-…`), a valid KServe name (lower-case
 * letters, digits and dashes, starting with a letter), short enough for the
 * names KServe derives from it in `namespace`, and collision-resistant: a
 * hash of the exact model and environment names ends it, so names that slug
 * or truncate alike (`wine_quality` and `wine-quality`) still differ.
 */
export function inferenceServiceName(
  modelName: string,
  environment: string,
  namespace?: string,
): string {
  const maxLength = Math.max(
    MIN_NAME_LENGTH,
    Math.min(
      MAX_NAME_LENGTH,
      63 - '-predictor-'.length - (namespace?.length ?? 0),
    ),
  );
  const hash = shortHash(`${modelName}\u0000${environment}`);
  const budget = maxLength - HASH_LENGTH - 1;
  const model = slug(modelName);
  const env = slug(environment);
  let readable: string;
  if (model.length + env.length + 1 <= budget) {
    readable = [model, env].filter(Boolean).join('-');
  } else {
    // The model keeps at least half; the environment gets what is left.
    const modelLength = Math.max(
      budget - 1 - env.length,
      Math.ceil(budget / 2),
    );
    const envLength = Math.max(0, budget - 1 - modelLength);
    readable = [
      trimDashes(model.slice(0, modelLength)),
      trimDashes(env.slice(0, envLength)),
    ]
      .filter(Boolean)
      .join('-');
  }
  if (!/^[a-z]/.test(readable)) {
    // KServe wants a leading letter (a DNS-1035 label).
    readable = trimDashes(`m-${readable}`.slice(0, budget));
  }
  return `${readable}-${hash}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * A Kubernetes label value for `text`: itself when valid (at most 63 of
 * letters, digits, `-`, `_`, `.`, alphanumeric at both ends), else a
 * sanitized prefix and a hash of the whole.
 */
export function labelValue(text: string): string {
  if (text.length <= 63 && LABEL_VALUE.test(text)) {
    return text;
  }
  const prefix = text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63 - HASH_LENGTH - 1)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  const hash = shortHash(text);
  return prefix ? `${prefix}-${hash}` : hash;
}

function slug(text: string): string {
  return trimDashes(
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-'),
  );
}

function trimDashes(text: string): string {
  return text.replace(/^-+|-+$/g, '');
}

function shortHash(text: string): string {
  return createHash('sha256')
    .update(text, 'utf8')
    .digest('hex')
    .slice(0, HASH_LENGTH);
}

/**
 * The InferenceService to write for what is wanted, given what is there
 * (whose other fields are kept); undefined: nothing to run.
 */
export function inferenceServiceManifest(
  desired: DesiredDeployment,
  context: {
    name: string;
    namespace: string;
    existing: InferenceServiceObject | undefined;
    /** Our KServe logger route as the cluster reaches it. */
    loggerUrl: string;
    /** The logger route's shared secret, added to the URL as `?token=`. */
    loggerToken?: string;
  },
): InferenceServiceObject | undefined {
  const { name, existing } = context;
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
      url: loggerUrlFor(context, desired.modelName, served),
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
    metadata: { name, namespace: context.namespace, labels, annotations },
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
function loggerUrlFor(
  logger: { loggerUrl: string; loggerToken?: string },
  modelName: string,
  version: string,
): string {
  const url = new URL(logger.loggerUrl);
  if (logger.loggerToken && !url.searchParams.has('token')) {
    url.searchParams.set('token', logger.loggerToken);
  }
  url.searchParams.set('model', modelName);
  url.searchParams.set('version', version);
  return url.toString();
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
export function sameManagedState(
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
