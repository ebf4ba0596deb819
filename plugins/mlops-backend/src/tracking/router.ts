import { HttpAuthService } from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import type { MetricHistory } from '@loopline/mlops-common';
import { parseInput } from '../lib/validation';
import { TrackingService } from './TrackingService';

const runParams = z
  .object({
    runId: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'must be a run id (32 hex digits)'),
  })
  .passthrough();
const historyParams = runParams.extend({ key: z.string().min(1).max(250) });

/**
 * Tracking's native routes for the frontend. Runs are not catalog entities,
 * so any signed-in user or service may read them (as in MLflow); writes go
 * through the MLflow routes.
 */
export function createTrackingRouter(options: {
  httpAuth: HttpAuthService;
  tracking: TrackingService;
}): express.Router {
  const { httpAuth, tracking } = options;
  const router = Router();

  router.get('/tracking/runs/:runId', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const { runId } = parseInput(runParams, req.params, 'path');
    res.json(await tracking.getRun(runId));
  });

  router.get('/tracking/runs/:runId/metrics/:key', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const { runId, key } = parseInput(historyParams, req.params, 'path');
    const points = await tracking.getFullMetricHistory(runId, key);
    const history: MetricHistory = { runId, key, points };
    res.json(history);
  });

  return router;
}
