import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import type {
  DeploymentTargetKind,
  RolloutSlo,
  RolloutStrategy,
} from '@loopline/mlops-common';
import type { ModelStage } from '@loopline/mlops-common';
import {
  checkSteps,
  DEFAULT_ROLLOUT_STEPS,
  DEPLOYMENT_TARGET_KINDS,
} from '@loopline/mlops-common';

/** An environment models are deployed to. */
export interface RolloutEnvironment {
  name: string;
  target: DeploymentTargetKind;
  /** The registry stage a promotion moves the candidate to (e.g. Production). */
  stage?: ModelStage;
}

/** `mlops.rollout.*` with defaults. */
export interface RolloutConfig {
  environments: RolloutEnvironment[];
  /** The environment whose deployment routes the embedded server's requests. */
  servingEnvironment: string;
  analysisIntervalMs: number;
  defaultSlo: RolloutSlo;
  defaultSteps: Record<RolloutStrategy, number[]>;
  /** Only versions in Staging may be rolled out. */
  requireStaging: boolean;
  /** Promotion archives the version that was in the environment's stage. */
  archivePrevious: boolean;
  /** The header A/B keys are read from unless a rollout names another. */
  abKeyHeader: string;
}

export const DEFAULT_SLO: RolloutSlo = {
  minRequests: 50,
  maxErrorRate: 0.01,
  maxLatencyP99Ms: 250,
};

const STAGES: ModelStage[] = ['None', 'Staging', 'Production', 'Archived'];

/**
 * Reads `mlops.rollout`: `environments` (default production → Production and
 * staging → Staging, both embedded), `servingEnvironment` (production),
 * `analysisInterval` (30 s), `slo`, `steps`, `requireStaging` (false),
 * `archivePrevious` (true), `abKeyHeader` (`x-loopline-ab-key`).
 */
export function readRolloutConfig(config: Config): RolloutConfig {
  const rollout = config.getOptionalConfig('mlops.rollout');
  const environments = rollout
    ?.getOptionalConfigArray('environments')
    ?.map(env => {
      const name = env.getString('name');
      if (!/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(name)) {
        throw new Error(
          `Invalid config mlops.rollout.environments: "${name}" must be lower-case letters, digits and dashes (at most 32)`,
        );
      }
      const target = (env.getOptionalString('target') ??
        'embedded') as DeploymentTargetKind;
      if (!DEPLOYMENT_TARGET_KINDS.includes(target)) {
        throw new Error(
          `Invalid config mlops.rollout.environments[${name}].target: "${target}"; use embedded or kserve`,
        );
      }
      const stage = env.getOptionalString('stage') as ModelStage | undefined;
      if (stage !== undefined && !STAGES.includes(stage)) {
        throw new Error(
          `Invalid config mlops.rollout.environments[${name}].stage: "${stage}"; use one of ${STAGES.join(
            ', ',
          )}`,
        );
      }
      return { name, target, ...(stage ? { stage } : {}) };
    }) ?? [
    { name: 'production', target: 'embedded', stage: 'Production' },
    { name: 'staging', target: 'embedded', stage: 'Staging' },
  ];

  const sloConfig = rollout?.getOptionalConfig('slo');
  const defaultSlo: RolloutSlo = {
    minRequests:
      sloConfig?.getOptionalNumber('minRequests') ?? DEFAULT_SLO.minRequests,
    maxErrorRate:
      sloConfig?.getOptionalNumber('maxErrorRate') ?? DEFAULT_SLO.maxErrorRate,
  };
  const p95 = sloConfig?.getOptionalNumber('maxLatencyP95Ms');
  if (p95 !== undefined) defaultSlo.maxLatencyP95Ms = p95;
  const p99 =
    sloConfig?.getOptionalNumber('maxLatencyP99Ms') ??
    DEFAULT_SLO.maxLatencyP99Ms;
  if (p99 !== undefined) defaultSlo.maxLatencyP99Ms = p99;
  const minAgreement = sloConfig?.getOptionalNumber('minAgreement');
  if (minAgreement !== undefined) defaultSlo.minAgreement = minAgreement;

  const defaultSteps = { ...DEFAULT_ROLLOUT_STEPS };
  for (const strategy of Object.keys(
    DEFAULT_ROLLOUT_STEPS,
  ) as RolloutStrategy[]) {
    const steps = rollout?.getOptional<unknown>(`steps.${strategy}`);
    if (steps !== undefined) {
      const problem =
        Array.isArray(steps) && steps.every(w => typeof w === 'number')
          ? checkSteps(strategy, steps)
          : 'must be a list of numbers';
      if (problem) {
        throw new Error(
          `Invalid config mlops.rollout.steps.${strategy}: ${problem}`,
        );
      }
      defaultSteps[strategy] = steps as number[];
    }
  }

  const servingEnvironment =
    rollout?.getOptionalString('servingEnvironment') ?? 'production';
  return {
    environments,
    servingEnvironment,
    analysisIntervalMs: rollout?.has('analysisInterval')
      ? durationToMilliseconds(
          readDurationFromConfig(rollout, { key: 'analysisInterval' }),
        )
      : 30_000,
    defaultSlo,
    defaultSteps,
    requireStaging: rollout?.getOptionalBoolean('requireStaging') ?? false,
    archivePrevious: rollout?.getOptionalBoolean('archivePrevious') ?? true,
    abKeyHeader:
      rollout?.getOptionalString('abKeyHeader')?.toLowerCase() ??
      'x-loopline-ab-key',
  };
}
