/**
 * Progressive delivery: starts rollouts, applies users' actions and the
 * analysis' decisions to the stored state, and makes the targets match it.
 * The database is the truth; targets are told what to run after each change
 * (and again at startup), so a restart mid-rollout resumes from the stored
 * step.
 */
import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  ConversionRequest,
  Deployment,
  DeploymentDetail,
  DeploymentList,
  ModelVersion,
  RolloutAction,
  RolloutArm,
  RolloutControlAction,
  RolloutSlo,
  StartRolloutRequest,
  checkSteps,
  initialWeight,
  isUnfinished,
} from '@loopline/mlops-common';
import type { AuditTrail } from '../audit';
import type { RegistryService } from '../registry';
import { actorOf } from '../audit/AuditTrail';
import { isUniqueViolation } from '../lib/database';
import type { EntityAuthorizer } from '../lib/http';
import { armOfKey } from './abAssignment';
import { RolloutAnalyzer } from './analyzer';
import { TargetReconciler } from './TargetReconciler';
import { transitionOf, TransitionAction } from './stateMachine';
import { RolloutConfig, RolloutEnvironment } from './config';
import {
  DeploymentRecord,
  RolloutRecord,
  RolloutStore,
  StaleDeploymentError,
  toDeploymentView,
  toRolloutView,
} from './RolloutStore';
import type { DeploymentTarget, RolloutLogReader } from './types';

/** The actor of automatic decisions in the timeline. */
export const ANALYSIS_ACTOR = 'system:analysis';

export type RolloutRegistry = Pick<
  RegistryService,
  'getRegisteredModel' | 'getVersion' | 'getLatestVersions' | 'transitionStage'
>;

/** Told of every change (the owners' notifications, metrics, routing caches). */
export interface RolloutListener {
  onChange?(deployment: Deployment): void;
  /** A user's action or an automatic decision worth telling the owners. */
  onAction?(event: {
    deployment: Deployment;
    action: RolloutAction;
    actor: string;
    automatic: boolean;
    comment?: string;
  }): Promise<void> | void;
}

export interface RolloutServiceOptions {
  store: RolloutStore;
  registry: RolloutRegistry;
  logReader: RolloutLogReader;
  targets: DeploymentTarget[];
  config: RolloutConfig;
  auditTrail: AuditTrail;
  /** The plugin's own credentials, for automatic decisions. */
  serviceCredentials: () => Promise<BackstageCredentials>;
  /** Where a target fetches a version's ONNX file. */
  storageUriOf: (version: ModelVersion) => string;
  logger: LoggerService;
  listeners?: RolloutListener[];
  /** Milliseconds since the epoch; for tests. */
  clock?: () => number;
}

export class RolloutService {
  private readonly store: RolloutStore;
  private readonly registry: RolloutRegistry;
  private readonly analyzer: RolloutAnalyzer;
  private readonly reconciler: TargetReconciler;
  private readonly config: RolloutConfig;
  private readonly auditTrail: AuditTrail;
  private readonly serviceCredentials: () => Promise<BackstageCredentials>;
  private readonly logger: LoggerService;
  private readonly listeners: RolloutListener[];
  private readonly clock: () => number;

  constructor(options: RolloutServiceOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.analyzer = new RolloutAnalyzer({
      logReader: options.logReader,
      store: options.store,
    });
    this.reconciler = new TargetReconciler({
      targets: options.targets,
      store: options.store,
      registry: options.registry,
      storageUriOf: options.storageUriOf,
      logger: options.logger,
      clock: options.clock ?? Date.now,
    });
    this.config = options.config;
    this.auditTrail = options.auditTrail;
    this.serviceCredentials = options.serviceCredentials;
    this.logger = options.logger;
    this.listeners = [...(options.listeners ?? [])];
    this.clock = options.clock ?? Date.now;
  }

  addListener(listener: RolloutListener): void {
    this.listeners.push(listener);
  }

  get environments(): RolloutEnvironment[] {
    return this.config.environments;
  }

