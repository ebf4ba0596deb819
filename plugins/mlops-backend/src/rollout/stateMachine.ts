/**
 * A rollout's state machine, pure: a stored rollout and an action (a
 * user's, or the analysis' `advance`) give the changes to store and the
 * event to record, or nothing when the state does not allow the action. The
 * service applies the result under the deployment's lock.
 */
import {
  isActionAllowed,
  liveCandidateWeight,
  RolloutAction,
  RolloutControlAction,
} from '@loopline/mlops-common';
import type { RolloutPatch, RolloutRecord } from './RolloutStore';

/** A user's action, or `advance`: the analysis passed the current step. */
export type TransitionAction = RolloutControlAction | 'advance';

/** What one action does to a rollout and its deployment. */
export interface Transition {
  /** What happened, for the timeline: `advance` becomes `step`, `switch` or `promote`. */
  action: Exclude<RolloutAction, 'start'>;
  /** The rollout's changes; absent when only the deployment is touched. */
  rollout?: RolloutPatch;
  /** The deployment's changes besides its update time. */
  deployment: { stableVersion?: number };
  /** The candidate's live share before and after, in percent. */
  fromWeight: number;
  toWeight: number;
}

/** Whether `action` applies to the rollout's state (`advance` only while progressing). */
export function allowsAction(
  rollout: Pick<RolloutRecord, 'state'>,
  action: TransitionAction,
): boolean {
  return action === 'advance'
    ? rollout.state === 'progressing'
    : isActionAllowed(rollout.state, action);
}

/**
 * The transition `action` makes from the rollout's current state at `now`,
 * or undefined when its state does not allow it. `advance` moves a canary
 * to its next step, switches a blue-green that has not switched yet, and
 * otherwise promotes.
 */
export function transitionOf(
  rollout: RolloutRecord,
  action: TransitionAction,
  context: { now: number; automatic: boolean; comment?: string },
): Transition | undefined {
  if (!allowsAction(rollout, action)) {
    return undefined;
  }
  const { now, automatic, comment } = context;
  const fromWeight = liveCandidateWeight(rollout);
  if (action === 'advance') {
    if (rollout.strategy === 'blue-green' && !rollout.switched) {
      return {
        action: 'switch',
        rollout: {
          switched: true,
          weight: 100,
          stepStartedAt: now,
          lastAnalysisAt: now,
        },
        deployment: {},
        fromWeight,
        toWeight: 100,
      };
    }
    if (
      rollout.strategy === 'canary' &&
      rollout.stepIndex < rollout.steps.length - 1
    ) {
      const toWeight = rollout.steps[rollout.stepIndex + 1];
      return {
        action: 'step',
        rollout: {
          stepIndex: rollout.stepIndex + 1,
          weight: toWeight,
          stepStartedAt: now,
          lastAnalysisAt: now,
        },
        deployment: {},
        fromWeight,
        toWeight,
      };
    }
    return promotion(rollout, fromWeight, context);
  }
  switch (action) {
    case 'promote':
      return promotion(rollout, fromWeight, context);
    case 'rollback':
      return {
        action: 'rollback',
        rollout: {
          state: 'rolled_back',
          finishedAt: now,
          lastAnalysisAt: automatic ? now : undefined,
          reason: comment ?? 'rolled back',
        },
        deployment: {},
        fromWeight,
        toWeight: 0,
      };
    case 'pause':
      return {
        action: 'pause',
        rollout: { state: 'paused', ...(comment ? { reason: comment } : {}) },
        deployment: {},
        fromWeight,
        toWeight: fromWeight,
      };
    case 'resume':
      // Resuming starts a fresh analysis window.
      return {
        action: 'resume',
        rollout: { state: 'progressing', stepStartedAt: now },
        deployment: {},
        fromWeight,
        toWeight: fromWeight,
      };
    default:
      return undefined;
  }
}

/** The candidate becomes the deployment's stable version. */
function promotion(
  rollout: RolloutRecord,
  fromWeight: number,
  context: { now: number; automatic: boolean; comment?: string },
): Transition {
  const { now, automatic, comment } = context;
  return {
    action: 'promote',
    rollout: {
      state: 'promoted',
      finishedAt: now,
      lastAnalysisAt: automatic ? now : undefined,
      reason: comment ?? 'promoted',
    },
    deployment: { stableVersion: rollout.candidateVersion },
    fromWeight,
    toWeight: 100,
  };
}
