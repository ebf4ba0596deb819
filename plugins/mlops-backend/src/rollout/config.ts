import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import type {
  DeploymentTargetKind,
  RolloutSlo,
  RolloutStrategy,
} from '@loopline/mlops-common';
import type { ModelStage } from '@loopline/mlops-common';

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

export const DEFAULT_STEPS: Record<RolloutStrategy, number[]> = {
  canary: [10, 25, 50, 100],
  shadow: [100],
  ab: [50],
  'blue-green': [100],
};

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
      if (target !== 'embedded' && target !== 'kserve') {
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

  const defaultSteps = { ...DEFAULT_STEPS };
  for (const strategy of Object.keys(DEFAULT_STEPS) as RolloutStrategy[]) {
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

/**
 * Why a list of weights is not valid for a strategy, or undefined. Weights
 * are integer percentages; canary steps rise and end at 100; shadow mirrors
 * one share of traffic; A/B splits once (the candidate's share, 1..99);
 * blue-green switches all traffic (100).
 */
export function checkSteps(
  strategy: RolloutStrategy,
  steps: number[],
): string | undefined {
  if (steps.length === 0) return 'at least one step is needed';
  if (steps.some(w => !Number.isInteger(w) || w < 1 || w > 100)) {
    return 'each weight must be an integer percentage from 1 to 100';
  }
  switch (strategy) {
    case 'canary':
      if (steps.some((w, i) => i > 0 && w <= steps[i - 1])) {
        return 'canary weights must rise step by step';
      }
      if (steps[steps.length - 1] !== 100) {
        return 'the last canary step must be 100';
      }
      return undefined;
    case 'ab':
      if (steps.length !== 1 || steps[0] > 99) {
        return 'A/B takes one weight, the candidate share from 1 to 99';
      }
      return undefined;
    case 'shadow':
      if (steps.length !== 1) {
        return 'shadow takes one weight, the share of traffic copied';
      }
      return undefined;
    case 'blue-green':
      if (steps.length !== 1 || steps[0] !== 100) {
        return 'blue-green switches all traffic at once: [100]';
      }
      return undefined;
    default:
      return `unknown strategy ${strategy}`;
  }
}