  // ---- reads ---------------------------------------------------------------

  /** The model's catalog entity (404 for an unknown model). */
  async entityRefOf(modelName: string): Promise<string> {
    return (await this.registry.getRegisteredModel(modelName)).entityRef;
  }

  async list(modelName: string): Promise<DeploymentList> {
    const records = await this.store.listDeployments(modelName);
    const items = await Promise.all(records.map(r => this.view(r)));
    return {
      items,
      environments: this.config.environments.map(e => ({
        name: e.name,
        target: e.target,
        ...(e.stage ? { stage: e.stage } : {}),
      })),
      defaults: {
        steps: this.config.defaultSteps,
        slo: this.config.defaultSlo,
      },
    };
  }

  async detail(
    modelName: string,
    environment: string,
  ): Promise<DeploymentDetail> {
    const record = await this.store.getDeployment(modelName, environment);
    if (!record) {
      throw new NotFoundError(
        `Model ${modelName} has no deployment in ${environment}`,
      );
    }
    const rollouts = await this.store.listRollouts(record.id);
    const current =
      rollouts.find(r => r.id === record.currentRolloutId) ?? rollouts[0];
    return {
      deployment: toDeploymentView(record, current),
      rollouts: rollouts.map(toRolloutView),
      analyses: current ? await this.store.listAnalyses(current.id) : [],
      events: await this.store.listEvents(record.id),
    };
  }

  // ---- user actions -------------------------------------------------------------

  async start(request: {
    modelName: string;
    environment: string;
    body: StartRolloutRequest;
    credentials: BackstageCredentials;
    authorize?: EntityAuthorizer;
  }): Promise<Deployment> {
    const { modelName, body, credentials } = request;
    const environment = this.requireEnvironment(request.environment);
    const model = await this.registry.getRegisteredModel(modelName);
    await request.authorize?.(model.entityRef);
    const target = this.requireTarget(environment);
    if (!target.strategies.includes(body.strategy)) {
      throw new InputError(
        `The ${target.kind} target cannot run a ${
          body.strategy
        } rollout; it runs ${target.strategies.join(', ')}`,
      );
    }
    const candidate = await this.requireVersion(modelName, body.version);
    if (!candidate.artifact) {
      throw new InputError(
        `Version ${candidate.version} of ${modelName} has no ONNX artifact to deploy`,
      );
    }
    if (this.config.requireStaging && candidate.stage !== 'Staging') {
      throw new InputError(
        `Only versions in Staging may be rolled out; version ${candidate.version} is in ${candidate.stage}`,
      );
    }
    const steps = body.steps ?? this.config.defaultSteps[body.strategy];
    const stepsProblem = checkSteps(body.strategy, steps);
    if (stepsProblem) {
      throw new InputError(
        `Invalid steps [${steps.join(', ')}]: ${stepsProblem}`,
      );
    }
    const slo: RolloutSlo = { ...this.config.defaultSlo, ...body.slo };
    const abKey =
      body.strategy === 'ab'
        ? body.abKey ?? { header: this.config.abKeyHeader }
        : undefined;
    const actor = actorOf(credentials);
    const now = this.clock();

    const { deployment, rollout } = await this.withDeployment(
      modelName,
      environment,
      model.entityRef,
      async (trx, current) => {
        if (current.currentRolloutId) {
          const running = await this.store.getRollout(
            current.currentRolloutId,
            trx,
          );
          if (running && isUnfinished(running)) {
            throw new ConflictError(
              `A ${running.strategy} rollout of version ${running.candidateVersion} is ${running.state} in ${environment.name}; promote or roll it back first`,
            );
          }
        }
        if (current.stableVersion === candidate.version) {
          throw new InputError(
            `Version ${candidate.version} is already the stable version in ${environment.name}`,
          );
        }
        const first = current.stableVersion === undefined;
        const created = await this.store.insertRollout(trx, {
          deploymentId: current.id,
          strategy: body.strategy,
          // A first deployment has nothing to compare with: it is promoted at once.
          state: first ? 'promoted' : 'progressing',
          ...(current.stableVersion !== undefined
            ? { stableVersion: current.stableVersion }
            : {}),
          candidateVersion: candidate.version,
          steps,
          stepIndex: first ? steps.length - 1 : 0,
          weight: first ? 100 : initialWeight(body.strategy, steps),
          switched: first,
          slo,
          ...(abKey ? { abKey } : {}),
          startedBy: actor,
          startedAt: now,
          stepStartedAt: now,
          ...(first ? { finishedAt: now, reason: 'first deployment' } : {}),
        });
        await this.store.updateDeployment(trx, current, {
          currentRolloutId: created.id,
          ...(first ? { stableVersion: candidate.version } : {}),
          updatedAt: now,
        });
        await this.store.insertEvent(
          {
            deploymentId: current.id,
            rolloutId: created.id,
            action: first ? 'promote' : 'start',
            actor,
            automatic: false,
            fromWeight: 0,
            toWeight: first ? 100 : created.weight,
            comment: body.comment ?? (first ? 'first deployment' : undefined),
            createdAt: now,
          },
          trx,
        );
        await this.auditTrail.record(
          {
            entityRef: model.entityRef,
            action: 'deployment.rollout.start',
            credentials,
            comment: body.comment,
            details: {
              environment: environment.name,
              strategy: body.strategy,
              candidateVersion: candidate.version,
              stableVersion: current.stableVersion ?? null,
              steps,
            },
          },
          trx,
        );
        return { deployment: current, rollout: created };
      },
    );

    // The registry first: what applies the change and what hears of it
    // then see the promoted version in the environment's stage.
    if (rollout.state === 'promoted') {
      await this.updateRegistryOnPromotion(
        environment,
        modelName,
        rollout,
        credentials,
      );
    }
    return this.afterChange(
      deployment.id,
      rollout.state === 'promoted' ? 'promote' : 'start',
      actor,
      false,
      body.comment,
    );
  }

