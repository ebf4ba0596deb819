import type {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  DRIFT_TEST_METHODS,
  DriftTestMethod,
  mlopsEntityReadPermission,
  modelMonitorPermission,
} from '@loopline/mlops-common';
import { createRequestAuth } from '../lib/http';
import { parseInput } from '../lib/validation';
import type { MonitoringService } from './MonitoringService';

const versionField = z
  .string()
  .regex(/^(\d{1,9}|all)$/, 'must be a version number or "all"');
const isoTime = z
  .string()
  .refine(v => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time')
  .transform(v => Date.parse(v));
const historyQuery = z
  .object({
    version: versionField.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();
const runBody = z
  .object({
    version: versionField.optional(),
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 90)
      .optional(),
  })
  .strict();

const value = z.union([z.number(), z.string().max(1000), z.null()]);

function columnsOf(maxColumns: number) {
  return z
    .record(z.string().min(1).max(256), z.array(value).min(1).max(10_000_000))
    .refine(c => Object.keys(c).length > 0, 'must name at least one column')
    .refine(
      c => Object.keys(c).length <= maxColumns,
      `at most ${maxColumns} columns`,
    );
}

function compareBody(maxColumns: number) {
  const columns = columnsOf(maxColumns);
  return z
    .object({
      reference: z.object({ columns }).strict(),
      current: z.object({ columns }).strict(),
      methods: z
        .record(
          z.enum(DRIFT_TEST_METHODS as [DriftTestMethod, ...DriftTestMethod[]]),
        )
        .optional(),
      thresholds: z.record(z.number().finite().min(0)).optional(),
      driftShare: z.number().gt(0).max(1).optional(),
      correction: z.literal('bonferroni').optional(),
    })
    .strict();
}

function referenceBody(maxColumns: number) {
  const window = z
    .object({
      since: z
        .string()
        .refine(v => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time'),
      until: z
        .string()
        .refine(v => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time'),
      version: z.number().int().min(1).optional(),
    })
    .strict();
  return z.union([
    z.object({ columns: columnsOf(maxColumns) }).strict(),
    z.object({ window }).strict(),
  ]);
}

const summaryQuery = z
  .object({
    model: z
      .union([
        z.string().min(1).max(256),
        z.array(z.string().min(1).max(256)).max(200),
      ])
      .transform(m => (Array.isArray(m) ? m : [m])),
  })
  .strict();

/**
 * Monitoring under `/monitoring`: reads need `loopline.entity.read` on the
 * Model entity, running a check needs `loopline.model.monitor` on it; the
 * stateless comparison needs a user or service and no entity.
 */
export function createMonitoringRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  monitoring: MonitoringService;
  maxCompareColumns: number;
  /** The body limit of the routes that take JSON (express's size syntax). */
  jsonBodyLimit: string;
  /** The body limit of `POST /drift/compare` and of an uploaded reference (413 beyond). */
  compareBodyLimit: string;
}): express.Router {
  const { httpAuth, permissions, monitoring } = options;
  const router = Router();
  const compareSchema = compareBody(options.maxCompareColumns);
  const referenceSchema = referenceBody(options.maxCompareColumns);
  // Each route parses its own body: comparisons and uploaded references are
  // larger than the plugin's other requests, so they have a limit of their own.
  const json = express.json({ limit: options.jsonBodyLimit });
  const largeJson = express.json({ limit: options.compareBodyLimit });

  const auth = createRequestAuth({
    httpAuth,
    permissions,
    getModel: name => monitoring.requireModel(name),
  });
  const authorized = async (
    req: express.Request,
    permission: typeof mlopsEntityReadPermission,
  ) => (await auth.authorizedModel(req, permission)).model;

  router.get('/monitoring/models/:name/drift', async (req, res) => {
    const query = parseInput(historyQuery, req.query, 'query');
    const model = await authorized(req, mlopsEntityReadPermission);
    res.json(await monitoring.history(model.name, query));
  });

  router.post('/monitoring/models/:name/drift/run', json, async (req, res) => {
    const body = parseInput(runBody, req.body ?? {}, 'body');
    const model = await authorized(req, modelMonitorPermission);
    const reports = await monitoring.run(model.name, {
      trigger: 'manual',
      ...body,
    });
    res.status(201).json({ reports });
  });

  router.get('/monitoring/models/:name/quality', async (req, res) => {
    const query = parseInput(
      historyQuery.omit({ limit: true }),
      req.query,
      'query',
    );
    const model = await authorized(req, mlopsEntityReadPermission);
    res.json(await monitoring.quality(model.name, query));
  });

  router.post('/monitoring/drift/compare', largeJson, async (req, res) => {
    await auth.credentialsOf(req);
    const body = parseInput(compareSchema, req.body, 'body');
    res.json(monitoring.compare(body));
  });

  router.get('/monitoring/summary', async (req, res) => {
    const { model: names } = parseInput(summaryQuery, req.query, 'query');
    const credentials = await auth.credentialsOf(req);
    const models = await monitoring.modelsNamed(names);
    const allowed = await Promise.all(
      models.map(m =>
        auth.isAllowed(credentials, mlopsEntityReadPermission, m.entityRef),
      ),
    );
    res.json({
      items: await monitoring.summary(models.filter((_, i) => allowed[i])),
    });
  });

  router.get('/monitoring/models/:name/reference', async (req, res) => {
    const model = await authorized(req, mlopsEntityReadPermission);
    res.json(await monitoring.getReference(model.name));
  });

  router.put(
    '/monitoring/models/:name/reference',
    largeJson,
    async (req, res) => {
      const body = parseInput(referenceSchema, req.body, 'body');
      const { model, credentials } = await auth.authorizedModel(
        req,
        modelMonitorPermission,
      );
      res.json(await monitoring.setReference(model.name, body, credentials));
    },
  );

  router.delete('/monitoring/models/:name/reference', async (req, res) => {
    const { model, credentials } = await auth.authorizedModel(
      req,
      modelMonitorPermission,
    );
    if (!(await monitoring.clearReference(model.name, credentials))) {
      throw new NotFoundError(
        `Model ${model.name} has no reference set through the API`,
      );
    }
    res.status(204).end();
  });

  return router;
}
