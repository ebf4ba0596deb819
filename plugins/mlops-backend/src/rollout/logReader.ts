/**
 * The rollout's view of the inference log: an arm's figures over an analysis
 * window and, for a shadow, how often the candidate agreed with stable. The
 * log answers with rows and sums (its own query API); the scoring is the
 * rollout's (`armScoring`).
 */
import type { ArmMetrics } from '@loopline/mlops-common';
import type { InferenceLogStore } from '../serving/log/InferenceLogStore';
import { predictionPairs } from '../serving/log/decode';
import { agreementOf, qualityOf } from './armScoring';
import type { ArmWindowQuery, RolloutLogReader } from './types';

/** Quality: at most this many requests with ground truth (the newest) are scored. */
const MAX_QUALITY_ROWS = 10_000;
/** Shadow agreement: pairs compared when the caller does not say. */
const DEFAULT_AGREEMENT_LIMIT = 2000;

/** What the reader needs of the log. */
export type RolloutLogSource = Pick<
  InferenceLogStore,
  'windowSummary' | 'outputsWithGroundTruth' | 'pairedOutputs'
>;

export class InferenceLogRolloutReader implements RolloutLogReader {
  constructor(private readonly log: RolloutLogSource) {}

  /**
   * One arm's figures over [since, until], both inclusive: the rows of the
   * arm counted and timed as the stats route does (requests and server
   * errors weighted by 1/sample_rate, latency percentiles of the successful
   * requests), and when `quality` is asked, that metric over the newest
   * successful requests with ground truth (unweighted: a real sample count).
   */
  async armMetrics(query: ArmWindowQuery): Promise<ArmMetrics> {
    const { quality: metric, ...window } = query;
    const summary = await this.log.windowSummary(window);
    const { requests, errors, latencyMs: latency } = summary;
    const metrics: ArmMetrics = {
      requests: Math.round(requests),
      errors: Math.round(errors),
      errorRate: requests > 0 ? errors / requests : 0,
      ...(latency.p50 !== undefined ? { latencyP50Ms: latency.p50 } : {}),
      ...(latency.p95 !== undefined ? { latencyP95Ms: latency.p95 } : {}),
      ...(latency.p99 !== undefined ? { latencyP99Ms: latency.p99 } : {}),
    };
    if (metric) {
      const rows = await this.log.outputsWithGroundTruth(window, {
        limit: MAX_QUALITY_ROWS,
      });
      const quality = qualityOf(metric, predictionPairs(rows));
      if (quality) {
        metrics.quality = quality;
      }
    }
    return metrics;
  }

  /**
   * Shadow: of the request ids logged, both successfully, on the stable and
   * on the shadow endpoint within [since, until], the newest `limit` pairs,
   * and the share whose main outputs agree: labels equal, numbers within
   * `tolerance` (absolute) or else 1e-6 relative. Pairs whose outputs hold
   * no readable main output are not counted. `rate` is 0 when nothing was
   * compared.
   */
  async outputAgreement(query: {
    modelName: string;
    stableEndpoint: string;
    shadowEndpoint: string;
    since: number;
    until: number;
    tolerance?: number;
    limit?: number;
  }): Promise<{ rate: number; samples: number }> {
    const limit = Math.floor(query.limit ?? DEFAULT_AGREEMENT_LIMIT);
    if (!(limit >= 1)) {
      return { rate: 0, samples: 0 };
    }
    const pairs = await this.log.pairedOutputs({
      modelName: query.modelName,
      endpoints: [query.stableEndpoint, query.shadowEndpoint],
      since: query.since,
      until: query.until,
      limit,
    });
    return agreementOf(pairs, query.tolerance);
  }
}
