/**
 * The serving routes, under `/api/mlops`: KServe's Open Inference Protocol
 * v2 REST (health, server and model metadata, model ready, infer) and the
 * convenience routes for the portal (predict by feature name, info, schema).
 *
 * This router parses its own JSON bodies (limit `jsonBodyLimit`, any content
 * type, so `curl -d` works; too large → 413) and answers every error as
 * `{"error": "..."}` with KServe's statuses. Mount it before any other JSON
 * body parser of the plugin.
 */
import {
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mlopsEntityReadPermission,
  modelInvokePermission,
} from '@loopline/mlops-common';
import express, { NextFunction, Request, Response } from 'express';
import Router from 'express-promise-router';
import type { EntityAuthorizer } from '../lib/http';
import { PermissionDecisionCache } from './authorization';
import { oipErrorHandler } from './errors';
import { TtlCache } from '../lib/TtlCache';
import { InferenceRoute, InferenceService } from './InferenceService';
import type { RoutingHints } from './TrafficRouter';

export interface ServingRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  service: InferenceService;
  logger: LoggerService;
  /** Largest JSON body of the infer and predict routes (`bytes` notation or a number); default `1mb`. */
  jsonBodyLimit?: string | number;
  /**
   * How long an ALLOW or DENY of the policy is reused per (caller,
   * permission, model entity). Default 5000 ms; 0 asks every time.
   */
  permissionCacheTtlMs?: number;
  /**
   * How long a verified token's credentials are reused (never past the
   * token's expiry). Default 5000 ms; 0 verifies every request.
   */
  credentialsCacheTtlMs?: number;
}

/** Credentials of the request, set by `authenticate`. */
type AuthenticatedRequest = Request & { credentials?: BackstageCredentials };

