import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import Router from 'express-promise-router';
import { z } from 'zod';
import { mlopsEntityReadPermission } from '@loopline/mlops-common';
import { authorizeEntity } from '../lib/authorize';
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
  const { httpAuth, permissions, auditTrail } = options;
  const router = Router();

  /** The audit trail of one entity, newest first. */
  router.get('/audit', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const query = parseInput(listQuerySchema, req.query, 'audit query');
    await authorizeEntity(
      permissions,
      mlopsEntityReadPermission,
      query.entityRef,
      credentials,
    );
    res.json(await auditTrail.list(query));
  });

  return router;
}
