import type {
  AnalysisCheck,
  ArmMetrics,
  RolloutSlo,
} from '@loopline/mlops-common';
import { AnalysisInput, AnalysisResult, evaluateAnalysis } from './analysis';

const SLO: RolloutSlo = { minRequests: 50, maxErrorRate: 0.05 };

function arm(overrides: Partial<ArmMetrics> = {}): ArmMetrics {
  const requests = overrides.requests ?? 100;
  const errors = overrides.errors ?? 0;
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : 0,
    latencyP50Ms: 10,
    latencyP95Ms: 40,
    latencyP99Ms: 80,
    ...overrides,
  };
}

function evaluate(overrides: Partial<AnalysisInput> = {}): AnalysisResult {
  return evaluateAnalysis({
    strategy: 'canary',
    slo: SLO,
    stable: arm(),
    candidate: arm(),
    ...overrides,
  });
}

function check(
  result: AnalysisResult,
  name: AnalysisCheck['name'],
): AnalysisCheck | undefined {
  return result.checks.find(c => c.name === name);
}

/** Every number anywhere in the result is finite. */
/** Every number in the result is finite, and no message shows a NaN. */
function expectNoNaN(result: AnalysisResult) {
  const problems: string[] = [];
  const visit = (value: unknown, where: string) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.push(`${where} = ${value}`);
    } else if (typeof value === 'string' && value.includes('NaN')) {
      problems.push(`${where} = ${JSON.stringify(value)}`);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        visit(inner, `${where}.${key}`);
      }
    }
  };
  visit(result, 'result');
  expect(problems).toEqual([]);
}