  /** Promote, roll back, pause or resume the running rollout. */
  async act(request: {
    modelName: string;
    environment: string;
    action: RolloutControlAction;
    comment?: string;
    credentials: BackstageCredentials;
    authorize?: EntityAuthorizer;
  }): Promise<Deployment> {
    const environment = this.requireEnvironment(request.environment);
    const model = await this.registry.getRegisteredModel(request.modelName);
    await request.authorize?.(model.entityRef);
    return this.transition({
      modelName: model.name,
      entityRef: model.entityRef,
      environment,
      action: request.action,
      actor: actorOf(request.credentials),
      automatic: false,
      comment: request.comment,
      credentials: request.credentials,
    });
  }

  /** Records an A/B outcome for the arm the key is assigned to. */
  async recordConversion(request: {
    modelName: string;
    environment: string;
    body: ConversionRequest;
    authorize?: EntityAuthorizer;
  }): Promise<{ arm: RolloutArm }> {
    const environment = this.requireEnvironment(request.environment);
    const model = await this.registry.getRegisteredModel(request.modelName);
    await request.authorize?.(model.entityRef);
    const deployment = await this.store.getDeployment(
      model.name,
      environment.name,
    );
    const rollout = deployment?.currentRolloutId
      ? await this.store.getRollout(deployment.currentRolloutId)
      : undefined;
    if (!rollout || rollout.strategy !== 'ab' || !isUnfinished(rollout)) {
      throw new ConflictError(
        `Model ${model.name} has no A/B rollout running in ${environment.name}`,
      );
    }
    const arm = armOfKey(rollout, request.body.key);
    await this.store.insertConversion({
      rolloutId: rollout.id,
      arm,
      key: request.body.key,
      value: request.body.value ?? 1,
      createdAt: this.clock(),
    });
    return { arm };
  }

  // ---- analysis ---------------------------------------------------------------

