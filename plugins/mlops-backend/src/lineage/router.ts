import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  lineageIngestPermission,
  mlopsEntityReadPermission,
} from '@loopline/mlops-common';
import express, { ErrorRequestHandler, Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { parseInput } from '../lib/validation';
import { entityRefSchema } from '../lib/validation';
import { authorizeEntity } from '../lib/authorize';
import { InvalidEventError, LineageService } from './LineageService';
import { LineageImpactService } from './LineageImpact';

/** Where the OpenLineage and Marquez routes live under `/api/mlops`. */
export const OPENLINEAGE_PATH = '/openlineage';

const page = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const lineageQuery = z.object({
  nodeId: z.string().min(1),
  depth: z.coerce.number().int().min(0).max(100).default(20),
});
const columnLineageQuery = lineageQuery.extend({
  withDownstream: z
    .enum(['true', 'false'])
    .default('false')
    .transform(v => v === 'true'),
});
const nsParam = z.object({ namespace: z.string().min(1) }).passthrough();
const jobParams = nsParam.extend({ job: z.string().min(1) });
const datasetParams = nsParam.extend({ dataset: z.string().min(1) });
const runParams = z.object({ id: z.string().uuid() }).passthrough();
const namespaceBody = z.object({
  ownerName: z.string().min(1).max(256),
  description: z.string().max(10_000).nullish(),
});

/**
 * OpenLineage's HTTP transport endpoint and Marquez's read API (v1), under
 * `/api/mlops/openlineage/api/v1`, so `OPENLINEAGE_URL=<backend>/api/mlops/openlineage`
 * works unchanged for the clients, and Marquez-based tools can read the
 * graph. Errors answer in Marquez's shape, `{code, message}`, with the
 * failing JSON paths of an invalid event in `errors`.
 */
export function createLineageRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  logger: LoggerService;
  lineage: LineageService;
  impact?: LineageImpactService;
  jsonBodyLimit: string;
}): express.Router {
  const { httpAuth, permissions, lineage, logger } = options;
  const router = Router();
  router.use(OPENLINEAGE_PATH, express.json({ limit: options.jsonBodyLimit }));

  async function authorizeIngest(req: Request) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize(
      [{ permission: lineageIngestPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError('You are not allowed to record lineage');
    }
  }

  /**
   * Lineage nodes need not be catalog entities, so reads are decided on
   * `loopline.entity.read` without a resource: a policy that allows it for
   * some entities (a conditional decision) lets the caller read the graph.
   */
  async function authorizeRead(req: Request) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorizeConditional(
      [{ permission: mlopsEntityReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError('You are not allowed to read lineage');
    }
  }

  const v1 = Router();
  router.use(`${OPENLINEAGE_PATH}/api/v1`, v1);

  v1.post('/lineage', async (req, res) => {
    await authorizeIngest(req);
    await lineage.ingest(req.body);
    res.status(201).end();
  });

  // The spec's batch endpoint: 200 with a summary (success or
  // partial_success); the invalid entries are not stored.
  v1.post('/lineage/batch', async (req, res) => {
    await authorizeIngest(req);
    const body = parseInput(
      z.array(z.unknown()).min(1).max(10_000),
      req.body,
      'batch (an array of events)',
    );
    const { received, failed } = await lineage.ingestBatch(body);
    res.status(200).json({
      status: failed.length === 0 ? 'success' : 'partial_success',
      summary: {
        received,
        successful: received - failed.length,
        failed: failed.length,
        retriable: 0,
        non_retriable: failed.length,
      },
      failed_events: failed,
    });
  });

  v1.get('/lineage', async (req, res) => {
    await authorizeRead(req);
    const { nodeId, depth } = parseInput(lineageQuery, req.query, 'query');
    res.json(await lineage.getLineage(nodeId, depth));
  });

  v1.get('/column-lineage', async (req, res) => {
    await authorizeRead(req);
    const q = parseInput(columnLineageQuery, req.query, 'query');
    res.json(
      await lineage.getColumnLineage(q.nodeId, q.depth, q.withDownstream),
    );
  });

  v1.get('/events/lineage', async (req, res) => {
    await authorizeRead(req);
    res.json(await lineage.listEvents(parseInput(page, req.query, 'query')));
  });

  v1.get('/namespaces', async (req, res) => {
    await authorizeRead(req);
    res.json(
      await lineage.listNamespaces(parseInput(page, req.query, 'query')),
    );
  });

  v1.get('/namespaces/:namespace', async (req, res) => {
    await authorizeRead(req);
    const { namespace } = parseInput(nsParam, req.params, 'path');
    res.json(await lineage.getNamespace(namespace));
  });

  v1.put('/namespaces/:namespace', async (req, res) => {
    await authorizeIngest(req);
    const { namespace } = parseInput(nsParam, req.params, 'path');
    const body = parseInput(namespaceBody, req.body, 'namespace');
    res.json(
      await lineage.putNamespace(
        namespace,
        body.ownerName,
        body.description ?? null,
      ),
    );
  });

  v1.get('/jobs', async (req, res) => {
    await authorizeRead(req);
    res.json(
      await lineage.listJobs(undefined, parseInput(page, req.query, 'query')),
    );
  });

  v1.get('/namespaces/:namespace/jobs', async (req, res) => {
    await authorizeRead(req);
    const { namespace } = parseInput(nsParam, req.params, 'path');
    res.json(
      await lineage.listJobs(namespace, parseInput(page, req.query, 'query')),
    );
  });

  v1.get('/namespaces/:namespace/jobs/:job', async (req, res) => {
    await authorizeRead(req);
    const p = parseInput(jobParams, req.params, 'path');
    res.json(await lineage.getJob({ namespace: p.namespace, name: p.job }));
  });

  v1.get('/namespaces/:namespace/jobs/:job/versions', async (req, res) => {
    await authorizeRead(req);
    const p = parseInput(jobParams, req.params, 'path');
    res.json(
      await lineage.listJobVersions(
        { namespace: p.namespace, name: p.job },
        parseInput(page, req.query, 'query'),
      ),
    );
  });

  v1.get('/namespaces/:namespace/jobs/:job/runs', async (req, res) => {
    await authorizeRead(req);
    const p = parseInput(jobParams, req.params, 'path');
    res.json(
      await lineage.listRuns(
        { namespace: p.namespace, name: p.job },
        parseInput(page, req.query, 'query'),
      ),
    );
  });

  v1.get('/jobs/runs/:id', async (req, res) => {
    await authorizeRead(req);
    const { id } = parseInput(runParams, req.params, 'path');
    res.json(await lineage.getRun(id));
  });

  v1.get('/namespaces/:namespace/datasets', async (req, res) => {
    await authorizeRead(req);
    const { namespace } = parseInput(nsParam, req.params, 'path');
    res.json(
      await lineage.listDatasets(
        namespace,
        parseInput(page, req.query, 'query'),
      ),
    );
  });

  v1.get('/namespaces/:namespace/datasets/:dataset', async (req, res) => {
    await authorizeRead(req);
    const p = parseInput(datasetParams, req.params, 'path');
    res.json(
      await lineage.getDataset({ namespace: p.namespace, name: p.dataset }),
    );
  });

  v1.get(
    '/namespaces/:namespace/datasets/:dataset/versions',
    async (req, res) => {
      await authorizeRead(req);
      const p = parseInput(datasetParams, req.params, 'path');
      res.json(
        await lineage.listDatasetVersions(
          { namespace: p.namespace, name: p.dataset },
          parseInput(page, req.query, 'query'),
        ),
      );
    },
  );

  // Loopline's own routes (Backstage's error shape): the catalog-linked
  // graph of an entity and impact analysis.
  const { impact } = options;
  if (impact) {
    router.get('/lineage/graph', async (req, res) => {
      const q = parseInput(
        z
          .object({
            entityRef: entityRefSchema.optional(),
            nodeId: z.string().min(1).optional(),
            depth: z.coerce.number().int().min(0).max(100).default(20),
          })
          .strict()
          .refine(v => !!v.entityRef !== !!v.nodeId, {
            message: 'give exactly one of entityRef and nodeId',
          }),
        req.query,
        'query',
      );
      if (q.entityRef) {
        const credentials = await httpAuth.credentials(req, {
          allow: ['user', 'service'],
        });
        await authorizeEntity(
          permissions,
          mlopsEntityReadPermission,
          q.entityRef,
          credentials,
        );
      } else {
        await authorizeRead(req);
      }
      res.json(await impact.graph(q));
    });

    router.get('/lineage/provenance', async (req, res) => {
      const { requestId } = parseInput(
        z.object({ requestId: z.string().min(1).max(256) }).strict(),
        req.query,
        'query',
      );
      const credentials = await httpAuth.credentials(req, {
        allow: ['user', 'service'],
      });
      await authorizeEntity(
        permissions,
        mlopsEntityReadPermission,
        await impact.provenanceEntityRef(requestId),
        credentials,
      );
      res.json(await impact.provenance(requestId));
    });

    router.get('/lineage/impact', async (req, res) => {
      const { entityRef } = parseInput(
        z.object({ entityRef: entityRefSchema }).strict(),
        req.query,
        'query',
      );
      const credentials = await httpAuth.credentials(req, {
        allow: ['user', 'service'],
      });
      await authorizeEntity(
        permissions,
        mlopsEntityReadPermission,
        entityRef,
        credentials,
      );
      res.json(await impact.impact(entityRef));
    });
  }

  v1.use((_req, res) => {
    res.status(404).json({ code: 404, message: 'HTTP 404 Not Found' });
  });
  router.use(OPENLINEAGE_PATH, marquezErrorHandler(logger));
  return router;
}

/** Marquez's (Dropwizard's) error shape: `{code, message}`. */
function marquezErrorHandler(logger: LoggerService): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    if (error instanceof InvalidEventError) {
      res
        .status(400)
        .json({ code: 400, message: error.message, errors: error.problems });
      return;
    }
    const name: string | undefined = error?.name;
    const status =
      error?.type === 'entity.too.large'
        ? 413
        : error?.type === 'entity.parse.failed'
        ? 400
        : name === 'InputError'
        ? 400
        : name === 'AuthenticationError'
        ? 401
        : name === 'NotAllowedError'
        ? 403
        : name === 'NotFoundError'
        ? 404
        : name === 'ConflictError'
        ? 409
        : 500;
    if (status === 500) {
      logger.error('Lineage request failed', error);
    }
    res.status(status).json({
      code: status,
      message: status === 500 ? 'Internal error' : String(error?.message),
    });
  };
}