describe('evaluateAnalysis', () => {
  it('passes a healthy candidate with enough requests', () => {
    const result = evaluate();
    expect(result.verdict).toBe('pass');
    expect(result.checks).toEqual([
      {
        name: 'requests',
        verdict: 'pass',
        value: 100,
        threshold: 50,
        message: '100 requests',
      },
      {
        name: 'errorRate',
        verdict: 'pass',
        value: 0,
        threshold: 0.05,
        message: 'error rate 0% ≤ 5%',
      },
    ]);
    expect(result).not.toHaveProperty('comparison');
  });

  describe('load', () => {
    it('fails with the load error, whatever the figures', () => {
      const result = evaluate({
        candidateLoadError: 'ONNX model has unsupported opset 99',
        candidate: arm({ requests: 0 }),
      });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'load')).toEqual({
        name: 'load',
        verdict: 'fail',
        message:
          'candidate failed to load: ONNX model has unsupported opset 99',
      });
    });

    it('adds no load check when the candidate loaded', () => {
      expect(check(evaluate(), 'load')).toBeUndefined();
    });
  });

  describe('requests', () => {
    it('waits below the minimum, saying how far along it is', () => {
      const result = evaluate({ candidate: arm({ requests: 12 }) });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'requests')).toEqual({
        name: 'requests',
        verdict: 'wait',
        value: 12,
        threshold: 50,
        message: '12 of 50 requests',
      });
    });

    it('passes at exactly the minimum', () => {
      const result = evaluate({ candidate: arm({ requests: 50 }) });
      expect(check(result, 'requests')?.verdict).toBe('pass');
      expect(result.verdict).toBe('pass');
    });

    it('waits with zero requests, without NaN', () => {
      const result = evaluate({
        slo: {
          ...SLO,
          maxLatencyP95Ms: 100,
          quality: { metric: 'accuracy', min: 0.8 },
        },
        candidate: {
          requests: 0,
          errors: 0,
          errorRate: NaN,
        },
      });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'requests')?.message).toBe('0 of 50 requests');
      expect(check(result, 'errorRate')).toMatchObject({
        verdict: 'wait',
        value: 0,
      });
      expectNoNaN(result);
    });
  });

  describe('errorRate', () => {
    it('fails over the maximum once there are enough requests', () => {
      const result = evaluate({
        candidate: arm({ requests: 200, errors: 12 }),
      });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'errorRate')).toEqual({
        name: 'errorRate',
        verdict: 'fail',
        value: 0.06,
        threshold: 0.05,
        message: 'error rate 6% > 5%',
      });
    });

    it('passes at exactly the maximum', () => {
      const result = evaluate({
        candidate: arm({ requests: 200, errors: 10 }),
      });
      expect(check(result, 'errorRate')).toMatchObject({
        verdict: 'pass',
        message: 'error rate 5% ≤ 5%',
      });
    });

    it('fails early, below the minimum, once the errors cannot fit the budget', () => {
      // 5% of 50 allows 2.5 errors: 3 can no longer fit, whatever comes next.
      const result = evaluate({ candidate: arm({ requests: 10, errors: 3 }) });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'requests')?.verdict).toBe('wait');
      expect(check(result, 'errorRate')).toEqual({
        name: 'errorRate',
        verdict: 'fail',
        value: 0.3,
        threshold: 0.05,
        message: '3 errors in 10 requests: over 5% of 50 already',
      });
    });

    it('waits below the minimum while the errors still fit the budget', () => {
      // 2 errors in 10 is 20%, but 2 of 50 would be 4%: not decided yet.
      const result = evaluate({ candidate: arm({ requests: 10, errors: 2 }) });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'errorRate')).toMatchObject({
        verdict: 'wait',
        value: 0.2,
        message: 'error rate 20% so far (2 errors)',
      });
    });

    it('fails a candidate that only errors after its first request', () => {
      const result = evaluate({
        slo: { minRequests: 50, maxErrorRate: 0 },
        candidate: arm({ requests: 1, errors: 1 }),
      });
      expect(result.verdict).toBe('fail');
    });

    it('uses the errors over requests when the reported rate is unusable', () => {
      const result = evaluate({
        candidate: { requests: 100, errors: 7, errorRate: NaN },
      });
      expect(check(result, 'errorRate')).toMatchObject({
        verdict: 'fail',
        value: 0.07,
      });
      expectNoNaN(result);
    });
  });

  describe('latency', () => {
    const slo = { ...SLO, maxLatencyP95Ms: 150, maxLatencyP99Ms: 300 };

    it('fails a slow p95 with a short message', () => {
      const result = evaluate({
        slo,
        candidate: arm({ latencyP95Ms: 182.4, latencyP99Ms: 250 }),
      });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'latencyP95')).toEqual({
        name: 'latencyP95',
        verdict: 'fail',
        value: 182.4,
        threshold: 150,
        message: 'p95 182 ms > 150 ms',
      });
      expect(check(result, 'latencyP99')).toMatchObject({
        verdict: 'pass',
        message: 'p99 250 ms ≤ 300 ms',
      });
    });

    it('fails a slow p99 alone', () => {
      const result = evaluate({
        slo,
        candidate: arm({ latencyP95Ms: 2.456, latencyP99Ms: 301 }),
      });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'latencyP95')?.message).toBe('p95 2.46 ms ≤ 150 ms');
      expect(check(result, 'latencyP99')?.verdict).toBe('fail');
    });

    it('passes at the bound', () => {
      const result = evaluate({
        slo,
        candidate: arm({ latencyP95Ms: 150, latencyP99Ms: 300 }),
      });
      expect(result.verdict).toBe('pass');
    });

    it('waits when no latency was measured', () => {
      const result = evaluate({
        slo,
        candidate: arm({ latencyP95Ms: undefined, latencyP99Ms: undefined }),
      });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'latencyP95')).toEqual({
        name: 'latencyP95',
        verdict: 'wait',
        threshold: 150,
        message: 'no p95 latency measured yet',
      });
    });

    it('is not judged below the minimum requests, nor when not configured', () => {
      const few = evaluate({
        slo,
        candidate: arm({ requests: 10, latencyP95Ms: 5000 }),
      });
      expect(few.verdict).toBe('wait');
      expect(check(few, 'latencyP95')).toBeUndefined();

      const unconfigured = evaluate({
        candidate: arm({ latencyP95Ms: 5000, latencyP99Ms: 9000 }),
      });
      expect(unconfigured.verdict).toBe('pass');
      expect(check(unconfigured, 'latencyP95')).toBeUndefined();
      expect(check(unconfigured, 'latencyP99')).toBeUndefined();
    });
  });

  describe('quality', () => {
    const accuracySlo: RolloutSlo = {
      ...SLO,
      quality: { metric: 'accuracy', min: 0.85 },
    };

    it('waits for enough ground truth (default 20)', () => {
      const result = evaluate({
        slo: accuracySlo,
        candidate: arm({
          quality: { metric: 'accuracy', value: 0.1, samples: 8 },
        }),
      });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'quality')).toEqual({
        name: 'quality',
        verdict: 'wait',
        value: 0.1,
        threshold: 0.85,
        message: '8 of 20 requests with ground truth',
      });
    });

    it('waits without any quality figure, and honours minSamples', () => {
      const none = evaluate({ slo: accuracySlo, candidate: arm() });
      expect(check(none, 'quality')).toEqual({
        name: 'quality',
        verdict: 'wait',
        threshold: 0.85,
        message: '0 of 20 requests with ground truth',
      });

      const fewer = evaluate({
        slo: { ...SLO, quality: { metric: 'mae', max: 0.5, minSamples: 5 } },
        candidate: arm({ quality: { metric: 'mae', value: 0.2, samples: 5 } }),
      });
      expect(check(fewer, 'quality')?.verdict).toBe('pass');
      expect(fewer.verdict).toBe('pass');
    });

    it('fails accuracy below its minimum', () => {
      const result = evaluate({
        slo: accuracySlo,
        candidate: arm({
          quality: { metric: 'accuracy', value: 0.81, samples: 40 },
        }),
      });
      expect(result.verdict).toBe('fail');
      expect(check(result, 'quality')).toEqual({
        name: 'quality',
        verdict: 'fail',
        value: 0.81,
        threshold: 0.85,
        message: 'accuracy 81% < 85% over 40 requests',
      });
    });

    it('passes accuracy at or above its minimum', () => {
      const result = evaluate({
        slo: accuracySlo,
        candidate: arm({
          quality: { metric: 'accuracy', value: 0.85, samples: 40 },
        }),
      });
      expect(check(result, 'quality')).toMatchObject({
        verdict: 'pass',
        message: 'accuracy 85% ≥ 85% over 40 requests',
      });
    });

    it.each(['mae', 'rmse'] as const)(
      'fails %s above its maximum and passes at it',
      metric => {
        const slo = { ...SLO, quality: { metric, max: 0.5 } };
        const bad = evaluate({
          slo,
          candidate: arm({ quality: { metric, value: 0.6234, samples: 30 } }),
        });
        expect(bad.verdict).toBe('fail');
        expect(check(bad, 'quality')).toMatchObject({
          verdict: 'fail',
          value: 0.6234,
          threshold: 0.5,
          message: `${metric} 0.623 > 0.5 over 30 requests`,
        });
        const good = evaluate({
          slo,
          candidate: arm({ quality: { metric, value: 0.5, samples: 30 } }),
        });
        expect(check(good, 'quality')?.verdict).toBe('pass');
      },
    );

    it('does not judge a figure of another metric', () => {
      const result = evaluate({
        slo: accuracySlo,
        candidate: arm({ quality: { metric: 'mae', value: 0.1, samples: 99 } }),
      });
      expect(check(result, 'quality')?.verdict).toBe('wait');
    });

    it('is absent without a quality SLO', () => {
      const result = evaluate({
        candidate: arm({
          quality: { metric: 'accuracy', value: 0.1, samples: 99 },
        }),
      });
      expect(check(result, 'quality')).toBeUndefined();
      expect(result.verdict).toBe('pass');
    });
  });

  describe('agreement', () => {
    const slo = { ...SLO, minAgreement: 0.95 };

    it('waits until enough mirrored requests were compared', () => {
      const result = evaluate({
        strategy: 'shadow',
        slo,
        agreement: { rate: 0.5, samples: 12 },
      });
      expect(result.verdict).toBe('wait');
      expect(check(result, 'agreement')).toEqual({
        name: 'agreement',
        verdict: 'wait',
        threshold: 0.95,
        message: '12 of 50 mirrored requests compared',
      });
      const missing = evaluate({ strategy: 'shadow', slo });
      expect(check(missing, 'agreement')).toMatchObject({
        verdict: 'wait',
        message: '0 of 50 mirrored requests compared',
      });
    });

    it('fails below the minimum and passes at it', () => {
      const bad = evaluate({
        strategy: 'shadow',
        slo,
        agreement: { rate: 0.92, samples: 200 },
      });
      expect(bad.verdict).toBe('fail');
      expect(check(bad, 'agreement')).toEqual({
        name: 'agreement',
        verdict: 'fail',
        value: 0.92,
        threshold: 0.95,
        message: 'agreement 92% < 95% over 200 requests',
      });
      const good = evaluate({
        strategy: 'shadow',
        slo,
        agreement: { rate: 0.95, samples: 200 },
      });
      expect(good.verdict).toBe('pass');
      expect(check(good, 'agreement')?.message).toBe(
        'agreement 95% ≥ 95% over 200 requests',
      );
    });

    it('waits on zero samples even with no minimum requests', () => {
      const result = evaluate({
        strategy: 'shadow',
        slo: { minRequests: 0, maxErrorRate: 0.05, minAgreement: 0.9 },
        candidate: arm({ requests: 0 }),
        agreement: { rate: 0, samples: 0 },
      });
      expect(check(result, 'agreement')?.verdict).toBe('wait');
      expectNoNaN(result);
    });

    it('is only checked for shadow rollouts with a minimum set', () => {
      expect(
        check(
          evaluate({ slo, agreement: { rate: 0.1, samples: 500 } }),
          'agreement',
        ),
      ).toBeUndefined();
      expect(
        check(
          evaluate({
            strategy: 'shadow',
            agreement: { rate: 0.1, samples: 500 },
          }),
          'agreement',
        ),
      ).toBeUndefined();
    });
  });

  describe('conversion (A/B)', () => {
    it('leaves the decision to the SLOs when no conversions were recorded', () => {
      for (const [stable, candidate] of [
        [arm(), arm()],
        [arm({ conversions: 0 }), arm({ conversions: 0 })],
      ]) {
        const result = evaluate({ strategy: 'ab', stable, candidate });
        expect(result.verdict).toBe('pass');
        expect(check(result, 'conversion')).toEqual({
          name: 'conversion',
          verdict: 'pass',
          message: 'no conversions recorded: the SLOs alone decide',
        });
        expect(result).not.toHaveProperty('comparison');
      }
    });

    it('fails a candidate that converts significantly worse', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 1000, conversions: 250 }),
        candidate: arm({ requests: 1000, conversions: 200 }),
      });
      expect(result.verdict).toBe('fail');
      expect(result.comparison).toEqual({
        stableRate: 0.25,
        candidateRate: 0.2,
        difference: expect.closeTo(-0.05, 12),
        zScore: expect.closeTo(-2.677397763008329, 9),
        pValue: expect.closeTo(0.007419649261025687, 7),
        significant: true,
      });
      expect(check(result, 'conversion')).toEqual({
        name: 'conversion',
        verdict: 'fail',
        value: expect.closeTo(0.007419649261025687, 7),
        threshold: 0.05,
        message: 'candidate 20% vs stable 25%: significantly worse (p = 0.007)',
      });
    });

    it('passes a candidate that converts significantly better', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 1000, conversions: 200 }),
        candidate: arm({ requests: 1000, conversions: 250 }),
      });
      expect(result.verdict).toBe('pass');
      expect(result.comparison).toMatchObject({
        difference: expect.closeTo(0.05, 12),
        significant: true,
      });
      expect(check(result, 'conversion')?.message).toBe(
        'candidate 25% vs stable 20%: significantly better (p = 0.007)',
      );
    });

    it('waits while the difference is not significant, with its p-value', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 100, conversions: 45 }),
        candidate: arm({ requests: 100, conversions: 56 }),
      });
      expect(result.verdict).toBe('wait');
      expect(result.comparison).toMatchObject({
        pValue: expect.closeTo(0.11977642377972286, 7),
        significant: false,
      });
      expect(check(result, 'conversion')).toMatchObject({
        verdict: 'wait',
        message: 'candidate 56% vs stable 45%: not yet significant (p = 0.12)',
      });
    });

    it('writes tiny p-values as a bound', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 1000, conversions: 100 }),
        candidate: arm({ requests: 1000, conversions: 300 }),
      });
      expect(check(result, 'conversion')?.message).toBe(
        'candidate 30% vs stable 10%: significantly better (p < 0.001)',
      );
    });

    it('stays NaN-free with conversions but no requests on one arm', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 0, conversions: 3 }),
        candidate: arm({ requests: 100, conversions: 5 }),
      });
      expect(check(result, 'conversion')?.verdict).toBe('wait');
      expect(result.comparison).toMatchObject({ pValue: 1, zScore: 0 });
      expectNoNaN(result);
    });

    it('still fails the SLOs of a candidate that converts better', () => {
      const result = evaluate({
        strategy: 'ab',
        stable: arm({ requests: 1000, conversions: 200 }),
        candidate: arm({ requests: 1000, errors: 100, conversions: 300 }),
      });
      expect(check(result, 'conversion')?.verdict).toBe('pass');
      expect(result.verdict).toBe('fail');
    });

    it('is only checked for A/B rollouts', () => {
      const result = evaluate({
        stable: arm({ requests: 1000, conversions: 250 }),
        candidate: arm({ requests: 1000, conversions: 100 }),
      });
      expect(check(result, 'conversion')).toBeUndefined();
      expect(result).not.toHaveProperty('comparison');
    });
  });

  it('orders the verdict fail > wait > pass', () => {
    // A wait (too few requests) and a fail (load) together: fail.
    expect(
      evaluate({
        candidate: arm({ requests: 1 }),
        candidateLoadError: 'boom',
      }).verdict,
    ).toBe('fail');
    // A wait and passes: wait.
    expect(
      evaluate({
        slo: { ...SLO, maxLatencyP95Ms: 100 },
        candidate: arm({ latencyP95Ms: undefined }),
      }).verdict,
    ).toBe('wait');
  });
});