  /** One analysis of every progressing rollout (the scheduled task). */
  async analyzeAll(): Promise<void> {
    for (const { deployment, rollout } of await this.store.listUnfinished()) {
      if (rollout.state !== 'progressing') continue;
      try {
        await this.analyze(deployment, rollout);
      } catch (error) {
        this.logger.error(
          `Analysis of rollout ${rollout.id} (${deployment.modelName} in ${deployment.environment}) failed`,
          error as Error,
        );
      }
    }
  }

  /**
   * Reads back what the targets that reconcile on their own (KServe) report,
   * so the status shown follows them between changes.
   */
  async refreshTargetStatuses(): Promise<void> {
    await this.reconciler.refreshStatuses();
  }

  /**
   * Makes every target match the stored state (at startup: resume
   * mid-rollout) and tells the listeners where each deployment stands.
   */
  async reconcileAll(): Promise<void> {
    for (const { deployment } of await this.store.listUnfinished()) {
      try {
        await this.reconciler.apply(deployment.id);
      } catch (error) {
        this.logger.warn(
          `Could not re-apply the deployment of ${deployment.modelName} in ${
            deployment.environment
          }: ${(error as Error)?.message}`,
        );
      }
    }
    // Listeners (the gauges) learn the state of every deployment again.
    for (const record of await this.store.listAllDeployments()) {
      const view = await this.view(record);
      this.tellChanged(view);
    }
  }

  private async analyze(
    deployment: DeploymentRecord,
    rollout: RolloutRecord,
  ): Promise<void> {
    const now = this.clock();
    const { analysis, result } = await this.analyzer.analyze(
      deployment,
      rollout,
      now,
    );
    await this.store.insertAnalysis(analysis);

    const environment = this.requireEnvironment(deployment.environment);
    const base = {
      modelName: deployment.modelName,
      entityRef: deployment.entityRef,
      environment,
      actor: ANALYSIS_ACTOR,
      automatic: true,
      // Only if nothing changed since this analysis read the rollout.
      expect: {
        rolloutId: rollout.id,
        stepIndex: rollout.stepIndex,
        switched: rollout.switched,
      },
    };
    if (result.verdict === 'fail') {
      const failed = result.checks
        .filter(c => c.verdict === 'fail')
        .map(c => c.message)
        .join('; ');
      await this.transition({
        ...base,
        action: 'rollback',
        comment: `Analysis failed: ${failed}`,
      });
    } else if (result.verdict === 'pass') {
      await this.transition({
        ...base,
        action: 'advance',
        comment: 'Analysis passed',
      });
    } else {
      await this.store.transaction(trx =>
        this.store.updateRollout(trx, rollout.id, { lastAnalysisAt: now }),
      );
      await this.notifyChange(deployment.id);
    }
  }

  // ---- state changes ---------------------------------------------------------------

