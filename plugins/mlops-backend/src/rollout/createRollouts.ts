import {
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import express from 'express';
import { Knex } from 'knex';
import type { Registry } from 'prom-client';
import type { AuditTrail } from '../audit';
import type { ModelSessions } from '../serving/ModelSessions';
import type { TrafficRouter } from '../serving/TrafficRouter';
import { readRolloutConfig, RolloutConfig } from './config';
import { EmbeddedDeploymentTarget, RolloutTrafficRouter } from './embedded';
import { KServeTarget } from './kserve/KServeTarget';
import {
  kubeConfigFor,
  readKServeConfig,
  storageUriFor,
} from './kserve/config';
import { InferenceLogRolloutReader, RolloutLogSource } from './logReader';
import { RolloutMetrics } from './metrics';
import { rolloutNotifier } from './notifications';
import { createRolloutRouter } from './router';
import { RolloutRegistry, RolloutService } from './RolloutService';
import { RolloutStore } from './RolloutStore';
import type { DeploymentTarget } from './types';

/** Everything of progressive delivery, built from the config. */
export interface Rollouts {
  config: RolloutConfig;
  store: RolloutStore;
  service: RolloutService;
  /**
   * Routes the embedded server's requests by the deployments stored
   * (rollouts first, else the Production router it was given).
   */
  trafficRouter: RolloutTrafficRouter;
  /** `/deployments/...` */
  router: express.Router;
}

/**
 * Wires the rollout store, service, targets (embedded, and KServe when
 * `mlops.kserve` is configured), traffic router, listeners and routes
 * together. Rollouts use serving, never the other way round: the embedded
 * server's sessions and Production router come in, and the traffic router
 * that goes back to it is built here.
 */
export function createRollouts(options: {
  db: Knex;
  /** The root config: `mlops.rollout` and `mlops.kserve` are read from it. */
  config: Config;
  registry: RolloutRegistry;
  auditTrail: AuditTrail;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
  notifications: NotificationService;
  /** The embedded server's parts the embedded target runs deployments in. */
  serving: {
    sessions: ModelSessions;
    /** Where requests of models without an embedded deployment go. */
    fallback: TrafficRouter;
  };
  /** The inference log the analysis reads, and the metrics registry the gauges go to. */
  inferenceLog: { store: RolloutLogSource; metrics: { registry: Registry } };
  /** Called when the embedded target applied a model's deployment. */
  onDeploymentApplied?: (modelName: string) => void;
}): Rollouts {
  const { db, registry, logger } = options;
  const config = readRolloutConfig(options.config);
  const store = new RolloutStore(db);
  const trafficRouter = new RolloutTrafficRouter({
    store,
    environment: config.servingEnvironment,
    environments: config.environments
      .filter(e => e.target === 'embedded')
      .map(e => e.name),
    fallback: options.serving.fallback,
    abKeyHeader: config.abKeyHeader,
  });

  const targets: DeploymentTarget[] = [
    new EmbeddedDeploymentTarget({
      sessions: options.serving.sessions,
      routedElsewhere: (model, environment) =>
        store.routedVersions(model, environment),
      onApplied: name => {
        trafficRouter.invalidate(name);
        options.onDeploymentApplied?.(name);
      },
    }),
  ];
  const kserveConfig = readKServeConfig(options.config);
  if (kserveConfig) {
    targets.push(
      new KServeTarget({
        kubeConfig: kubeConfigFor(kserveConfig),
        namespace: kserveConfig.namespace,
        loggerUrl: kserveConfig.loggerUrl,
        loggerToken: kserveConfig.loggerToken,
      }),
    );
  }

  const service = new RolloutService({
    store,
    registry,
    logReader: new InferenceLogRolloutReader(options.inferenceLog.store),
    targets,
    config,
    auditTrail: options.auditTrail,
    serviceCredentials: () => options.auth.getOwnServiceCredentials(),
    storageUriOf: version =>
      kserveConfig
        ? storageUriFor(kserveConfig.storageUriTemplate, {
            modelName: version.name,
            version: version.version,
            sha256: version.artifact?.sha256,
          })
        : `loopline://${version.name}/${version.version}`,
    logger,
    listeners: [
      new RolloutMetrics(options.inferenceLog.metrics.registry),
      rolloutNotifier({ notifications: options.notifications, logger }),
    ],
  });

  const router = createRolloutRouter({
    httpAuth: options.httpAuth,
    permissions: options.permissions,
    rollouts: service,
  });
  return { config, store, service, trafficRouter, router };
}
