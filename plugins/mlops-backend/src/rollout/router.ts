import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  ConversionRequest,
  deploymentManagePermission,
  mlopsEntityReadPermission,
  ROLLOUT_CONTROL_ACTIONS,
  ROLLOUT_STRATEGIES,
  RolloutActionRequest,
  RolloutStrategy,
  StartRolloutRequest,
} from '@loopline/mlops-common';
import { createRequestAuth } from '../lib/http';
import { parseInput } from '../lib/validation';
import { RolloutService } from './RolloutService';

const modelParams = z
  .object({ name: z.string().min(1).max(256) })
  .passthrough();
const deploymentParams = z
  .object({
    name: z.string().min(1).max(256),
    environment: z.string().min(1).max(64),
  })
  .passthrough();
const actionParams = deploymentParams.extend({
  action: z.enum(ROLLOUT_CONTROL_ACTIONS),
});

const comment = z.string().max(5000).optional();
const share = z.number().min(0).max(1);
const milliseconds = z.number().positive().max(600_000);
const startBody = z
  .object({
    version: z.number().int().min(1),
    strategy: z.enum(
      ROLLOUT_STRATEGIES as [RolloutStrategy, ...RolloutStrategy[]],
    ),
    steps: z.array(z.number().int().min(1).max(100)).min(1).max(20).optional(),
    slo: z
      .object({
        minRequests: z.number().int().min(1).max(10_000_000).optional(),
        maxErrorRate: share.optional(),
        maxLatencyP95Ms: milliseconds.optional(),
        maxLatencyP99Ms: milliseconds.optional(),
        minAgreement: share.optional(),
        quality: z
          .object({
            metric: z.enum(['accuracy', 'mae', 'rmse']),
            min: z.number().finite().optional(),
            max: z.number().finite().optional(),
            minSamples: z.number().int().min(1).max(1_000_000).optional(),
          })
          .strict()
          .refine(
            q =>
              q.metric === 'accuracy'
                ? q.min !== undefined
                : q.max !== undefined,
            'accuracy needs a min, mae and rmse need a max',
          )
          .optional(),
      })
      .strict()
      .optional(),
    abKey: z
      .object({
        header: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a header name')
          .optional(),
        parameter: z.string().min(1).max(64).optional(),
      })
      .strict()
      .refine(k => k.header || k.parameter, 'name a header or a parameter')
      .optional(),
    comment,
  })
  .strict() satisfies z.ZodType<StartRolloutRequest>;
const actionBody = z
  .object({ comment })
  .strict() satisfies z.ZodType<RolloutActionRequest>;
const conversionBody = z
  .object({
    key: z.string().min(1).max(256),
    value: z.number().finite().min(0).optional(),
  })
  .strict() satisfies z.ZodType<ConversionRequest>;

/**
 * Deployments and rollouts: `/deployments/models/:name[/:environment[/...]]`.
 * Reads need `loopline.entity.read` on the Model entity; starting, promoting,
 * rolling back, pausing, resuming and recording A/B conversions need
 * `loopline.deployment.manage` on it.
 */
export function createRolloutRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  rollouts: RolloutService;
}): express.Router {
  const { rollouts } = options;
  const router = Router();
  const auth = createRequestAuth(options);
  const caller = auth.entityAuthorizer;

  router.get('/deployments/models/:name', async (req, res) => {
    const { name } = parseInput(modelParams, req.params, 'path');
    const { authorize } = await caller(req, mlopsEntityReadPermission);
    await authorize(await rollouts.entityRefOf(name));
    res.json(await rollouts.list(name));
  });

  router.get('/deployments/models/:name/:environment', async (req, res) => {
    const { name, environment } = parseInput(
      deploymentParams,
      req.params,
      'path',
    );
    const { credentials, authorize } = await caller(
      req,
      mlopsEntityReadPermission,
    );
    const entityRef = await rollouts.entityRefOf(name);
    await authorize(entityRef);
    const detail = await rollouts.detail(name, environment);
    res.json({
      ...detail,
      canManage: await auth.isAllowed(
        credentials,
        deploymentManagePermission,
        entityRef,
      ),
    });
  });

  router.post(
    '/deployments/models/:name/:environment/rollouts',
    async (req, res) => {
      const { name, environment } = parseInput(
        deploymentParams,
        req.params,
        'path',
      );
      const { credentials, authorize } = await caller(
        req,
        deploymentManagePermission,
      );
      const body = parseInput(startBody, req.body, 'rollout');
      res.status(201).json(
        await rollouts.start({
          modelName: name,
          environment,
          body,
          credentials,
          authorize,
        }),
      );
    },
  );

  router.post(
    '/deployments/models/:name/:environment/conversions',
    async (req, res) => {
      const { name, environment } = parseInput(
        deploymentParams,
        req.params,
        'path',
      );
      const { authorize } = await caller(req, deploymentManagePermission);
      const body = parseInput(conversionBody, req.body, 'conversion');
      res.status(201).json(
        await rollouts.recordConversion({
          modelName: name,
          environment,
          body,
          authorize,
        }),
      );
    },
  );

  router.post(
    '/deployments/models/:name/:environment/:action',
    async (req, res) => {
      const { name, environment, action } = parseInput(
        actionParams,
        req.params,
        'path',
      );
      const { credentials, authorize } = await caller(
        req,
        deploymentManagePermission,
      );
      const body = parseInput(actionBody, req.body ?? {}, `${action} request`);
      res.json(
        await rollouts.act({
          modelName: name,
          environment,
          action,
          comment: body.comment,
          credentials,
          authorize,
        }),
      );
    },
  );

  return router;
}