  /**
   * Applies one action under the deployment's lock: the state is read,
   * checked and written in one transaction, so concurrent actions are
   * applied one after the other and the later one sees the earlier's result
   * (and is refused with 409 when it no longer applies).
   */
  private async transition(request: {
    modelName: string;
    entityRef: string;
    environment: RolloutEnvironment;
    action: TransitionAction;
    actor: string;
    automatic: boolean;
    comment?: string;
    credentials?: BackstageCredentials;
    expect?: { rolloutId: string; stepIndex: number; switched: boolean };
  }): Promise<Deployment> {
    const { environment, action, actor, automatic, comment } = request;
    const credentials =
      request.credentials ?? (await this.serviceCredentials());
    const now = this.clock();
    const outcome = await this.withDeployment(
      request.modelName,
      environment,
      request.entityRef,
      async (trx, deployment) => {
        const rollout = deployment.currentRolloutId
          ? await this.store.getRollout(deployment.currentRolloutId, trx)
          : undefined;
        if (!rollout) {
          throw new ConflictError(
            `Model ${request.modelName} has no rollout in ${environment.name}`,
          );
        }
        const expect = request.expect;
        if (
          expect &&
          (expect.rolloutId !== rollout.id ||
            expect.stepIndex !== rollout.stepIndex ||
            expect.switched !== rollout.switched ||
            rollout.state !== 'progressing')
        ) {
          return undefined; // Overtaken by another change: this decision is void.
        }
        const transition = transitionOf(rollout, action, {
          now,
          automatic,
          comment,
        });
        if (!transition) {
          throw new ConflictError(
            `Cannot ${action} the rollout of version ${
              rollout.candidateVersion
            } in ${environment.name}: it is ${rollout.state.replace('_', ' ')}`,
          );
        }
        const { fromWeight, toWeight } = transition;
        const effective = transition.action;
        if (transition.rollout) {
          await this.store.updateRollout(trx, rollout.id, transition.rollout);
        }
        await this.store.updateDeployment(trx, deployment, {
          ...transition.deployment,
          updatedAt: now,
        });
        await this.store.insertEvent(
          {
            deploymentId: deployment.id,
            rolloutId: rollout.id,
            action: effective,
            actor,
            automatic,
            fromWeight,
            toWeight,
            ...(comment ? { comment } : {}),
            createdAt: now,
          },
          trx,
        );
        await this.auditTrail.record(
          {
            entityRef: deployment.entityRef,
            action: `deployment.rollout.${effective}`,
            credentials,
            comment,
            details: {
              environment: environment.name,
              strategy: rollout.strategy,
              candidateVersion: rollout.candidateVersion,
              stableVersion: rollout.stableVersion ?? null,
              fromWeight,
              toWeight,
              automatic,
            },
          },
          trx,
        );
        return { deployment, rollout, effective };
      },
    );
    if (!outcome) {
      const current = await this.store.getDeployment(
        request.modelName,
        environment.name,
      );
      return this.view(current!);
    }
    if (outcome.effective === 'promote') {
      await this.updateRegistryOnPromotion(
        environment,
        request.modelName,
        outcome.rollout,
        credentials,
      );
    }
    return this.afterChange(
      outcome.deployment.id,
      outcome.effective,
      actor,
      automatic,
      comment,
    );
  }

