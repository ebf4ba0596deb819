import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { mlopsPermissions } from '@loopline/mlops-common';
import { applyMigrations } from './database/migrations';
import { AuditStore, AuditTrail, createAuditRouter } from './audit';
import { createInfoRouter, InfoService } from './info';
import { createRouter } from './router';

/**
 * Loopline's backend plugin: the ML lifecycle API under `/api/mlops`.
 *
 * @public
 */
export const mlopsPlugin = createBackendPlugin({
  pluginId: 'mlops',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
      },
      async init({
        config,
        database,
        httpAuth,
        httpRouter,
        permissions,
        permissionsRegistry,
        auditor,
      }) {
        const db = await database.getClient();
        if (!database.migrations?.skip) {
          await applyMigrations(db);
        }
        permissionsRegistry.addPermissions(mlopsPermissions);

        const auditTrail = new AuditTrail(new AuditStore(db), auditor);
        const infoService = new InfoService(db);

        httpRouter.use(
          createRouter({
            jsonBodyLimit:
              config.getOptionalString('mlops.api.jsonBodyLimit') ?? '1mb',
            routers: [
              createInfoRouter({ httpAuth, infoService }),
              createAuditRouter({ httpAuth, permissions, auditTrail }),
            ],
          }),
        );
      },
    });
  },
});
