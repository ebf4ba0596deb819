/**
 * The statistics the rollout analysis needs: the standard normal
 * distribution and the two-proportion z-test that compares A/B conversion
 * rates.
 */

/**
 * The complementary error function, erfc(x) = 1 - erf(x), by the Chebyshev
 * fit of Numerical Recipes (2nd ed., §6.2, `erfcc`): fractional error below
 * 1.2e-7 everywhere, so small tail probabilities stay accurate too (what a
 * p-value needs, unlike 1 - erf(x)).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) {
    return NaN;
  }
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const tail =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t *
                                  (1.48851587 +
                                    t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? tail : 2 - tail;
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

export interface TwoProportionInput {
  successesA: number;
  totalA: number;
  successesB: number;
  totalB: number;
}

export interface TwoProportionResult {
  rateA: number;
  rateB: number;
  /** rateB - rateA. */
  difference: number;
  /** The difference over its pooled standard error; positive when B is higher. */
  zScore: number;
  /** Two-sided: the chance of a difference at least this large if both rates were equal. */
  pValue: number;
}

/**
 * Two-proportion z-test with the pooled standard error (the textbook test of
 * H0: pA = pB, as statsmodels' `proportions_ztest`). Never NaN: an arm
 * without trials has rate 0, and where the test has nothing to measure (no
 * trials on one side, or no variance because every trial of both arms failed
 * or succeeded) it reports z = 0 and p = 1. Successes are clamped to
 * [0, total], since a count of conversions can exceed the requests counted.
 */
export function twoProportionZTest(
  input: TwoProportionInput,
): TwoProportionResult {
  const totalA = nonNegative(input.totalA);
  const totalB = nonNegative(input.totalB);
  const successesA = Math.min(nonNegative(input.successesA), totalA);
  const successesB = Math.min(nonNegative(input.successesB), totalB);
  const rateA = totalA > 0 ? successesA / totalA : 0;
  const rateB = totalB > 0 ? successesB / totalB : 0;
  const difference = rateB - rateA;
  if (totalA === 0 || totalB === 0) {
    return { rateA, rateB, difference, zScore: 0, pValue: 1 };
  }
  const pooled = (successesA + successesB) / (totalA + totalB);
  const standardError = Math.sqrt(
    pooled * (1 - pooled) * (1 / totalA + 1 / totalB),
  );
  if (!(standardError > 0)) {
    return { rateA, rateB, difference, zScore: 0, pValue: 1 };
  }
  const zScore = difference / standardError;
  // Two-sided tail: 2·(1 - Φ(|z|)) = erfc(|z|/√2), without cancellation.
  const pValue = Math.min(1, erfc(Math.abs(zScore) / Math.SQRT2));
  return { rateA, rateB, difference, zScore, pValue };
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