  /**
   * Runs `fn` on the deployment's row (created on first use) in a
   * transaction holding its lock; retried once if another writer moved the
   * revision first.
   */
  private async withDeployment<T>(
    modelName: string,
    environment: RolloutEnvironment,
    entityRef: string,
    fn: (
      trx: Parameters<Parameters<RolloutStore['transaction']>[0]>[0],
      deployment: DeploymentRecord,
    ) => Promise<T>,
  ): Promise<T> {
    // Read outside the transaction: SQLite has one connection, held by it.
    const seed = (await this.store.getDeployment(modelName, environment.name))
      ? {}
      : await this.stableFromRegistry(modelName, environment);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async trx => {
          let deployment = await this.store.getDeployment(
            modelName,
            environment.name,
            { trx, forUpdate: true },
          );
          if (!deployment) {
            const now = this.clock();
            deployment = await this.store.createDeployment(trx, {
              modelName,
              entityRef,
              environment: environment.name,
              target: environment.target,
              ...seed,
              createdAt: now,
              updatedAt: now,
            });
          }
          return fn(trx, deployment);
        });
      } catch (error) {
        const retriable =
          error instanceof StaleDeploymentError || isUniqueViolation(error);
        if (!retriable || attempt >= 2) {
          if (error instanceof StaleDeploymentError) {
            throw new ConflictError(
              `The deployment of ${modelName} in ${environment.name} was changed by another request; try again`,
            );
          }
          throw error;
        }
      }
    }
  }

  /** A new deployment starts from the version in the environment's stage. */
  private async stableFromRegistry(
    modelName: string,
    environment: RolloutEnvironment,
  ): Promise<{ stableVersion?: number }> {
    if (!environment.stage) return {};
    const [current] = await this.registry.getLatestVersions(modelName, [
      environment.stage,
    ]);
    return current?.artifact ? { stableVersion: current.version } : {};
  }

  /** Tells the target, the listeners and the owners; returns the new view. */
  private async afterChange(
    deploymentId: string,
    action: RolloutAction,
    actor: string,
    automatic: boolean,
    comment?: string,
  ): Promise<Deployment> {
    await this.reconciler
      .apply(deploymentId)
      .catch(error =>
        this.logger.warn(
          `Could not apply deployment ${deploymentId} to its target: ${
            (error as Error)?.message
          }`,
        ),
      );
    const record = await this.store.getDeploymentById(deploymentId);
    const view = await this.view(record!);
    for (const listener of this.listeners) {
      try {
        listener.onChange?.(view);
        await listener.onAction?.({
          deployment: view,
          action,
          actor,
          automatic,
          ...(comment ? { comment } : {}),
        });
      } catch (error) {
        this.logger.warn(
          `A rollout listener failed: ${(error as Error)?.message}`,
        );
      }
    }
    return view;
  }

  /**
   * Tells the listeners where a deployment stands now. Never throws: a
   * failing listener or database read is logged, so that it cannot fail
   * the analysis that asked (nor become an unhandled rejection).
   */
  private async notifyChange(deploymentId: string): Promise<void> {
    try {
      const record = await this.store.getDeploymentById(deploymentId);
      if (!record) return;
      this.tellChanged(await this.view(record));
    } catch (error) {
      this.logger.warn(
        `Could not tell the rollout listeners of deployment ${deploymentId}: ${
          (error as Error)?.message
        }`,
      );
    }
  }

  /** Each listener's onChange; one that throws is logged and skipped. */
  private tellChanged(view: Deployment): void {
    for (const listener of this.listeners) {
      try {
        listener.onChange?.(view);
      } catch (error) {
        this.logger.warn(
          `A rollout listener failed: ${(error as Error)?.message}`,
        );
      }
    }
  }

  /** The candidate takes the environment's stage; the previous one is archived (or kept). */
  private async updateRegistryOnPromotion(
    environment: RolloutEnvironment,
    modelName: string,
    rollout: RolloutRecord,
    credentials: BackstageCredentials,
  ): Promise<void> {
    if (!environment.stage) return;
    try {
      await this.registry.transitionStage({
        name: modelName,
        version: rollout.candidateVersion,
        stage: environment.stage,
        archiveExistingVersions: this.config.archivePrevious,
        comment: `Promoted by the ${rollout.strategy} rollout in ${environment.name}`,
        credentials,
      });
    } catch (error) {
      this.logger.warn(
        `Promoted version ${
          rollout.candidateVersion
        } of ${modelName} but could not move it to ${environment.stage}: ${
          (error as Error)?.message
        }`,
      );
    }
  }

  private async view(record: DeploymentRecord): Promise<Deployment> {
    const rollout = record.currentRolloutId
      ? await this.store.getRollout(record.currentRolloutId)
      : undefined;
    return toDeploymentView(record, rollout);
  }

  private requireEnvironment(name: string): RolloutEnvironment {
    const environment = this.config.environments.find(e => e.name === name);
    if (!environment) {
      throw new NotFoundError(
        `No environment ${name}; configured: ${this.config.environments
          .map(e => e.name)
          .join(', ')}`,
      );
    }
    return environment;
  }

  private requireTarget(environment: RolloutEnvironment): DeploymentTarget {
    const target = this.reconciler.target(environment.target);
    if (!target) {
      throw new InputError(
        `The ${environment.target} target of ${environment.name} is not configured`,
      );
    }
    return target;
  }

  private async requireVersion(
    modelName: string,
    version: number,
  ): Promise<ModelVersion> {
    try {
      return await this.registry.getVersion(modelName, version);
    } catch (error) {
      if ((error as Error)?.name === 'NotFoundError') {
        throw new InputError(`Model ${modelName} has no version ${version}`);
      }
      throw error;
    }
  }
}
