import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  mlopsEntityReadPermission,
  pipelineRunPermission,
} from '@loopline/mlops-common';
import { actorOf } from '../audit/AuditTrail';
import { authorizeEntity } from '../lib/authorize';
import { decodePageToken } from '../lib/pageToken';
import { parseInput } from '../lib/validation';
import { entityRefOfPipeline } from './definitions';
import { PipelineService } from './PipelineService';

const name = z.string().min(1).max(256);
const pipelineParams = z.object({ name }).passthrough();
const runParams = z.object({ name, id: z.string().uuid() }).passthrough();
const stepParams = runParams.extend({ step: z.string().min(1).max(256) });
const comment = z.string().max(5000).optional();

const startBody = z
  .object({
    parameters: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier'),
        z.string().max(10_000),
      )
      .refine(p => Object.keys(p).length <= 100, 'at most 100 parameters')
      .optional(),
    comment,
  })
  .strict();
const actionBody = z.object({ comment }).strict();
const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(25),
    pageToken: z.string().max(200).optional(),
  })
  .strict();
const logsQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
    step: z.string().min(1).max(256).optional(),
    follow: z.enum(['true', 'false']).optional(),
  })
  .strict();

/** How long a followed log stays open at most, and how often it looks for lines. */
const FOLLOW_MAX_MS = 10 * 60_000;
const FOLLOW_POLL_MS = 1000;

/**
 * Pipeline runs under `/pipelines/:name/runs`. Reading needs
 * `loopline.entity.read` on the Pipeline entity; starting, cancelling and
 * retrying need `loopline.pipeline.run` on it.
 */
export function createPipelinesRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  pipelines: PipelineService;
}): express.Router {
  const { httpAuth, permissions, pipelines } = options;
  const router = Router();

  /** The caller, once the pipeline exists (404) and the policy allows (403). */
  async function authorized(
    req: Request,
    pipelineName: string,
    permission: Parameters<typeof authorizeEntity>[1],
  ) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const entity = await pipelines.pipeline(pipelineName);
    await authorizeEntity(
      permissions,
      permission,
      entityRefOfPipeline(entity),
      credentials,
    );
    return credentials;
  }

  router.get('/pipelines/:name/runs', async (req, res) => {
    const params = parseInput(pipelineParams, req.params, 'path');
    const query = parseInput(listQuery, req.query, 'query');
    const offset = decodePageToken(query.pageToken);
    await authorized(req, params.name, mlopsEntityReadPermission);
    res.json(
      await pipelines.listRuns(params.name, { limit: query.limit, offset }),
    );
  });

  router.post('/pipelines/:name/runs', async (req, res) => {
    const params = parseInput(pipelineParams, req.params, 'path');
    const body = parseInput(startBody, req.body ?? {}, 'request body');
    const credentials = await authorized(
      req,
      params.name,
      pipelineRunPermission,
    );
    const user = actorOf(credentials);
    const { run } = await pipelines.startRun({
      pipeline: params.name,
      parameters: body.parameters,
      trigger: {
        type: 'manual',
        cause: body.comment
          ? `Run by ${user}: ${body.comment}`
          : `Run by ${user}`,
      },
      credentials,
      user,
      comment: body.comment,
    });
    res.status(201).json(run);
  });

  router.get('/pipelines/:name/runs/:id', async (req, res) => {
    const params = parseInput(runParams, req.params, 'path');
    await authorized(req, params.name, mlopsEntityReadPermission);
    res.json(await pipelines.getRun(params.name, params.id));
  });

  router.get('/pipelines/:name/runs/:id/logs', async (req, res) => {
    const params = parseInput(runParams, req.params, 'path');
    const query = parseInput(logsQuery, req.query, 'query');
    await authorized(req, params.name, mlopsEntityReadPermission);
    const read = (after: number) =>
      pipelines.readLogs(params.name, params.id, {
        after,
        limit: query.limit,
        ...(query.step ? { step: query.step } : {}),
      });
    if (query.follow !== 'true') {
      res.json(await read(query.after));
      return;
    }
    // Following: one JSON line per log line, until the run is finished and
    // every line was sent, or the client goes away. Read from the store, so
    // it follows a run executing on any backend instance.
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.flushHeaders();
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    const until = Date.now() + FOLLOW_MAX_MS;
    let after = query.after;
    while (!closed && Date.now() < until) {
      const page = await read(after);
      for (const line of page.items) {
        res.write(`${JSON.stringify(line)}\n`);
      }
      after = page.last;
      if (page.complete) break;
      if (page.items.length < query.limit) {
        await new Promise(resolve => setTimeout(resolve, FOLLOW_POLL_MS));
      }
    }
    res.end();
  });

  router.post('/pipelines/:name/runs/:id/cancel', async (req, res) => {
    const params = parseInput(runParams, req.params, 'path');
    const body = parseInput(actionBody, req.body ?? {}, 'request body');
    const credentials = await authorized(
      req,
      params.name,
      pipelineRunPermission,
    );
    res.json(
      await pipelines.cancel({
        pipeline: params.name,
        id: params.id,
        credentials,
        comment: body.comment,
      }),
    );
  });

  router.post(
    '/pipelines/:name/runs/:id/steps/:step/retry',
    async (req, res) => {
      const params = parseInput(stepParams, req.params, 'path');
      const body = parseInput(actionBody, req.body ?? {}, 'request body');
      const credentials = await authorized(
        req,
        params.name,
        pipelineRunPermission,
      );
      res.json(
        await pipelines.retryStep({
          pipeline: params.name,
          id: params.id,
          step: params.step,
          credentials,
          comment: body.comment,
        }),
      );
    },
  );

  return router;
}
