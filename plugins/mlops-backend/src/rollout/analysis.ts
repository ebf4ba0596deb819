/**
 * The decision of one rollout analysis: the candidate's figures over the
 * step's window against the SLO, each check pass, fail or wait. Pure, so the
 * service stores exactly what decided.
 */
import type {
  AbComparison,
  AnalysisCheck,
  ArmMetrics,
  CheckVerdict,
  RolloutSlo,
  RolloutStrategy,
} from '@loopline/mlops-common';
import { twoProportionZTest } from './statistics';

/** Requests with ground truth a quality check needs when the SLO does not say. */
export const DEFAULT_QUALITY_MIN_SAMPLES = 20;
/** A/B: the p-value below which the variants' conversion rates differ. */
export const SIGNIFICANCE_LEVEL = 0.05;

export interface AnalysisInput {
  strategy: RolloutStrategy;
  slo: RolloutSlo;
  stable: ArmMetrics;
  candidate: ArmMetrics;
  /** Why the candidate could not be loaded, when it could not. */
  candidateLoadError?: string;
  /** Shadow: how often the candidate's output agreed with stable's. */
  agreement?: { rate: number; samples: number };
}

export interface AnalysisResult {
  /** Any check failed → fail; else any waits → wait; else pass. */
  verdict: CheckVerdict;
  checks: AnalysisCheck[];
  /** A/B, when conversions were recorded. */
  comparison?: AbComparison;
}

/**
 * Checks the candidate against the SLO. Errors are judged early: once the
 * candidate has more errors than the budget allows over `minRequests`, it
 * fails at once, so a broken candidate is rolled back without waiting for
 * the minimum count. Latency is only judged over `minRequests`.
 */
export function evaluateAnalysis(input: AnalysisInput): AnalysisResult {
  const { strategy, slo, candidate } = input;
  const requests = count(candidate.requests);
  const minRequests = count(slo.minRequests);
  const enoughRequests = requests >= minRequests;
  const checks: AnalysisCheck[] = [];

  if (input.candidateLoadError !== undefined) {
    checks.push({
      name: 'load',
      verdict: 'fail',
      message: `candidate failed to load: ${input.candidateLoadError}`,
    });
  }

  checks.push(
    enoughRequests
      ? {
          name: 'requests',
          verdict: 'pass',
          value: requests,
          threshold: minRequests,
          message: `${requests} requests`,
        }
      : {
          name: 'requests',
          verdict: 'wait',
          value: requests,
          threshold: minRequests,
          message: `${requests} of ${minRequests} requests`,
        },
  );

  checks.push(errorRateCheck(candidate, slo, requests, minRequests));

  if (enoughRequests) {
    for (const [name, label, value, bound] of [
      ['latencyP95', 'p95', candidate.latencyP95Ms, slo.maxLatencyP95Ms],
      ['latencyP99', 'p99', candidate.latencyP99Ms, slo.maxLatencyP99Ms],
    ] as const) {
      if (bound !== undefined) {
        checks.push(latencyCheck(name, label, value, bound));
      }
    }
  }

  if (slo.quality) {
    checks.push(qualityCheck(candidate, slo.quality));
  }

  if (strategy === 'shadow' && slo.minAgreement !== undefined) {
    checks.push(agreementCheck(input.agreement, slo.minAgreement, minRequests));
  }

  let comparison: AbComparison | undefined;
  if (strategy === 'ab') {
    const conversion = conversionCheck(input.stable, candidate);
    checks.push(conversion.check);
    comparison = conversion.comparison;
  }

  return {
    verdict: verdictOf(checks),
    checks,
    ...(comparison ? { comparison } : {}),
  };
}

function verdictOf(checks: AnalysisCheck[]): CheckVerdict {
  if (checks.some(c => c.verdict === 'fail')) {
    return 'fail';
  }
  if (checks.some(c => c.verdict === 'wait')) {
    return 'wait';
  }
  return 'pass';
}

function errorRateCheck(
  candidate: ArmMetrics,
  slo: RolloutSlo,
  requests: number,
  minRequests: number,
): AnalysisCheck {
  const errors = count(candidate.errors);
  const maxErrorRate = count(slo.maxErrorRate);
  const errorRate = rate(candidate.errorRate, errors, requests);
  const base = {
    name: 'errorRate' as const,
    value: errorRate,
    threshold: maxErrorRate,
  };
  if (requests < minRequests) {
    // Already more errors than the budget allows even if every request
    // still to come up to minRequests succeeded: no need to wait.
    if (errors > maxErrorRate * minRequests) {
      return {
        ...base,
        verdict: 'fail',
        message: `${errors} errors in ${requests} requests: over ${percent(
          maxErrorRate,
        )} of ${minRequests} already`,
      };
    }
    return {
      ...base,
      verdict: 'wait',
      message: `error rate ${percent(errorRate)} so far (${errors} errors)`,
    };
  }
  if (errorRate > maxErrorRate) {
    return {
      ...base,
      verdict: 'fail',
      message: `error rate ${percent(errorRate)} > ${percent(maxErrorRate)}`,
    };
  }
  return {
    ...base,
    verdict: 'pass',
    message: `error rate ${percent(errorRate)} ≤ ${percent(maxErrorRate)}`,
  };
}

function latencyCheck(
  name: 'latencyP95' | 'latencyP99',
  label: string,
  value: number | undefined,
  bound: number,
): AnalysisCheck {
  if (value === undefined || !Number.isFinite(value)) {
    return {
      name,
      verdict: 'wait',
      threshold: bound,
      message: `no ${label} latency measured yet`,
    };
  }
  const exceeded = value > bound;
  return {
    name,
    verdict: exceeded ? 'fail' : 'pass',
    value,
    threshold: bound,
    message: `${label} ${ms(value)} ${exceeded ? '>' : '≤'} ${ms(bound)}`,
  };
}

