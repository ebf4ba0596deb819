/**
 * Makes a deployment's target run what the stored state says (the stable
 * version, and the candidate at its live share while a rollout runs) and
 * stores what the target reports.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  DeploymentTargetKind,
  isUnfinished,
  liveCandidateWeight,
  ModelVersion,
} from '@loopline/mlops-common';
import type { RolloutRegistry } from './RolloutService';
import type { RolloutStore } from './RolloutStore';
import type {
  DeploymentTarget,
  DesiredDeployment,
  TargetVersion,
} from './types';

export class TargetReconciler {
  private readonly targets: Map<DeploymentTargetKind, DeploymentTarget>;
  private readonly store: RolloutStore;
  private readonly registry: Pick<RolloutRegistry, 'getVersion'>;
  private readonly storageUriOf: (version: ModelVersion) => string;
  private readonly logger: LoggerService;
  private readonly clock: () => number;

  constructor(options: {
    targets: DeploymentTarget[];
    store: RolloutStore;
    registry: Pick<RolloutRegistry, 'getVersion'>;
    /** Where a target fetches a version's ONNX file. */
    storageUriOf: (version: ModelVersion) => string;
    logger: LoggerService;
    clock: () => number;
  }) {
    this.targets = new Map(options.targets.map(t => [t.kind, t]));
    this.store = options.store;
    this.registry = options.registry;
    this.storageUriOf = options.storageUriOf;
    this.logger = options.logger;
    this.clock = options.clock;
  }

  /** The target of a kind, when configured. */
  target(kind: DeploymentTargetKind): DeploymentTarget | undefined {
    return this.targets.get(kind);
  }

  /**
   * Reads back what the targets that reconcile on their own (KServe) report,
   * so the status shown follows them between changes.
   */
  async refreshStatuses(): Promise<void> {
    for (const target of this.targets.values()) {
      if (target.kind === 'embedded') continue; // Its apply reports it all.
      for (const deployment of await this.store.listDeploymentsOfTarget(
        target.kind,
      )) {
        try {
          const status = await target.status(
            deployment.modelName,
            deployment.environment,
          );
          if (status) await this.store.setTargetStatus(deployment.id, status);
        } catch (error) {
          this.logger.warn(
            `Could not read the ${target.kind} status of ${
              deployment.modelName
            } in ${deployment.environment}: ${(error as Error)?.message}`,
          );
        }
      }
    }
  }

  /** Writes what should run to the deployment's target and stores its status. */
  async apply(deploymentId: string): Promise<void> {
    const deployment = await this.store.getDeploymentById(deploymentId);
    if (!deployment) return;
    const rollout = deployment.currentRolloutId
      ? await this.store.getRollout(deployment.currentRolloutId)
      : undefined;
    const running = rollout && isUnfinished(rollout) ? rollout : undefined;
    const target = this.targets.get(deployment.target);
    if (!target) return;
    const desired: DesiredDeployment = {
      modelName: deployment.modelName,
      entityRef: deployment.entityRef,
      environment: deployment.environment,
      ...(running ? { strategy: running.strategy } : {}),
      ...(deployment.stableVersion !== undefined
        ? {
            stable: await this.targetVersion(
              deployment.modelName,
              deployment.stableVersion,
            ),
          }
        : {}),
      ...(running
        ? {
            candidate: await this.targetVersion(
              deployment.modelName,
              running.candidateVersion,
            ),
          }
        : {}),
      candidatePercent: running ? liveCandidateWeight(running) : 0,
    };
    let status;
    try {
      if (running && desired.stable) {
        // A target that runs nothing yet (e.g. no InferenceService) starts
        // with stable alone, so that the candidate's share is taken from a
        // running stable revision rather than from nothing.
        const current = await target.status(
          deployment.modelName,
          deployment.environment,
        );
        if (!current) {
          await target.apply({
            ...desired,
            strategy: undefined,
            candidate: undefined,
            candidatePercent: 0,
          });
        }
      }
      status = await target.apply(desired);
    } catch (error) {
      status = {
        ready: false,
        message: (error as Error)?.message ?? String(error),
        observedAt: new Date(this.clock()).toISOString(),
      };
    }
    await this.store.setTargetStatus(deployment.id, status);
  }

  private async targetVersion(
    modelName: string,
    version: number,
  ): Promise<TargetVersion> {
    const described = await this.registry.getVersion(modelName, version);
    return {
      version,
      storageUri: this.storageUriOf(described),
      ...(described.artifact ? { sha256: described.artifact.sha256 } : {}),
    };
  }
}
