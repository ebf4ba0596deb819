import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { mlopsEntityReadPermission } from '@loopline/mlops-common';
import { createRequestAuth } from '../lib/http';
import { parseInput } from '../lib/validation';
import type { RegistryService } from '../registry';
import { DatasetValidationService } from './DatasetValidationService';
import { GateService } from './GateService';

const datasetParams = z
  .object({
    namespace: z.string().min(1).max(256),
    name: z.string().min(1).max(256),
  })
  .passthrough();
const limitQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(200).default(20) })
  .strict();
const gateQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    version: z.coerce.number().int().min(1).optional(),
  })
  .strict();

/**
 * Data docs and gate results: `GET /datasets/:namespace/:name/validations`
 * and `GET /gates/models/:name/results`; reading needs
 * `loopline.entity.read` on the Dataset or the Model.
 */
export function createQualityRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  registry: Pick<RegistryService, 'getRegisteredModel'>;
  validations: DatasetValidationService;
  gates: GateService;
}): express.Router {
  const router = Router();
  const auth = createRequestAuth({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    getModel: name => options.registry.getRegisteredModel(name),
  });

  router.get('/datasets/:namespace/:name/validations', async (req, res) => {
    const credentials = await auth.credentialsOf(req);
    const { namespace, name } = parseInput(datasetParams, req.params, 'path');
    const { limit } = parseInput(limitQuery, req.query, 'query');
    const entityRef = `dataset:${namespace}/${name}`.toLocaleLowerCase('en-US');
    await auth.authorize(credentials, mlopsEntityReadPermission, entityRef);
    res.json({ items: await options.validations.list(entityRef, limit) });
  });

  router.get('/gates/models/:name/results', async (req, res) => {
    const { model } = await auth.authorizedModel(
      req,
      mlopsEntityReadPermission,
    );
    const query = parseInput(gateQuery, req.query, 'query');
    res.json({ items: await options.gates.list(model.name, query) });
  });

  return router;
}
