import { allowedActions, Rollout } from '@loopline/mlops-common';
import {
  describeArm,
  describeCheck,
  describeWeights,
  parseSteps,
} from './format';

describe('rollout formatting', () => {
  it('reads steps written with commas, spaces, arrows or percent signs', () => {
    expect(parseSteps('10, 25, 50, 100')).toEqual([10, 25, 50, 100]);
    expect(parseSteps('10 → 25 → 100%')).toEqual([10, 25, 100]);
    expect(parseSteps(' 50 ')).toEqual([50]);
    expect(parseSteps('')).toBe('At least one step');
    expect(parseSteps('10, 2.5')).toMatch(/^Whole percentages/);
    expect(parseSteps('0, 100')).toMatch(/^Whole percentages/);
    expect(parseSteps('50, 101')).toMatch(/^Whole percentages/);
    expect(parseSteps('ten')).toMatch(/^Whole percentages/);
  });

  it("offers the actions the backend allows in each state (the shared rules')", () => {
    const rollout = (state: Rollout['state']) => ({ state } as Rollout);
    expect(allowedActions(rollout('progressing'))).toEqual([
      'pause',
      'promote',
      'rollback',
    ]);
    expect(allowedActions(rollout('paused'))).toEqual([
      'resume',
      'promote',
      'rollback',
    ]);
    expect(allowedActions(rollout('promoted'))).toEqual([]);
    expect(allowedActions(rollout('rolled_back'))).toEqual([]);
    expect(allowedActions(undefined)).toEqual([]);
  });

  it("refuses steps the strategy's rules refuse, as the server would", () => {
    expect(parseSteps('10, 25, 100', 'canary')).toEqual([10, 25, 100]);
    expect(parseSteps('25, 10, 100', 'canary')).toBe(
      'Canary weights must rise step by step',
    );
    expect(parseSteps('10, 50', 'canary')).toBe(
      'The last canary step must be 100',
    );
    expect(parseSteps('100', 'ab')).toMatch(/^A\/B takes one weight/);
    expect(parseSteps('50', 'blue-green')).toMatch(/^Blue-green switches/);
    expect(parseSteps('20', 'shadow')).toEqual([20]);
    // The text's own problems come first.
    expect(parseSteps('ten', 'canary')).toMatch(/^Whole percentages/);
  });

  it('shows each check against its bound, in its unit and direction', () => {
    const check = (
      name: Parameters<typeof describeCheck>[0]['name'],
      value?: number,
      threshold?: number,
    ) => ({ name, value, threshold, verdict: 'pass' as const, message: '' });
    expect(describeCheck(check('requests', 12, 50))).toBe(
      'Requests 12 (min 50)',
    );
    expect(describeCheck(check('errorRate', 0.005, 0.01))).toBe(
      'Error rate 0.5% (max 1%)',
    );
    expect(describeCheck(check('latencyP99', 210.4, 250))).toBe(
      'Latency p99 210.4 ms (max 250 ms)',
    );
    expect(describeCheck(check('quality', 0.91, 0.85), 'accuracy')).toBe(
      'Quality (accuracy) 0.91 (min 0.85)',
    );
    expect(describeCheck(check('quality', 0.7, 0.65), 'rmse')).toBe(
      'Quality (rmse) 0.7 (max 0.65)',
    );
    expect(describeCheck(check('agreement', 0.985, 0.95))).toBe(
      'Agreement 98.5% (min 95%)',
    );
    expect(describeCheck(check('load'))).toBe('Candidate loaded');
  });

  it("describes an arm's figures, leaving out what was not measured", () => {
    expect(describeArm({ requests: 0, errors: 0, errorRate: 0 })).toBe(
      '0 requests',
    );
    expect(
      describeArm({
        requests: 1,
        errors: 0,
        errorRate: 0,
        conversions: 1,
        conversionRate: 0.125,
      }),
    ).toBe('1 request · 0% errors · 12.5% converted');
  });

  it('describes a weight change', () => {
    expect(describeWeights(10, 25)).toBe('10% → 25%');
    expect(describeWeights(undefined, 100)).toBe('? → 100%');
    expect(describeWeights()).toBe('');
  });
});
