/**
 * The embedded target: the portal's own server runs the deployment. Its
 * traffic router sends each request by the rollout's weights; applying a
 * deployment loads the versions it needs (so a candidate that cannot load is
 * seen at once) and refreshes the routing.
 */
import { InputError, NotFoundError } from '@backstage/errors';
import {
  DeploymentTargetStatus,
  ROLLOUT_ENDPOINTS,
  ROLLOUT_STRATEGIES,
  isMirrored,
  isUnfinished,
  mirroredShare,
} from '@loopline/mlops-common';
import type { ModelSessions } from '../serving/ModelSessions';
import type {
  RoutingHints,
  TrafficRoute,
  TrafficRouter,
} from '../serving/TrafficRouter';
import { TtlCache } from '../lib/TtlCache';
import { bucketOfRequest } from './abAssignment';
import type {
  DeploymentRecord,
  RolloutRecord,
  RolloutStore,
} from './RolloutStore';
import type { DeploymentTarget, DesiredDeployment } from './types';

const ENDPOINTS = ROLLOUT_ENDPOINTS;

type Routing =
  | { deployment: DeploymentRecord; rollout?: RolloutRecord }
  | undefined;

/** The request header that picks another embedded environment than the default. */
export const ENVIRONMENT_HEADER = 'x-loopline-environment';

/**
 * Routes a model's requests by its deployment in the serving environment
 * (or the embedded environment a request names in `x-loopline-environment`,
 * e.g. staging); a model without a deployment in the default environment is
 * routed by `fallback` (its Production version).
 */
export class RolloutTrafficRouter implements TrafficRouter {
  private readonly cache: TtlCache<Routing>;

  constructor(
    private readonly options: {
      store: Pick<RolloutStore, 'getDeployment' | 'getRollout'>;
      /** The environment whose deployments this server runs by default. */
      environment: string;
      /** Every embedded environment a request may name; default just `environment`. */
      environments?: string[];
      fallback: TrafficRouter;
      /** The header an A/B rollout reads its key from unless it names another. */
      abKeyHeader: string;
      /** How long a model's routing is reused. Default 1000 ms. */
      cacheTtlMs?: number;
    },
  ) {
    this.cache = new TtlCache<Routing>({ ttlMs: options.cacheTtlMs ?? 1000 });
  }

  private get environments(): string[] {
    return this.options.environments ?? [this.options.environment];
  }

  /** Forgets a model's routing (after a change in this process), or all. */
  invalidate(modelName?: string): void {
    if (modelName === undefined) {
      this.cache.invalidate();
      return;
    }
    for (const environment of this.environments) {
      this.cache.invalidate(`${environment}\u0000${modelName}`);
    }
  }

  async resolve(
    modelName: string,
    requestKey?: string,
    hints?: RoutingHints,
  ): Promise<TrafficRoute> {
    const asked = hints?.header(ENVIRONMENT_HEADER);
    const environment = asked || this.options.environment;
    if (!this.environments.includes(environment)) {
      throw new InputError(
        `No embedded environment ${environment}; ${ENVIRONMENT_HEADER} may be ${this.environments.join(
          ', ',
        )}`,
      );
    }
    const routing = await this.cache.get(
      `${environment}\u0000${modelName}`,
      () => this.routingOf(modelName, environment),
    );
    if (!routing || routing.deployment.stableVersion === undefined) {
      if (environment !== this.options.environment) {
        throw new NotFoundError(
          `Model ${modelName} has no deployment in ${environment}`,
        );
      }
      return this.options.fallback.resolve(modelName, requestKey, hints);
    }
    const stable = {
      version: routing.deployment.stableVersion,
      endpoint: ENDPOINTS.stable,
    };
    const rollout = routing.rollout;
    if (!rollout || !isUnfinished(rollout)) {
      return stable;
    }
    const candidate = rollout.candidateVersion;
    const bucket = bucketOfRequest(rollout, {
      requestKey,
      hints,
      abKeyHeader: this.options.abKeyHeader,
    });
    if (isMirrored(rollout)) {
      return bucket < mirroredShare(rollout)
        ? {
            ...stable,
            mirror: { version: candidate, endpoint: ENDPOINTS.shadow },
          }
        : stable;
    }
    if (bucket < rollout.weight) {
      return {
        version: candidate,
        endpoint: ENDPOINTS.candidate,
        fallback: stable,
      };
    }
    return stable;
  }

