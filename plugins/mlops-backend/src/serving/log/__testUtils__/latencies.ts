import { mulberry32 } from '../../../lib/random';
/**
 * 37 latencies (ms) drawn once from a lognormal distribution, and their
 * percentiles as numpy 2.4 computes them (`numpy.percentile(x, p)`, method
 * 'linear'): the reference the log's stats must match on every engine.
 */
export const REFERENCE_LATENCIES = [
  4.486, 5.692, 3.599, 2.198, 3.115, 2.027, 4.703, 13.094, 3.023, 2.728, 6.632,
  5.963, 4.876, 2.129, 4.378, 7.817, 1.529, 3.108, 0.979, 1.597, 1.027, 3.713,
  1.626, 5.568, 5.08, 3.859, 0.598, 2.913, 4.311, 4.907, 1.318, 3.058, 2.049,
  2.347, 10.472, 2.349, 4.367,
];

/** numpy.percentile(REFERENCE_LATENCIES, [50, 95, 99]). */
export const REFERENCE_ALL = {
  p50: 3.115,
  p95: 8.347999999999988,
  p99: 12.15008,
};
/** numpy.percentile(REFERENCE_LATENCIES[:23], [50, 95, 99]). */
export const REFERENCE_FIRST_23 = {
  p50: 3.115,
  p95: 7.698499999999998,
  p99: 11.933060000000005,
};
/** numpy.percentile(REFERENCE_LATENCIES[23:], [50, 95, 99]). */
export const REFERENCE_LAST_14 = {
  p50: 3.4585,
  p95: 7.284399999999998,
  p99: 9.834479999999996,
};

/** A seeded uniform generator in [0, 1) (mulberry32), for sampling tests. */
export const seededRandom = mulberry32;
