/**
 * The control plane's routes for standalone data planes (`loopline-serving`
 * processes beside the portal or behind a load balancer): the same calls,
 * tables and events as the worker processes' IPC, over HTTP. Only service
 * principals allowed `loopline.serving.dataplane.connect` may use them.
 */
import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { dataPlaneConnectPermission } from '@loopline/mlops-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { parseInput } from '../lib/validation';
import type { InferenceEvent } from '../serving/log/types';
import type { ControlPlaneEndpoint } from './DataPlaneSupervisor';

const callBody = z.object({
  method: z.enum([
    'authenticate',
    'authorize',
    'readArtifact',
    'featuresFor',
    'rateLease',
  ]),
  args: z.array(z.unknown()).max(4),
});
const eventsBody = z.object({
  // The standalone data plane posts at most 600 (its logMessageSize).
  events: z.array(z.record(z.unknown())).max(1000),
  dropped: z.number().int().min(0),
  rateLimited: z.record(z.number().int().min(0)).optional(),
});

/** A Buffer result travels as `{ "$bytes": "<base64>" }`. */
export function encodeCallValue(value: unknown): unknown {
  return Buffer.isBuffer(value) ? { $bytes: value.toString('base64') } : value;
}

export function decodeCallValue(value: unknown): unknown {
  const bytes = (value as { $bytes?: unknown } | null)?.$bytes;
  return typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : value;
}

export function createDataPlaneRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  endpoint: ControlPlaneEndpoint;
  /** How old a table may be when a data plane asks (the routing refresh). */
  tableMaxAgeMs: number;
}): express.Router {
  const { httpAuth, permissions, endpoint } = options;
  const router = Router();

  const connect = async (req: Request): Promise<BackstageCredentials> => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['service'],
    });
    const [decision] = await permissions.authorize(
      [{ permission: dataPlaneConnectPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You are not allowed to ${dataPlaneConnectPermission.name}`,
      );
    }
    return credentials;
  };

  router.get('/serving/data-plane/table', async (req, res) => {
    await connect(req);
    const table = await endpoint.tableNotOlderThan(options.tableMaxAgeMs);
    const etag = `"${table.revision}"`;
    res.setHeader('ETag', etag);
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.json(table);
  });

  router.post('/serving/data-plane/calls', async (req, res) => {
    await connect(req);
    const { method, args } = parseInput(callBody, req.body, 'call');
    const call = endpoint[method] as (...a: unknown[]) => Promise<unknown>;
    res.json({ value: encodeCallValue(await call.apply(endpoint, args)) });
  });

  router.post('/serving/data-plane/events', async (req, res) => {
    await connect(req);
    const body = parseInput(eventsBody, req.body, 'events');
    for (const event of body.events) {
      if (typeof event.modelName !== 'string') {
        throw new InputError('Each event needs a modelName');
      }
      if (
        event.requestJson !== undefined &&
        typeof event.requestJson !== 'string'
      ) {
        throw new InputError('An event requestJson must be a string');
      }
      if (event.rawInputs !== undefined) {
        // Bytes do not survive JSON: the standalone link sends `inputs`.
        throw new InputError(
          'An event sent over HTTP carries inputs, not rawInputs',
        );
      }
    }
    endpoint.observe(
      body.events as unknown as InferenceEvent[],
      body.dropped,
      body.rateLimited,
    );
    res.status(202).json({ accepted: body.events.length });
  });

  return router;
}
