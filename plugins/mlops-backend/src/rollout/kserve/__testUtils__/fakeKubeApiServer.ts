/**
 * A local Kubernetes API server for one custom resource, KServe's
 * `InferenceService`, that the real @kubernetes/client-node talks to over
 * HTTP. It behaves like the API server where a client can tell (status
 * codes, `Status` bodies, resourceVersion conflicts, generation, pruning or
 * strict refusal of unknown fields, validation of every written object
 * against the real CRD schema, the status subresource) and plays KServe's
 * controller: after each write it fills `status` as KServe would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClient } from '../kubernetesClient';
import {
  INFERENCE_SERVICE,
  InferenceServiceObject,
  KubernetesCondition,
  RevisionTraffic,
} from '../inferenceService';
import { FieldCause, inferenceServiceValidator } from './crdSchema';
import { createFakeJobs, FakeJobsApi } from './fakeBatchJobs';

/** One request the server got, for assertions. */
export interface RecordedKubeRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** The JSON body (parsed), or its text when it was not JSON. */
  body?: unknown;
  /** The status code answered. */
  status: number;
}

export interface FakeKubeApiServer extends FakeJobsApi {
  /** e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  /** A client configuration for this server (with the token when one is required). */
  kubeConfig(): KubeConfig;
  /** Copies of the stored objects (of one namespace, or all), status included. */
  objects(namespace?: string): InferenceServiceObject[];
  /** Every request so far, oldest first. */
  readonly requests: RecordedKubeRequest[];
  /**
   * Makes an InferenceService's newest revision fail (`ready: false`, e.g.
   * "model failed to load") or recover. Applies to revisions created later
   * as well, so it may be called before the object is written.
   */
  setReady(
    name: string,
    ready: boolean,
    message?: string,
    namespace?: string,
  ): void;
  /**
   * Another writer changes the object just before the next write to it
   * arrives, so that write carries a stale resourceVersion (409 Conflict).
   */
  changeBeforeNextWrite(
    name: string,
    change: (object: InferenceServiceObject) => void,
    namespace?: string,
  ): void;
  close(): Promise<void>;
}

export interface FakeKubeApiServerOptions {
  /** A bearer token every request must carry; 401 otherwise. None: no authentication. */
  token?: string;
  /** The namespace helpers use when none is given. Default `kserve-test`. */
  namespace?: string;
}

const GROUP_VERSION = INFERENCE_SERVICE.apiVersion;
const RESOURCE = `${INFERENCE_SERVICE.plural}.${INFERENCE_SERVICE.group}`;
const PATH =
  /^\/apis\/serving\.kserve\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?inferenceservices(?:\/([^/]+))?\/?$/;
/** KServe's predictor implementations, of which a PredictorSpec has exactly one. */
const PREDICTOR_IMPLEMENTATIONS = [
  'model',
  'huggingface',
  'lightgbm',
  'onnx',
  'paddle',
  'pmml',
  'pytorch',
  'sklearn',
  'tensorflow',
  'triton',
  'xgboost',
];
const KSERVE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

interface Revision {
  name: string;
  /** What Knative compares to decide on a new revision. */
  template: string;
  ready: boolean;
  failure?: string;
}

interface Stored {
  object: InferenceServiceObject;
  revisions: Revision[];
  latestRolledout?: string;
  previousRolledout?: string;
}

