import { createHash, timingSafeEqual } from 'node:crypto';
import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { mlopsEntityReadPermission } from '@loopline/mlops-common';
import { createRequestAuth } from '../../lib/http';
import { parseInput } from '../../lib/validation';
import { InferenceLogService } from './InferenceLogService';
import { parseKServeCloudEvent } from './kserveEvents';

/** The path of KServe's request-logger route (give it to addAuthPolicy when a token is configured). */
export const KSERVE_LOGGER_PATH = '/serving/kserve/logger';

const DEFAULT_MAX_STATS_WINDOW_SECONDS = 24 * 60 * 60;
const MAX_GROUND_TRUTH_ITEMS = 1000;
const MAX_GROUND_TRUTH_CHARS = 64 * 1024;

/** Where the metrics route reads from (ServingMetrics). */
export interface MetricsSource {
  metricsText(): Promise<string>;
  readonly contentType: string;
}

export interface InferenceLogRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** Model name → its catalog entity (RegistryService); NotFoundError for an unknown model. */
  registry: {
    getRegisteredModel(
      name: string,
    ): Promise<{ name: string; entityRef: string }>;
  };
  service: InferenceLogService;
  metrics: MetricsSource;
  /**
   * A shared secret KServe's logger may send as `?token=` (it cannot send an
   * Authorization header). Without it, the route needs a user or service token.
   */
  kserveLoggerToken?: string;
  /** Body limit of a KServe CloudEvent. Default '10mb'. */
  kserveBodyLimit?: string | number;
  /** Body limit of ground truth. Default '1mb'. */
  jsonBodyLimit?: string | number;
  /** Longest stats window. Default 86400 s. */
  maxStatsWindowSeconds?: number;
  /** Arrival time of a KServe event without a usable time; for tests. */
  clock?: () => number;
}

const groundTruthItem = z
  .object({
    requestId: z.string().min(1).max(256),
    groundTruth: z.unknown(),
  })
  .strict()
  .superRefine((item, ctx) => {
    if (item.groundTruth === undefined || item.groundTruth === null) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['groundTruth'],
        message: 'Required',
      });
      return;
    }
    if (JSON.stringify(item.groundTruth).length > MAX_GROUND_TRUTH_CHARS) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['groundTruth'],
        message: `Larger than ${MAX_GROUND_TRUTH_CHARS} characters of JSON`,
      });
    }
  });
const kserveLoggerQuery = z.object({
  token: z.string().optional(),
  model: z.string().min(1).max(256).optional(),
  version: z.coerce.number().int().min(1).optional(),
});

const groundTruthList = z
  .array(groundTruthItem)
  .min(1)
  .max(MAX_GROUND_TRUTH_ITEMS);

const recentQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    since: z.coerce.number().int().min(0).optional(),
    version: z.coerce.number().int().min(1).optional(),
    source: z.enum(['embedded', 'kserve']).optional(),
  })
  .strict();

/**
 * The inference log's routes:
 * - `POST /serving/kserve/logger`: KServe's request logger (CloudEvents) → the log, 202
 * - `POST /serving/ground-truth`: GroundTruthRequest or an array of them → 201
 * - `GET /serving/models/:name/stats?windowSeconds=300` → ServingStats
 * - `GET /serving/models/:name/requests?limit=&since=&version=&source=` → logged requests
 * - `GET /metrics` → Prometheus text
 * Every route needs a user or a service through httpAuth (the KServe route
 * also takes the configured `?token=`); model reads need `loopline.entity.read`
 * on the Model entity. Errors are Backstage errors (InputError → 400, ...).
 * Each route parses its own body, so the router can be mounted before or
 * after a shared JSON parser.
 */
export function createInferenceLogRouter(
  options: InferenceLogRouterOptions,
): express.Router {
  const { registry, service, metrics } = options;
  const clock = options.clock ?? Date.now;
  const maxWindow =
    options.maxStatsWindowSeconds ?? DEFAULT_MAX_STATS_WINDOW_SECONDS;
  const statsQuery = z
    .object({
      windowSeconds: z.coerce.number().int().min(1).max(maxWindow).default(300),
    })
    .strict();
  const tokenDigest = options.kserveLoggerToken
    ? digest(options.kserveLoggerToken)
    : undefined;
  const router = Router();

  const auth = createRequestAuth({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    getModel: name => registry.getRegisteredModel(name),
  });
  const credentialsOf = auth.credentialsOf;
  const readableModel = async (req: Request) =>
    (await auth.authorizedModel(req, mlopsEntityReadPermission)).model;

  router.post(
    KSERVE_LOGGER_PATH,
    express.raw({
      type: () => true,
      limit: options.kserveBodyLimit ?? '10mb',
    }),
    async (req, res) => {
      const token =
        typeof req.query.token === 'string' ? req.query.token : undefined;
      const tokenAccepted =
        tokenDigest !== undefined &&
        token !== undefined &&
        timingSafeEqual(digest(token), tokenDigest);
      if (!tokenAccepted) {
        await credentialsOf(req);
      }
      const part = parseKServeCloudEvent({
        headers: req.headers,
        body: req.body,
        now: clock(),
      });
      // Loopline's KServe target names the registered model and the version
      // each revision serves in the logger URL: KServe itself only sends the
      // InferenceService's name, and both revisions of a canary log alike.
      const { model, version } = parseInput(
        kserveLoggerQuery,
        req.query,
        'logger query',
      );
      service.acceptKServePart({
        ...part,
        ...(model !== undefined ? { modelName: model } : {}),
        ...(version !== undefined ? { version } : {}),
      });
      res.status(202).end();
    },
  );

  router.post(
    '/serving/ground-truth',
    express.json({ limit: options.jsonBodyLimit ?? '1mb' }),
    async (req, res) => {
      await credentialsOf(req);
      const body = Array.isArray(req.body)
        ? parseInput(groundTruthList, req.body, 'ground truth')
        : [parseInput(groundTruthItem, req.body, 'ground truth')];
      const items = body.map(item => ({
        requestId: item.requestId,
        value: item.groundTruth,
      }));
      await service.recordGroundTruth(items);
      res.status(201).json({ accepted: items.length });
    },
  );

  router.get('/serving/models/:name/stats', async (req, res) => {
    const model = await readableModel(req);
    const { windowSeconds } = parseInput(statsQuery, req.query, 'query');
    res.json(await service.getStats(model.name, windowSeconds));
  });

  router.get('/serving/models/:name/requests', async (req, res) => {
    const model = await readableModel(req);
    const query = parseInput(recentQuery, req.query, 'query');
    res.json({
      items: await service.listRecent({ modelName: model.name, ...query }),
    });
  });

  router.get('/metrics', async (req, res) => {
    await credentialsOf(req);
    const text = await metrics.metricsText();
    // A Buffer, so Express keeps the registry's content type as it is.
    res.setHeader('Content-Type', metrics.contentType);
    res.send(Buffer.from(text, 'utf8'));
  });

  return router;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