function qualityCheck(
  candidate: ArmMetrics,
  quality: NonNullable<RolloutSlo['quality']>,
): AnalysisCheck {
  const { metric } = quality;
  const minSamples = count(quality.minSamples ?? DEFAULT_QUALITY_MIN_SAMPLES);
  const measured =
    candidate.quality?.metric === metric &&
    Number.isFinite(candidate.quality.value)
      ? candidate.quality
      : undefined;
  const samples = count(measured?.samples ?? 0);
  const threshold =
    metric === 'accuracy'
      ? quality.min ?? quality.max
      : quality.max ?? quality.min;
  const withThreshold = threshold !== undefined ? { threshold } : {};
  // At least one sample, so a minSamples of 0 cannot judge an unmeasured value.
  if (!measured || samples < Math.max(minSamples, 1)) {
    return {
      name: 'quality',
      verdict: 'wait',
      ...(measured ? { value: measured.value } : {}),
      ...withThreshold,
      message: `${samples} of ${minSamples} requests with ground truth`,
    };
  }
  const value = measured.value;
  const show = (v: number) => qualityValue(metric, v);
  let verdict: CheckVerdict = 'pass';
  let message: string;
  if (quality.min !== undefined && value < quality.min) {
    verdict = 'fail';
    message = `${metric} ${show(value)} < ${show(quality.min)}`;
  } else if (quality.max !== undefined && value > quality.max) {
    verdict = 'fail';
    message = `${metric} ${show(value)} > ${show(quality.max)}`;
  } else if (quality.min !== undefined) {
    message = `${metric} ${show(value)} ≥ ${show(quality.min)}`;
  } else if (quality.max !== undefined) {
    message = `${metric} ${show(value)} ≤ ${show(quality.max)}`;
  } else {
    message = `${metric} ${show(value)} (no bound set)`;
  }
  return {
    name: 'quality',
    verdict,
    value,
    ...withThreshold,
    message: `${message} over ${samples} requests`,
  };
}

function agreementCheck(
  agreement: AnalysisInput['agreement'],
  minAgreement: number,
  minRequests: number,
): AnalysisCheck {
  const samples = count(agreement?.samples ?? 0);
  const needed = Math.max(minRequests, 1);
  if (!agreement || samples < needed || !Number.isFinite(agreement.rate)) {
    return {
      name: 'agreement',
      verdict: 'wait',
      threshold: minAgreement,
      message: `${samples} of ${needed} mirrored requests compared`,
    };
  }
  const failed = agreement.rate < minAgreement;
  return {
    name: 'agreement',
    verdict: failed ? 'fail' : 'pass',
    value: agreement.rate,
    threshold: minAgreement,
    message: `agreement ${percent(agreement.rate)} ${
      failed ? '<' : '≥'
    } ${percent(minAgreement)} over ${samples} requests`,
  };
}

function conversionCheck(
  stable: ArmMetrics,
  candidate: ArmMetrics,
): { check: AnalysisCheck; comparison?: AbComparison } {
  const stableConversions = count(stable.conversions ?? 0);
  const candidateConversions = count(candidate.conversions ?? 0);
  if (stableConversions === 0 && candidateConversions === 0) {
    return {
      check: {
        name: 'conversion',
        verdict: 'pass',
        message: 'no conversions recorded: the SLOs alone decide',
      },
    };
  }
  const test = twoProportionZTest({
    successesA: stableConversions,
    totalA: count(stable.requests),
    successesB: candidateConversions,
    totalB: count(candidate.requests),
  });
  const significant = test.pValue < SIGNIFICANCE_LEVEL;
  const comparison: AbComparison = {
    stableRate: test.rateA,
    candidateRate: test.rateB,
    difference: test.difference,
    zScore: test.zScore,
    pValue: test.pValue,
    significant,
  };
  const rates = `candidate ${percent(test.rateB)} vs stable ${percent(
    test.rateA,
  )}`;
  const p = pValueText(test.pValue);
  const base = {
    name: 'conversion' as const,
    value: test.pValue,
    threshold: SIGNIFICANCE_LEVEL,
  };
  if (significant && test.difference < 0) {
    return {
      check: {
        ...base,
        verdict: 'fail',
        message: `${rates}: significantly worse (${p})`,
      },
      comparison,
    };
  }
  if (significant && test.difference > 0) {
    return {
      check: {
        ...base,
        verdict: 'pass',
        message: `${rates}: significantly better (${p})`,
      },
      comparison,
    };
  }
  return {
    check: {
      ...base,
      verdict: 'wait',
      message: `${rates}: not yet significant (${p})`,
    },
    comparison,
  };
}

/** A count or bound as given, with NaN, infinities and negatives read as 0. */
function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** The reported rate when it is usable, else errors / requests, else 0. */
function rate(reported: number, errors: number, requests: number): number {
  if (Number.isFinite(reported) && reported >= 0) {
    return reported;
  }
  return requests > 0 ? errors / requests : 0;
}

/** 0.0512 → "5.1%", 0.05 → "5%". */
function percent(fraction: number): string {
  return `${trim((fraction * 100).toFixed(1))}%`;
}

/** Milliseconds, three significant digits below 100 ("2.46 ms"), whole above ("182 ms"). */
function ms(value: number): string {
  return `${
    Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3))
  } ms`;
}

function qualityValue(metric: string, value: number): string {
  return metric === 'accuracy'
    ? percent(value)
    : String(Number(value.toPrecision(3)));
}

/** "p = 0.042", "p < 0.001". */
function pValueText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${trim(p.toFixed(3))}`;
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