/** A Kubernetes `Status` failure, thrown inside the handler. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export async function startFakeKubeApiServer(
  options: FakeKubeApiServerOptions = {},
): Promise<FakeKubeApiServer> {
  const validator = inferenceServiceValidator();
  const defaultNamespace = options.namespace ?? 'kserve-test';
  const store = new Map<string, Stored>();
  const readiness = new Map<string, { ready: boolean; message?: string }>();
  const pendingChanges = new Map<
    string,
    (object: InferenceServiceObject) => void
  >();
  const requests: RecordedKubeRequest[] = [];
  let resourceVersion = 1000;

  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
  const nextResourceVersion = () => String(++resourceVersion);
  const batchJobs = createFakeJobs(nextResourceVersion);
  const copy = <T>(value: T): T => structuredClone(value);

  /** KServe's controller: revisions, traffic and conditions from the spec. */
  function reconcile(stored: Stored): void {
    const { object } = stored;
    const { name, namespace } = object.metadata;
    const predictor = object.spec.predictor ?? {};
    const { canaryTrafficPercent: percent, ...template } = predictor;
    const override = readiness.get(keyOf(namespace!, name));
    // Knative makes a revision of the pod template, which carries the
    // InferenceService's labels and annotations too.
    const templateKey = canonical({
      predictor: template,
      labels: object.metadata.labels ?? {},
      annotations: object.metadata.annotations ?? {},
    });
    let latest = stored.revisions[stored.revisions.length - 1];
    if (!latest || latest.template !== templateKey) {
      latest = {
        name: `${name}-predictor-${String(stored.revisions.length + 1).padStart(
          5,
          '0',
        )}`,
        template: templateKey,
        ready: override?.ready ?? true,
        ...(override?.ready === false && override.message
          ? { failure: override.message }
          : {}),
      };
      stored.revisions.push(latest);
    } else if (override?.ready) {
      latest.ready = true;
      delete latest.failure;
    }
    const latestReady = [...stored.revisions].reverse().find(r => r.ready);
    const tagged =
      object.metadata.annotations?.['serving.kserve.io/enable-tag-routing'] ===
      'true';

    // As KServe's ksvc reconciler: the newest ready revision gets the canary
    // share and the last revision rolled out at 100% the rest; otherwise the
    // newest gets everything.
    const traffic: RevisionTraffic[] = [];
    if (latestReady) {
      const split =
        percent !== undefined && stored.latestRolledout ? percent : undefined;
      traffic.push({
        ...(tagged ? { tag: 'latest' } : {}),
        revisionName: latestReady.name,
        latestRevision: true,
        percent: split ?? 100,
      });
      if (split !== undefined && split < 100) {
        traffic.push({
          tag: 'prev',
          revisionName: stored.latestRolledout,
          latestRevision: false,
          percent: 100 - split,
        });
      }
      // As KServe's status propagation: track the revision rolled out at 100%.
      const share = (revision: string) =>
        traffic
          .filter(t => t.revisionName === revision)
          .reduce((sum, t) => sum + (t.percent ?? 0), 0);
      if (stored.latestRolledout !== latestReady.name) {
        if (traffic[0].percent === 100) {
          stored.previousRolledout = stored.latestRolledout;
          stored.latestRolledout = latestReady.name;
        }
      } else if (
        latestReady === latest &&
        (traffic[0].percent ?? 0) < 100 &&
        share(latestReady.name) === 100 &&
        stored.previousRolledout
      ) {
        stored.latestRolledout = stored.previousRolledout;
      }
    }

    const healthy = latest.ready && override?.ready !== false;
    const failure = healthy
      ? undefined
      : `Revision "${latest.name}" failed with message: ${
          latest.failure ?? override?.message ?? 'the revision is not ready'
        }.`;
    const now = new Date().toISOString();
    const condition = (type: string, ok: boolean): KubernetesCondition => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
      ...(ok ? {} : { reason: 'RevisionFailed', message: failure }),
    });
    const host = `${name}.${namespace}.example.com`;
    object.status = {
      observedGeneration: object.metadata.generation,
      url: `http://${host}`,
      address: {
        url: `http://${name}.${namespace}.svc.cluster.local`,
      },
      deploymentMode: 'Serverless',
      conditions: [
        condition('IngressReady', Boolean(latestReady)),
        condition('LatestDeploymentReady', healthy),
        condition('PredictorReady', healthy),
        condition('Ready', healthy),
        condition('RoutesReady', Boolean(latestReady)),
      ],
      components: {
        predictor: {
          latestCreatedRevision: latest.name,
          ...(latestReady ? { latestReadyRevision: latestReady.name } : {}),
          ...(stored.latestRolledout
            ? { latestRolledoutRevision: stored.latestRolledout }
            : {}),
          ...(stored.previousRolledout
            ? { previousRolledoutRevision: stored.previousRolledout }
            : {}),
          ...(traffic.length > 0 ? { traffic } : {}),
          url: `http://${name}-predictor.${namespace}.example.com`,
        },
      },
      modelStatus: healthy
        ? {
            transitionStatus: 'UpToDate',
            states: { activeModelState: 'Loaded', targetModelState: 'Loaded' },
            copies: { failedCopies: 0, totalCopies: 1 },
          }
        : {
            transitionStatus: 'BlockedByFailedLoad',
            states: {
              activeModelState: latestReady ? 'Loaded' : 'FailedToLoad',
              targetModelState: 'FailedToLoad',
            },
            copies: { failedCopies: 1, totalCopies: 1 },
            lastFailureInfo: {
              reason: 'ModelLoadFailed',
              message: latest.failure ?? override?.message ?? 'not ready',
              modelRevisionName: latest.name,
              time: now,
            },
          },
    };
    object.metadata.resourceVersion = nextResourceVersion();
    // The controller's own writes must be valid too (a check of this fake).
    const causes = validator.validate(
      object as unknown as Record<string, unknown>,
    );
    if (causes.length > 0) {
      throw new Error(
        `The fake KServe controller wrote an invalid status: ${describe(
          causes,
        )}`,
      );
    }
  }

  /** Admission as the API server runs it: decoding, validation, webhooks. */
  function admit(
    object: Record<string, any>,
    query: Record<string, string>,
    warnings: string[],
  ): void {
    const name = object.metadata?.name;
    const unknown = validator.unknownFields(
      object,
      query.fieldValidation !== 'Strict',
    );
    if (unknown.length > 0) {
      if (query.fieldValidation === 'Strict') {
        throw new StatusError(
          400,
          'BadRequest',
          `${INFERENCE_SERVICE.kind} in version "${
            INFERENCE_SERVICE.version
          }" cannot be handled as a ${
            INFERENCE_SERVICE.kind
          }: strict decoding error: ${unknown
            .map(field => `unknown field "${field}"`)
            .join(', ')}`,
        );
      }
      if (query.fieldValidation !== 'Ignore') {
        warnings.push(...unknown.map(field => `unknown field "${field}"`));
      }
    }
    const causes = validator.validate(object);
    if (causes.length > 0) {
      throw new StatusError(
        422,
        'Invalid',
        `${INFERENCE_SERVICE.kind}.${INFERENCE_SERVICE.group} "${
          name ?? ''
        }" is invalid: ${describe(causes)}`,
        {
          name,
          group: INFERENCE_SERVICE.group,
          kind: INFERENCE_SERVICE.kind,
          causes,
        },
      );
    }
    // KServe's validating webhook.
    const denied = (message: string) =>
      new StatusError(
        403,
        'Forbidden',
        `admission webhook "inferenceservice.kserve-webhook-server.validator" denied the request: ${message}`,
      );
    if (!KSERVE_NAME.test(name)) {
      throw denied(
        `The InferenceService "${name}" is invalid: a InferenceService name must consist of lower case ` +
          `alphanumeric characters or '-', and must start with alphabetical character. (e.g. "my-name" or ` +
          `"abc-123", regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      );
    }
    const predictor = object.spec?.predictor ?? {};
    const implementations = PREDICTOR_IMPLEMENTATIONS.filter(
      key => predictor[key] !== undefined && predictor[key] !== null,
    );
    const custom =
      Array.isArray(predictor.containers) && predictor.containers.length > 0;
    if (
      implementations.length > 1 ||
      (implementations.length === 0 && !custom)
    ) {
      throw denied(
        `exactly one of [${PREDICTOR_IMPLEMENTATIONS.join(
          ', ',
        )}] or containers must be specified in PredictorSpec; found ${
          implementations.join(', ') || 'none'
        }`,
      );
    }
  }

  function requireObject(body: unknown): Record<string, any> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new StatusError(
        400,
        'BadRequest',
        'the body of the request must be a JSON object',
      );
    }
    const object = body as Record<string, any>;
    if (
      object.apiVersion !== GROUP_VERSION ||
      object.kind !== INFERENCE_SERVICE.kind
    ) {
      throw new StatusError(
        400,
        'BadRequest',
        `the API version and kind in the data (${object.apiVersion}, ${object.kind}) do not match the expected ` +
          `${GROUP_VERSION}, ${INFERENCE_SERVICE.kind}`,
      );
    }
    if (!object.metadata || typeof object.metadata !== 'object') {
      object.metadata = {};
    }
    return object;
  }

  function find(namespace: string, name: string): Stored {
    const stored = store.get(keyOf(namespace, name));
    if (!stored) {
      throw new StatusError(
        404,
        'NotFound',
        `${RESOURCE} "${name}" not found`,
        {
          name,
          group: INFERENCE_SERVICE.group,
          kind: INFERENCE_SERVICE.plural,
        },
      );
    }
    return stored;
  }

  /** An update of `stored` to `object` (a replace, or a patch's result). */
  function update(
    stored: Stored,
    object: Record<string, any>,
    query: Record<string, string>,
    warnings: string[],
  ): InferenceServiceObject {
    const current = stored.object;
    const { name, namespace } = current.metadata;
    if (object.metadata.name !== undefined && object.metadata.name !== name) {
      throw new StatusError(
        400,
        'BadRequest',
        `the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (
      object.metadata.namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      throw new StatusError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const sent = object.metadata.resourceVersion;
    if (sent !== undefined && sent !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${RESOURCE} "${name}": the object has been modified; ` +
          'please apply your changes to the latest version and try again',
        {
          name,
          group: INFERENCE_SERVICE.group,
          kind: INFERENCE_SERVICE.plural,
        },
      );
    }
    // The status subresource: a write to the object leaves status alone.
    delete object.status;
    object.metadata = {
      ...object.metadata,
      name,
      namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: current.metadata.generation,
      resourceVersion: current.metadata.resourceVersion,
    };
    admit(object, query, warnings);
    const next = object as InferenceServiceObject;
    const changed =
      !isDeepStrictEqual(next.spec, current.spec) ||
      !isDeepStrictEqual(next.metadata, current.metadata);
    if (!changed) {
      // A no-op write changes nothing, not even resourceVersion.
      return copy(current);
    }
    if (!isDeepStrictEqual(next.spec, current.spec)) {
      next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    next.metadata.resourceVersion = nextResourceVersion();
    if (current.status) next.status = current.status;
    if (query.dryRun === 'All') {
      return copy(next);
    }
    stored.object = next;
    const answer = copy(next);
    reconcile(stored);
    return answer;
  }

  function create(
    namespace: string,
    body: unknown,
    query: Record<string, string>,
    warnings: string[],
  ): InferenceServiceObject {
    const object = requireObject(body);
    if (
      object.metadata.namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      throw new StatusError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (
      !object.metadata.name &&
      typeof object.metadata.generateName === 'string'
    ) {
      object.metadata.name = `${object.metadata.generateName}${randomBytes(3)
        .toString('hex')
        .slice(0, 5)}`;
    }
    const name = object.metadata.name;
    if (typeof name === 'string' && store.has(keyOf(namespace, name))) {
      throw new StatusError(
        409,
        'AlreadyExists',
        `${RESOURCE} "${name}" already exists`,
        {
          name,
          group: INFERENCE_SERVICE.group,
          kind: INFERENCE_SERVICE.plural,
        },
      );
    }
    delete object.status;
    object.metadata = {
      ...object.metadata,
      namespace,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generation: 1,
    };
    delete object.metadata.resourceVersion;
    admit(object, query, warnings);
    const created = object as InferenceServiceObject;
    created.metadata.resourceVersion = nextResourceVersion();
    if (query.dryRun === 'All') {
      return copy(created);
    }
    const stored: Stored = { object: created, revisions: [] };
    store.set(keyOf(namespace, name), stored);
    const answer = copy(created);
    reconcile(stored);
    return answer;
  }

  function patch(
    stored: Stored,
    contentType: string,
    body: unknown,
  ): Record<string, any> {
    const current = copy(stored.object) as Record<string, any>;
    switch (contentType) {
      case 'application/merge-patch+json':
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw new StatusError(
            400,
            'BadRequest',
            'a merge patch must be a JSON object',
          );
        }
        return mergePatch(current, body) as Record<string, any>;
      case 'application/json-patch+json':
        if (!Array.isArray(body)) {
          throw new StatusError(
            400,
            'BadRequest',
            'a JSON patch must be an array of operations',
          );
        }
        return jsonPatch(current, body);
      default:
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ` +
            'application/json-patch+json, application/merge-patch+json (strategic merge patches do not apply to ' +
            'custom resources; this fake does not implement server-side apply)',
        );
    }
  }

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const contentType = req.headers['content-type']
      ?.split(';')[0]
      .trim()
      .toLowerCase();
    const text = await readBody(req);
    let body: unknown;
    let bodyError: string | undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch (error) {
        body = text;
        bodyError = (error as Error).message;
      }
    }
    // What the client sent, before admission prunes or defaults it.
    const sent = structuredClone(body);
    const method = req.method ?? 'GET';
    const warnings: string[] = [];
    const answer = (status: number, payload: unknown) => {
      requests.push({
        method,
        path: url.pathname,
        query,
        ...(contentType ? { contentType } : {}),
        ...(sent !== undefined ? { body: sent } : {}),
        status,
      });
      if (warnings.length > 0) {
        res.setHeader(
          'warning',
          warnings.map(warning => `299 - ${JSON.stringify(warning)}`),
        );
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };

    try {
      if (
        options.token !== undefined &&
        req.headers.authorization !== `Bearer ${options.token}`
      ) {
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      if (bodyError === undefined) {
        const routed = batchJobs.route(
          method,
          url.pathname,
          query,
          body,
          (code, reason, message, details) => {
            throw new StatusError(code, reason, message, details);
          },
        );
        if (routed) {
          if (routed.text) {
            requests.push({ method, path: url.pathname, query, status: 200 });
            res.writeHead(routed.status, { 'content-type': 'text/plain' });
            res.end(routed.payload);
          } else {
            answer(routed.status, routed.payload);
          }
          return;
        }
      }
      const match = PATH.exec(url.pathname);
      if (!match) {
        throw new StatusError(
          404,
          'NotFound',
          'the server could not find the requested resource',
        );
      }
      if (bodyError !== undefined) {
        throw new StatusError(
          400,
          'BadRequest',
          `the body of the request is not JSON: ${bodyError}`,
        );
      }
      const namespace = match[1] && decodeURIComponent(match[1]);
      const name = match[2] && decodeURIComponent(match[2]);

      if (!name) {
        if (method === 'GET') {
          const items = [...store.values()]
            .map(stored => stored.object)
            .filter(o => !namespace || o.metadata.namespace === namespace);
          answer(200, {
            apiVersion: GROUP_VERSION,
            kind: `${INFERENCE_SERVICE.kind}List`,
            metadata: { resourceVersion: String(resourceVersion) },
            items: copy(items),
          });
          return;
        }
        if (method === 'POST' && namespace) {
          answer(201, create(namespace, body, query, warnings));
          return;
        }
        throw new StatusError(
          405,
          'MethodNotAllowed',
          `${method} is not supported on ${url.pathname}`,
        );
      }
      if (!namespace) {
        throw new StatusError(
          404,
          'NotFound',
          'the server could not find the requested resource',
        );
      }
      const key = keyOf(namespace, name);
      switch (method) {
        case 'GET':
          answer(200, copy(find(namespace, name).object));
          return;
        case 'PUT':
        case 'PATCH': {
          const stored = find(namespace, name);
          const change = pendingChanges.get(key);
          if (change) {
            // Another writer got there first.
            pendingChanges.delete(key);
            const before = copy(stored.object.spec);
            change(stored.object);
            if (!isDeepStrictEqual(before, stored.object.spec)) {
              stored.object.metadata.generation =
                (stored.object.metadata.generation ?? 1) + 1;
            }
            reconcile(stored);
          }
          const object =
            method === 'PUT'
              ? requireObject(body)
              : patch(stored, contentType ?? '', body);
          answer(200, update(stored, object, query, warnings));
          return;
        }
        case 'DELETE': {
          const stored = find(namespace, name);
          if (query.dryRun !== 'All') {
            store.delete(key);
          }
          answer(200, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: {
              name,
              group: INFERENCE_SERVICE.group,
              kind: INFERENCE_SERVICE.plural,
              uid: stored.object.metadata.uid,
            },
          });
          return;
        }
        default:
          throw new StatusError(
            405,
            'MethodNotAllowed',
            `${method} is not supported on ${url.pathname}`,
          );
      }
    } catch (error) {
      if (error instanceof StatusError) {
        answer(error.code, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: error.message,
          reason: error.reason,
          ...(error.details ? { details: error.details } : {}),
          code: error.code,
        });
        return;
      }
      answer(500, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: (error as Error)?.message ?? String(error),
        reason: 'InternalError',
        code: 500,
      });
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(error => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    requests,
    kubeConfig() {
      const kubeConfig = new (kubernetesClient().KubeConfig)();
      kubeConfig.loadFromClusterAndUser(
        { name: 'fake', server: url, skipTLSVerify: true },
        {
          name: 'fake',
          ...(options.token ? { token: options.token } : {}),
        },
      );
      return kubeConfig;
    },
    objects(namespace) {
      return [...store.values()]
        .map(stored => stored.object)
        .filter(o => !namespace || o.metadata.namespace === namespace)
        .map(copy);
    },
    setReady(name, ready, message, namespace = defaultNamespace) {
      const key = keyOf(namespace, name);
      readiness.set(key, { ready, ...(message ? { message } : {}) });
      const stored = store.get(key);
      if (stored) {
        reconcile(stored);
      }
    },
    changeBeforeNextWrite(name, change, namespace = defaultNamespace) {
      pendingChanges.set(keyOf(namespace, name), change);
    },
    ...batchJobs.api,
    async close() {
      batchJobs.close();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

function describe(causes: FieldCause[]): string {
  const texts = causes.map(cause => `${cause.field}: ${cause.message}`);
  return texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** JSON with sorted keys, so equal objects give equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : inner,
  );
}

/** RFC 7386: objects merge, `null` deletes, anything else replaces. */
function mergePatch(target: unknown, patchValue: unknown): unknown {
  if (
    !patchValue ||
    typeof patchValue !== 'object' ||
    Array.isArray(patchValue)
  ) {
    return patchValue;
  }
  const result: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patchValue)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = mergePatch(result[key], value);
    }
  }
  return result;
}