  /** The model's embedded deployment there and the rollout running there, if any. */
  private async routingOf(
    modelName: string,
    environment: string,
  ): Promise<Routing> {
    const { store } = this.options;
    const deployment = await store.getDeployment(modelName, environment);
    if (!deployment || deployment.target !== 'embedded') return undefined;
    const rollout = deployment.currentRolloutId
      ? await store.getRollout(deployment.currentRolloutId)
      : undefined;
    return { deployment, rollout };
  }
}

/** Runs deployments in this backend's own sessions. */
export class EmbeddedDeploymentTarget implements DeploymentTarget {
  readonly kind = 'embedded' as const;
  readonly strategies = ROLLOUT_STRATEGIES;

  constructor(
    private readonly options: {
      sessions: Pick<ModelSessions, 'get' | 'loadedVersions' | 'unload'>;
      /**
       * The versions of a model that its other embedded environments route:
       * applying a deployment unloads the model's versions that no
       * environment routes any more (e.g. a replaced stable).
       */
      routedElsewhere?: (
        modelName: string,
        environment: string,
      ) => Promise<number[]>;
      /** Called after each apply so the routing is re-read at once. */
      onApplied?: (modelName: string) => void;
      clock?: () => number;
    },
  ) {}

  async apply(desired: DesiredDeployment): Promise<DeploymentTargetStatus> {
    const clock = this.options.clock ?? Date.now;
    this.options.onApplied?.(desired.modelName);
    const versions = [desired.stable, desired.candidate].filter(
      (v): v is NonNullable<typeof v> => v !== undefined,
    );
    // Load (and warm up) what will be routed, so a candidate that cannot
    // load is reported now rather than on a user's request.
    for (const version of versions) {
      try {
        await this.options.sessions.get(desired.modelName, version.version);
      } catch (error) {
        return {
          ready: false,
          failedVersion: version.version,
          message: `Version ${version.version} cannot be loaded: ${
            (error as Error)?.message
          }`,
          observedAt: new Date(clock()).toISOString(),
        };
      }
    }
    if (this.options.routedElsewhere) {
      const routed = new Set([
        ...versions.map(v => v.version),
        ...(await this.options.routedElsewhere(
          desired.modelName,
          desired.environment,
        )),
      ]);
      for (const loaded of this.options.sessions.loadedVersions(
        desired.modelName,
      )) {
        if (!routed.has(loaded)) {
          await this.options.sessions.unload(desired.modelName, loaded);
        }
      }
    }
    return {
      ready: true,
      resource: `embedded/${desired.modelName}`,
      traffic: trafficOf(desired),
      observedAt: new Date(clock()).toISOString(),
    };
  }

  /** This server always runs: there is no object to create first. */
  async status(modelName: string): Promise<DeploymentTargetStatus> {
    const clock = this.options.clock ?? Date.now;
    return {
      ready: true,
      resource: `embedded/${modelName}`,
      observedAt: new Date(clock()).toISOString(),
    };
  }
}

function trafficOf(
  desired: DesiredDeployment,
): DeploymentTargetStatus['traffic'] {
  const traffic: NonNullable<DeploymentTargetStatus['traffic']> = [];
  if (desired.stable) {
    traffic.push({
      name: `v${desired.stable.version}`,
      percent: 100 - desired.candidatePercent,
    });
  }
  if (desired.candidate) {
    traffic.push({
      name: `v${desired.candidate.version}`,
      percent: desired.candidatePercent,
      latest: true,
    });
  }
  return traffic;
}
