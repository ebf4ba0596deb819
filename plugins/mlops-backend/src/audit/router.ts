import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import Router from 'express-promise-router';
import { z } from 'zod';
import { mlopsEntityReadPermission } from '@loopline/mlops-common';
import { createRequestAuth } from '../lib/http';
import { entityRefSchema, parseInput } from '../lib/validation';
import { AuditTrail } from './AuditTrail';

const listQuerySchema = z
  .object({
    entityRef: entityRefSchema,
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();

export function createAuditRouter(options: {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditTrail: AuditTrail;
}) {
  const { auditTrail } = options;
  const router = Router();
  const auth = createRequestAuth(options);

  /** The audit trail of one entity, newest first. */
  router.get('/audit', async (req, res) => {
    const credentials = await auth.credentialsOf(req);
    const query = parseInput(listQuerySchema, req.query, 'audit query');
    await auth.authorize(
      credentials,
      mlopsEntityReadPermission,
      query.entityRef,
    );
    res.json(await auditTrail.list(query));
  });

  return router;
}