/** RFC 6902 operations on a copy of `document`. */
function jsonPatch(
  document: Record<string, any>,
  operations: unknown[],
): Record<string, any> {
  let root: any = document;
  const fail = (message: string) =>
    new StatusError(
      422,
      'Invalid',
      `the JSON patch could not be applied: ${message}`,
    );
  const tokens = (pointer: unknown): string[] => {
    if (
      typeof pointer !== 'string' ||
      (pointer !== '' && !pointer.startsWith('/'))
    ) {
      throw fail(`invalid JSON pointer ${JSON.stringify(pointer)}`);
    }
    return pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map(t => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  };
  const parentOf = (path: string[]) => {
    let node = root;
    for (const token of path.slice(0, -1)) {
      node = Array.isArray(node) ? node[Number(token)] : node?.[token];
      if (node === undefined || node === null || typeof node !== 'object') {
        throw fail(`no such path /${path.join('/')}`);
      }
    }
    return node;
  };
  const get = (path: string[]) => {
    let node = root;
    for (const token of path) {
      node = Array.isArray(node) ? node[Number(token)] : node?.[token];
      if (node === undefined) throw fail(`no value at /${path.join('/')}`);
    }
    return node;
  };
  const remove = (path: string[]) => {
    const parent = parentOf(path);
    const last = path[path.length - 1];
    if (Array.isArray(parent)) {
      const index = Number(last);
      if (!(index >= 0 && index < parent.length)) {
        throw fail(`no value at /${path.join('/')}`);
      }
      return parent.splice(index, 1)[0];
    }
    if (!(last in parent)) throw fail(`no value at /${path.join('/')}`);
    const value = parent[last];
    delete parent[last];
    return value;
  };
  const add = (path: string[], value: unknown, replace: boolean) => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const parent = parentOf(path);
    const last = path[path.length - 1];
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!(index >= 0 && index <= parent.length)) {
        throw fail(`index out of range at /${path.join('/')}`);
      }
      if (replace) parent[index] = value;
      else parent.splice(index, 0, value);
    } else {
      if (replace && !(last in parent)) {
        throw fail(`no value to replace at /${path.join('/')}`);
      }
      parent[last] = value;
    }
  };
  for (const raw of operations) {
    const operation = raw as Record<string, unknown>;
    const path = tokens(operation.path);
    switch (operation.op) {
      case 'add':
        add(path, structuredClone(operation.value), false);
        break;
      case 'replace':
        add(path, structuredClone(operation.value), true);
        break;
      case 'remove':
        remove(path);
        break;
      case 'move':
        add(path, remove(tokens(operation.from)), false);
        break;
      case 'copy':
        add(path, structuredClone(get(tokens(operation.from))), false);
        break;
      case 'test':
        if (!isDeepStrictEqual(get(path), operation.value)) {
          throw fail(`test of /${path.join('/')} failed`);
        }
        break;
      default:
        throw fail(`unknown operation ${JSON.stringify(operation.op)}`);
    }
  }
  return root;
}
