/**
 * The KServe `InferenceService` as the target writes and reads it: the
 * resource's coordinates, the fields we use, and how a deployment's object
 * is named and labelled.
 */
import { createHash } from 'node:crypto';

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
