import type {
  AnalysisCheck,
  ArmMetrics,
  DeploymentTargetKind,
  QualitySlo,
  RolloutAction,
  RolloutState,
  RolloutStrategy,
} from '@loopline/mlops-common';
import { checkSteps } from '@loopline/mlops-common';
import { formatNumber } from '../shared';

export const STRATEGY_LABELS: Record<RolloutStrategy, string> = {
  canary: 'Canary',
  shadow: 'Shadow',
  ab: 'A/B test',
  'blue-green': 'Blue-green',
};

export const STATE_LABELS: Record<RolloutState, string> = {
  progressing: 'Progressing',
  paused: 'Paused',
  promoted: 'Promoted',
  rolled_back: 'Rolled back',
};

export const TARGET_LABELS: Record<DeploymentTargetKind, string> = {
  embedded: 'Embedded',
  kserve: 'KServe',
};

export const EVENT_LABELS: Record<RolloutAction, string> = {
  start: 'Started',
  step: 'Next step',
  switch: 'Switched',
  promote: 'Promoted',
  rollback: 'Rolled back',
  pause: 'Paused',
  resume: 'Resumed',
};

/** What each strategy does with the steps, for the form's help text. */
export const STEPS_HELP: Record<RolloutStrategy, string> = {
  canary: "Candidate's share of live traffic per step, rising to 100",
  shadow: 'Share of live traffic copied to the candidate; stable answers',
  ab: "Candidate's share of users, from 1 to 99",
  'blue-green': 'All traffic switches at once: 100',
};

/**
 * Comma- or space-separated weights as numbers, or the reason they are not
 * whole percentages from 1 to 100. With a strategy, also what its rules
 * (rising, ending at 100...) say is wrong: the shared rules the server
 * enforces (`checkSteps`).
 */
export function parseSteps(
  text: string,
  strategy?: RolloutStrategy,
): number[] | string {
  const parts = text
    .split(/[\s,→>]+/)
    .map(part => part.replace(/%$/, ''))
    .filter(Boolean);
  if (parts.length === 0) {
    return 'At least one step';
  }
  const steps = parts.map(Number);
  if (steps.some(step => !Number.isInteger(step) || step < 1 || step > 100)) {
    return 'Whole percentages from 1 to 100, e.g. 10, 25, 50, 100';
  }
  const problem = strategy && checkSteps(strategy, steps);
  if (problem) {
    return `${problem.charAt(0).toUpperCase()}${problem.slice(1)}`;
  }
  return steps;
}

/** A share (0..1) as a percentage, e.g. `0.5%`. */
export function formatShare(value: number): string {
  return `${formatNumber(value * 100)}%`;
}

export function formatMs(value: number): string {
  return `${formatNumber(value)} ms`;
}

/** Whether higher is better for a quality metric. */
function higherIsBetter(metric?: QualitySlo['metric']): boolean {
  return metric === 'accuracy';
}

const CHECK_LABELS: Record<AnalysisCheck['name'], string> = {
  load: 'Candidate loaded',
  requests: 'Requests',
  errorRate: 'Error rate',
  latencyP95: 'Latency p95',
  latencyP99: 'Latency p99',
  quality: 'Quality',
  conversion: 'Conversion',
  agreement: 'Agreement',
};

/**
 * One check as a line: its name, the measured value and the SLO's bound,
 * e.g. `Error rate 0.5% (max 1%)` or `Requests 12 (min 50)`.
 */
export function describeCheck(
  check: AnalysisCheck,
  qualityMetric?: QualitySlo['metric'],
): string {
  let label = CHECK_LABELS[check.name] ?? check.name;
  let format: (value: number) => string = formatNumber;
  let bound: 'min' | 'max' | undefined;
  switch (check.name) {
    case 'requests':
      bound = 'min';
      break;
    case 'errorRate':
      format = formatShare;
      bound = 'max';
      break;
    case 'latencyP95':
    case 'latencyP99':
      format = formatMs;
      bound = 'max';
      break;
    case 'quality':
      if (qualityMetric) {
        label = `Quality (${qualityMetric})`;
      }
      bound = higherIsBetter(qualityMetric) ? 'min' : 'max';
      break;
    case 'agreement':
      format = formatShare;
      bound = 'min';
      break;
    default:
      break;
  }
  const value = check.value === undefined ? '' : ` ${format(check.value)}`;
  const threshold =
    check.threshold === undefined
      ? ''
      : ` (${bound ? `${bound} ` : 'threshold '}${format(check.threshold)})`;
  return `${label}${value}${threshold}`;
}

/**
 * An arm's figures in a line, e.g.
 * `64 requests · 0.5% errors · p95 18.5 ms · p99 41 ms · rmse 0.61`.
 */
export function describeArm(arm: ArmMetrics): string {
  const parts = [
    `${formatNumber(arm.requests)} ${
      arm.requests === 1 ? 'request' : 'requests'
    }`,
  ];
  if (arm.requests > 0) {
    parts.push(`${formatShare(arm.errorRate)} errors`);
  }
  if (arm.latencyP95Ms !== undefined) {
    parts.push(`p95 ${formatMs(arm.latencyP95Ms)}`);
  }
  if (arm.latencyP99Ms !== undefined) {
    parts.push(`p99 ${formatMs(arm.latencyP99Ms)}`);
  }
  if (arm.quality) {
    parts.push(`${arm.quality.metric} ${formatNumber(arm.quality.value)}`);
  }
  if (arm.conversionRate !== undefined) {
    parts.push(`${formatShare(arm.conversionRate)} converted`);
  }
  return parts.join(' · ');
}

/** A weight change, e.g. `10% → 25%`. */
export function describeWeights(from?: number, to?: number): string {
  if (from === undefined && to === undefined) {
    return '';
  }
  const side = (weight?: number) => (weight === undefined ? '?' : `${weight}%`);
  return `${side(from)} → ${side(to)}`;
}
