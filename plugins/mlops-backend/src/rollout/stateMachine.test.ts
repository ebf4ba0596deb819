import type { RolloutRecord } from './RolloutStore';
import { transitionOf } from './stateMachine';

const NOW = 1_800_000_000_000;

function rollout(overrides: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: 'r1',
    deploymentId: 'd1',
    strategy: 'canary',
    state: 'progressing',
    stableVersion: 1,
    candidateVersion: 2,
    steps: [10, 25, 50, 100],
    stepIndex: 0,
    weight: 10,
    switched: false,
    slo: { minRequests: 20, maxErrorRate: 0.05 },
    startedBy: 'user:default/alice',
    startedAt: NOW - 60_000,
    stepStartedAt: NOW - 30_000,
    ...overrides,
  };
}

const auto = { now: NOW, automatic: true };
const user = { now: NOW, automatic: false };

describe('the rollout state machine', () => {
  it('advances a canary to its next step, and promotes it after the last', () => {
    expect(transitionOf(rollout(), 'advance', auto)).toEqual({
      action: 'step',
      rollout: {
        stepIndex: 1,
        weight: 25,
        stepStartedAt: NOW,
        lastAnalysisAt: NOW,
      },
      deployment: {},
      fromWeight: 10,
      toWeight: 25,
    });
    const last = rollout({ stepIndex: 3, weight: 100 });
    expect(
      transitionOf(last, 'advance', { ...auto, comment: 'Analysis passed' }),
    ).toEqual({
      action: 'promote',
      rollout: {
        state: 'promoted',
        finishedAt: NOW,
        lastAnalysisAt: NOW,
        reason: 'Analysis passed',
      },
      deployment: { stableVersion: 2 },
      fromWeight: 100,
      toWeight: 100,
    });
  });

  it('switches a blue-green first (from no live traffic), then promotes it', () => {
    const waiting = rollout({
      strategy: 'blue-green',
      steps: [100],
      weight: 0,
    });
    expect(transitionOf(waiting, 'advance', auto)).toMatchObject({
      action: 'switch',
      rollout: { switched: true, weight: 100 },
      fromWeight: 0,
      toWeight: 100,
    });
    const switched = { ...waiting, switched: true, weight: 100 };
    expect(transitionOf(switched, 'advance', auto)).toMatchObject({
      action: 'promote',
      fromWeight: 100,
      toWeight: 100,
    });
  });

  it('promotes a shadow on a pass: its copied share was never live', () => {
    const shadow = rollout({ strategy: 'shadow', steps: [20], weight: 20 });
    expect(transitionOf(shadow, 'advance', auto)).toMatchObject({
      action: 'promote',
      deployment: { stableVersion: 2 },
      fromWeight: 0,
      toWeight: 100,
    });
  });

  it("rolls back to no candidate traffic, keeping the user's reason", () => {
    expect(
      transitionOf(rollout({ weight: 25, stepIndex: 1 }), 'rollback', {
        ...user,
        comment: 'too slow',
      }),
    ).toEqual({
      action: 'rollback',
      rollout: {
        state: 'rolled_back',
        finishedAt: NOW,
        lastAnalysisAt: undefined,
        reason: 'too slow',
      },
      deployment: {},
      fromWeight: 25,
      toWeight: 0,
    });
  });

  it('pauses without moving traffic and resumes with a fresh analysis window', () => {
    expect(transitionOf(rollout(), 'pause', user)).toEqual({
      action: 'pause',
      rollout: { state: 'paused' },
      deployment: {},
      fromWeight: 10,
      toWeight: 10,
    });
    expect(
      transitionOf(rollout(), 'pause', { ...user, comment: 'lunch' })?.rollout,
    ).toEqual({ state: 'paused', reason: 'lunch' });
    expect(transitionOf(rollout({ state: 'paused' }), 'resume', user)).toEqual({
      action: 'resume',
      rollout: { state: 'progressing', stepStartedAt: NOW },
      deployment: {},
      fromWeight: 10,
      toWeight: 10,
    });
  });

  it('refuses what the state does not allow', () => {
    expect(transitionOf(rollout(), 'resume', user)).toBeUndefined();
    expect(transitionOf(rollout({ state: 'paused' }), 'pause', user)).toBe(
      undefined,
    );
    // A paused rollout is not advanced by an analysis.
    expect(
      transitionOf(rollout({ state: 'paused' }), 'advance', auto),
    ).toBeUndefined();
    for (const state of ['promoted', 'rolled_back'] as const) {
      for (const action of [
        'promote',
        'rollback',
        'pause',
        'resume',
        'advance',
      ] as const) {
        expect(transitionOf(rollout({ state }), action, user)).toBeUndefined();
      }
    }
  });
});
