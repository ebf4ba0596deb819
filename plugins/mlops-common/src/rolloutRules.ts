/**
 * The rules of a rollout that the server enforces and the UI offers: which
 * actions each state allows, when a rollout is unfinished, when the
 * candidate gets a copy of traffic rather than a share of it, the default
 * steps and what steps a strategy accepts. One definition, imported by both
 * sides, so the UI never offers what the server refuses.
 */
import type {
  DeploymentTargetKind,
  Rollout,
  RolloutAction,
  RolloutState,
  RolloutStrategy,
} from './rollout';

/** The targets a deployment can run on. */
export const DEPLOYMENT_TARGET_KINDS: DeploymentTargetKind[] = [
  'embedded',
  'kserve',
];

/** Every action of the timeline: users' and the analysis' decisions. */
export const ROLLOUT_ACTIONS: RolloutAction[] = [
  'start',
  'step',
  'switch',
  'promote',
  'rollback',
  'pause',
  'resume',
];

/** The actions a user takes on a running rollout (`POST .../:action`), in the order shown. */
export const ROLLOUT_CONTROL_ACTIONS = [
  'promote',
  'rollback',
  'pause',
  'resume',
] as const;

export type RolloutControlAction = (typeof ROLLOUT_CONTROL_ACTIONS)[number];

/** What each state allows, in the order the UI offers them. */
const ACTIONS_BY_STATE: Record<RolloutState, RolloutControlAction[]> = {
  progressing: ['pause', 'promote', 'rollback'],
  paused: ['resume', 'promote', 'rollback'],
  promoted: [],
  rolled_back: [],
};

/** The actions a rollout's state allows (none without a rollout). */
export function allowedActions(
  rollout?: Pick<Rollout, 'state'>,
): RolloutControlAction[] {
  return rollout ? [...ACTIONS_BY_STATE[rollout.state]] : [];
}

/** Whether `action` may be taken on a rollout in `state`. */
export function isActionAllowed(
  state: RolloutState,
  action: RolloutControlAction,
): boolean {
  return ACTIONS_BY_STATE[state].includes(action);
}

/** Whether a rollout still runs (progressing or paused) and can be acted on. */
export function isUnfinished(rollout?: Pick<Rollout, 'state'>): boolean {
  return rollout?.state === 'progressing' || rollout?.state === 'paused';
}

/**
 * Whether the candidate gets a copy of traffic rather than a share of it:
 * shadow always, blue-green until it switches.
 */
export function isMirrored(
  rollout: Pick<Rollout, 'strategy' | 'switched'>,
): boolean {
  return (
    rollout.strategy === 'shadow' ||
    (rollout.strategy === 'blue-green' && !rollout.switched)
  );
}

/**
 * The share of requests in percent copied to a mirrored candidate: shadow
 * copies its weight, blue-green before the switch copies everything.
 */
export function mirroredShare(
  rollout: Pick<Rollout, 'strategy' | 'weight'>,
): number {
  return rollout.strategy === 'shadow' ? rollout.weight : 100;
}

/** The candidate's share of live traffic in percent (0 while it is mirrored). */
export function liveCandidateWeight(
  rollout: Pick<Rollout, 'strategy' | 'switched' | 'weight'>,
): number {
  return isMirrored(rollout) ? 0 : rollout.weight;
}

/** The candidate's weight when a rollout starts: 0 live for blue-green until the switch. */
export function initialWeight(
  strategy: RolloutStrategy,
  steps: number[],
): number {
  return strategy === 'blue-green' ? 0 : steps[0];
}

/** The steps each strategy runs unless the rollout or the configuration says otherwise. */
export const DEFAULT_ROLLOUT_STEPS: Record<RolloutStrategy, number[]> = {
  canary: [10, 25, 50, 100],
  shadow: [100],
  ab: [50],
  'blue-green': [100],
};

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
