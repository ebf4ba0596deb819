import type { Rollout, RolloutState } from './rollout';
import { ROLLOUT_STRATEGIES } from './rollout';
import {
  allowedActions,
  checkSteps,
  DEFAULT_ROLLOUT_STEPS,
  initialWeight,
  isActionAllowed,
  isMirrored,
  isUnfinished,
  liveCandidateWeight,
  mirroredShare,
  ROLLOUT_CONTROL_ACTIONS,
} from './rolloutRules';

const STATES: RolloutState[] = [
  'progressing',
  'paused',
  'promoted',
  'rolled_back',
];

describe('rollout rules', () => {
  it('allows pausing a progressing rollout and resuming a paused one; both can be promoted or rolled back', () => {
    expect(allowedActions({ state: 'progressing' })).toEqual([
      'pause',
      'promote',
      'rollback',
    ]);
    expect(allowedActions({ state: 'paused' })).toEqual([
      'resume',
      'promote',
      'rollback',
    ]);
    expect(allowedActions({ state: 'promoted' })).toEqual([]);
    expect(allowedActions({ state: 'rolled_back' })).toEqual([]);
    expect(allowedActions(undefined)).toEqual([]);
  });

  it('answers isActionAllowed exactly as allowedActions lists, for every state and action', () => {
    for (const state of STATES) {
      for (const action of ROLLOUT_CONTROL_ACTIONS) {
        expect(isActionAllowed(state, action)).toBe(
          allowedActions({ state }).includes(action),
        );
      }
    }
  });

  it('hands out a fresh list, so a caller cannot change the rules', () => {
    allowedActions({ state: 'progressing' }).pop();
    expect(allowedActions({ state: 'progressing' })).toHaveLength(3);
  });

  it('counts a rollout as unfinished while it can still be acted on', () => {
    for (const state of STATES) {
      expect(isUnfinished({ state })).toBe(
        allowedActions({ state }).length > 0,
      );
    }
    expect(isUnfinished(undefined)).toBe(false);
  });

  it('mirrors a shadow always and a blue-green until it switches', () => {
    const rollout = (
      strategy: Rollout['strategy'],
      switched?: boolean,
      weight = 30,
    ) => ({ strategy, switched, weight });
    expect(isMirrored(rollout('shadow'))).toBe(true);
    expect(isMirrored(rollout('blue-green', false))).toBe(true);
    expect(isMirrored(rollout('blue-green', true))).toBe(false);
    expect(isMirrored(rollout('canary'))).toBe(false);
    expect(isMirrored(rollout('ab'))).toBe(false);

    // A shadow copies its weight; a blue-green before the switch copies all.
    expect(mirroredShare(rollout('shadow', undefined, 20))).toBe(20);
    expect(mirroredShare(rollout('blue-green', false, 0))).toBe(100);

    // Live traffic goes to the candidate only once it is not mirrored.
    expect(liveCandidateWeight(rollout('shadow', undefined, 20))).toBe(0);
    expect(liveCandidateWeight(rollout('blue-green', false, 100))).toBe(0);
    expect(liveCandidateWeight(rollout('blue-green', true, 100))).toBe(100);
    expect(liveCandidateWeight(rollout('canary', undefined, 25))).toBe(25);
  });

  it('starts a blue-green at no live traffic and the others at their first step', () => {
    expect(initialWeight('blue-green', [100])).toBe(0);
    expect(initialWeight('canary', [10, 25, 50, 100])).toBe(10);
    expect(initialWeight('ab', [40])).toBe(40);
    expect(initialWeight('shadow', [20])).toBe(20);
  });

  it('has default steps for every strategy, each valid for it', () => {
    expect(Object.keys(DEFAULT_ROLLOUT_STEPS).sort()).toEqual(
      [...ROLLOUT_STRATEGIES].sort(),
    );
    for (const strategy of ROLLOUT_STRATEGIES) {
      expect(checkSteps(strategy, DEFAULT_ROLLOUT_STEPS[strategy])).toBe(
        undefined,
      );
    }
    expect(DEFAULT_ROLLOUT_STEPS.canary).toEqual([10, 25, 50, 100]);
  });

  it('checks the steps of each strategy', () => {
    expect(checkSteps('canary', [])).toBe('at least one step is needed');
    expect(checkSteps('canary', [0, 100])).toMatch(/integer percentage/);
    expect(checkSteps('canary', [10, 2.5, 100])).toMatch(/integer percentage/);
    expect(checkSteps('canary', [10, 101])).toMatch(/integer percentage/);
    expect(checkSteps('canary', [10, 10, 100])).toBe(
      'canary weights must rise step by step',
    );
    expect(checkSteps('canary', [10, 50])).toBe(
      'the last canary step must be 100',
    );
    expect(checkSteps('canary', [100])).toBe(undefined);
    expect(checkSteps('ab', [100])).toMatch(/^A\/B takes one weight/);
    expect(checkSteps('ab', [10, 20])).toMatch(/^A\/B takes one weight/);
    expect(checkSteps('ab', [99])).toBe(undefined);
    expect(checkSteps('shadow', [10, 20])).toMatch(/^shadow takes one weight/);
    expect(checkSteps('shadow', [1])).toBe(undefined);
    expect(checkSteps('blue-green', [50])).toMatch(/^blue-green switches/);
    expect(checkSteps('blue-green', [100])).toBe(undefined);
    expect(checkSteps('linear' as Rollout['strategy'], [100])).toBe(
      'unknown strategy linear',
    );
  });
});