export function createServingRouter(
  options: ServingRouterOptions,
): express.Router {
  const { httpAuth, service, logger } = options;
  const decisions = new PermissionDecisionCache({
    permissions: options.permissions,
    ttlMs: options.permissionCacheTtlMs,
  });
  const router = Router();

  // Verifying a token (a JWT signature, or Backstage's lookup of a static
  // token) is a large share of an inference request's cost; a client sends
  // the same token request after request. A verified token's credentials are
  // reused for a few seconds, never past the token's own expiry; a token that
  // fails is never cached.
  const credentialsCache = new TtlCache<BackstageCredentials>({
    ttlMs: options.credentialsCacheTtlMs ?? 5000,
  });
  const verify = (req: Request) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  /** First: an unauthenticated caller is refused before its body is read. */
  const authenticate = async (
    req: AuthenticatedRequest,
    _res: Response,
    next: NextFunction,
  ) => {
    const header = req.headers.authorization;
    let credentials = header
      ? await credentialsCache.get(header, () => verify(req))
      : await verify(req);
    if (
      credentials.expiresAt &&
      credentials.expiresAt.getTime() <= Date.now()
    ) {
      credentials = await verify(req); // expired since: refused as usual
    }
    req.credentials = credentials;
    next();
  };
  const jsonBody = express.json({
    limit: options.jsonBodyLimit ?? '1mb',
    type: () => true,
    strict: true,
  });
  /** The JSON parser, reporting refused bodies of an existing model to the observers. */
  const parseJson =
    (route: InferenceRoute) =>
    (req: Request, res: Response, next: NextFunction) => {
      jsonBody(req, res, error => {
        if (error) {
          void service.reportRejected({
            modelName: req.params.name,
            version: req.params.version,
            route,
            error,
          });
        }
        next(error);
      });
    };

  /** Set by `authenticate`, which runs before every route that reads it. */
  const authenticated = (req: AuthenticatedRequest): BackstageCredentials =>
    req.credentials!;
  const invoker =
    (req: AuthenticatedRequest): EntityAuthorizer =>
    entityRef =>
      decisions.authorize(modelInvokePermission, entityRef, authenticated(req));
  const reader =
    (req: AuthenticatedRequest): EntityAuthorizer =>
    entityRef =>
      decisions.authorize(
        mlopsEntityReadPermission,
        entityRef,
        authenticated(req),
      );

  // ---- health (no credentials asked here: the plugin's auth policy decides) --

  router.get('/v2/health/live', (_req, res) => {
    res.json(service.serverLive());
  });

  router.get('/v2/health/ready', (_req, res) => {
    const { ready } = service.serverReady();
    if (!ready) {
      res.status(503).json({ error: 'The model server is not ready' });
      return;
    }
    res.json({ ready });
  });

  // ---- server and model metadata --------------------------------------------

  router.get('/v2', authenticate, (_req, res) => {
    res.json(service.serverMetadata());
  });

  router.get(
    '/v2/models',
    authenticate,
    async (req: AuthenticatedRequest, res) => {
      const models = await service.listModels();
      const allowed = await decisions.filterAllowed(
        modelInvokePermission,
        models.map(m => m.entityRef),
        authenticated(req),
      );
      res.json({
        models: models.filter(m => allowed.has(m.entityRef)).map(m => m.name),
      });
    },
  );

  const metadata = async (req: AuthenticatedRequest, res: Response) => {
    res.json(
      await service.modelMetadata(
        req.params.name,
        req.params.version,
        invoker(req),
      ),
    );
  };
  router.get('/v2/models/:name', authenticate, metadata);
  router.get('/v2/models/:name/versions/:version', authenticate, metadata);

  const ready = async (req: AuthenticatedRequest, res: Response) => {
    const result = await service.modelReady(
      req.params.name,
      req.params.version,
      invoker(req),
    );
    res.json({ name: result.name, ready: result.ready });
  };
  router.get('/v2/models/:name/ready', authenticate, ready);
  router.get('/v2/models/:name/versions/:version/ready', authenticate, ready);

  // ---- inference ---------------------------------------------------------------

  const infer = async (req: AuthenticatedRequest, res: Response) => {
    const { response, requestId } = await service.infer({
      modelName: req.params.name,
      version: req.params.version,
      request: req.body,
      route: 'oip',
      credentials: authenticated(req),
      authorize: invoker(req),
      hints: hintsOf(req),
    });
    // The id the log knows the request by (the body's `id`, else a new
    // UUID), so a client can report ground truth for it.
    res.setHeader('X-Request-Id', requestId);
    sendJson(res, response);
  };
  router.post('/v2/models/:name/infer', authenticate, parseJson('oip'), infer);
  router.post(
    '/v2/models/:name/versions/:version/infer',
    authenticate,
    parseJson('oip'),
    infer,
  );

  // The protocol's paths only: anything else under /v2 is a 404 in its shape.
  router.use('/v2', (req, res) => {
    res.status(404).json({
      error: `No such route: ${req.method} ${req.baseUrl}${req.path}`,
    });
  });

  // ---- convenience routes ------------------------------------------------------

  router.post(
    '/serving/models/:name/predict',
    authenticate,
    parseJson('predict'),
    async (req: AuthenticatedRequest, res) => {
      res.json(
        await service.predict({
          modelName: req.params.name,
          body: req.body,
          credentials: authenticated(req),
          authorize: invoker(req),
          hints: hintsOf(req),
        }),
      );
    },
  );

  router.post(
    '/serving/models/:name/predict-batch',
    authenticate,
    parseJson('predict-batch'),
    async (req: AuthenticatedRequest, res) => {
      res.json(
        await service.predictBatch({
          modelName: req.params.name,
          body: req.body,
          credentials: authenticated(req),
          authorize: invoker(req),
          hints: hintsOf(req),
        }),
      );
    },
  );

  router.get(
    '/serving/models/:name/info',
    authenticate,
    async (req: AuthenticatedRequest, res) => {
      res.json(await service.modelInfo(req.params.name, reader(req)));
    },
  );

  router.get(
    '/serving/models/:name/schema',
    authenticate,
    async (req: AuthenticatedRequest, res) => {
      const version =
        typeof req.query.version === 'string' ? req.query.version : undefined;
      res.json(
        await service.modelSchema(req.params.name, version, reader(req)),
      );
    },
  );

  router.use(oipErrorHandler(logger));
  return router;
}

/**
 * The hot path's answer: JSON written straight to the socket, without
 * Express's `res.json`/`res.send` work (ETag hashing of every body, content
 * negotiation) that an inference answer never needs.
 */
function sendJson(res: Response, body: unknown) {
  const text = JSON.stringify(body);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** The request's headers, for a traffic router that splits by a key (A/B). */
function hintsOf(req: Request): RoutingHints {
  return { header: name => req.header(name) ?? undefined };
}
