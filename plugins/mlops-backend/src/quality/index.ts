import {
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { CatalogService } from '@backstage/plugin-catalog-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import { Knex } from 'knex';
import type { AuditTrail } from '../audit';
import type { RegistryService } from '../registry';
import { CatalogQualitySource } from './catalog';
import { DatasetValidationService } from './DatasetValidationService';
import { GateService } from './GateService';
import { QualityStore } from './QualityStore';
import { createQualityRouter } from './router';

export { runExpectations } from './expectations';
export { evaluateGates, probeLatencyP95 } from './gates';
export { GateService } from './GateService';
export type { ModelSource } from './GateService';
export { DatasetValidationService } from './DatasetValidationService';
export type { DatasetEntitySource } from './DatasetValidationService';
export { QualityStore } from './QualityStore';
export { createQualityRouter } from './router';

/** Data docs (Dataset validations) and Model gates, wired over the catalog. */
export function createQuality(options: {
  db: Knex;
  auth: AuthService;
  catalog: CatalogService;
  registry: RegistryService;
  auditTrail: AuditTrail;
  notifications: NotificationService;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
}) {
  const store = new QualityStore(options.db);
  const source = new CatalogQualitySource(options.catalog, options.auth);
  const gates = new GateService({
    store,
    registry: options.registry,
    models: source,
    auditTrail: options.auditTrail,
    notifications: options.notifications,
    logger: options.logger,
  });
  const validations = new DatasetValidationService({
    store,
    datasets: source,
    auditTrail: options.auditTrail,
  });
  return {
    gates,
    validations,
    router: createQualityRouter({
      httpAuth: options.httpAuth,
      permissions: options.permissions,
      registry: options.registry,
      validations,
      gates,
    }),
  };
}
