/**
 * One analysis of a rollout step: reads both arms' figures over the step's
 * window from the inference log (and the A/B conversions), and judges them
 * against the rollout's SLO. It decides nothing: the service acts on the
 * verdict.
 */
import {
  CheckVerdict,
  DeploymentTargetStatus,
  isMirrored,
  ROLLOUT_ENDPOINTS,
} from '@loopline/mlops-common';
import { AnalysisResult, evaluateAnalysis } from './analysis';
import type {
  DeploymentRecord,
  NewAnalysis,
  RolloutRecord,
  RolloutStore,
} from './RolloutStore';
import type { RolloutLogReader } from './types';

export class RolloutAnalyzer {
  constructor(
    private readonly options: {
      logReader: RolloutLogReader;
      store: Pick<RolloutStore, 'conversionTotals'>;
    },
  ) {}

  /** The analysis of the rollout's current step up to `now`, to store, and its verdict. */
  async analyze(
    deployment: DeploymentRecord,
    rollout: RolloutRecord,
    now: number,
  ): Promise<{ analysis: NewAnalysis; result: AnalysisResult }> {
    const since = rollout.stepStartedAt;
    const mirrored = isMirrored(rollout);
    const quality = rollout.slo.quality?.metric;
    const window = {
      modelName: deployment.modelName,
      since,
      until: now,
      ...(quality ? { quality } : {}),
    };
    // The embedded server names each arm's endpoint; KServe's rows are told
    // apart by the version each revision logs.
    const arms =
      deployment.target === 'kserve'
        ? {
            stable: {
              source: 'kserve' as const,
              versions: rollout.stableVersion ? [rollout.stableVersion] : [],
            },
            candidate: {
              source: 'kserve' as const,
              versions: [rollout.candidateVersion],
            },
          }
        : {
            stable: { endpoints: [ROLLOUT_ENDPOINTS.stable] },
            candidate: {
              endpoints: [
                mirrored
                  ? ROLLOUT_ENDPOINTS.shadow
                  : ROLLOUT_ENDPOINTS.candidate,
              ],
            },
          };
    const [stable, candidate] = await Promise.all([
      this.options.logReader.armMetrics({ ...window, ...arms.stable }),
      this.options.logReader.armMetrics({ ...window, ...arms.candidate }),
    ]);
    if (rollout.strategy === 'ab') {
      const conversions = await this.options.store.conversionTotals(
        rollout.id,
        since,
        now,
      );
      for (const [arm, metrics] of [
        ['stable', stable],
        ['candidate', candidate],
      ] as const) {
        metrics.conversions = conversions[arm];
        metrics.conversionRate =
          metrics.requests > 0 ? conversions[arm] / metrics.requests : 0;
      }
    }
    const agreement =
      mirrored && deployment.target === 'embedded'
        ? await this.options.logReader.outputAgreement({
            modelName: deployment.modelName,
            since,
            until: now,
            stableEndpoint: ROLLOUT_ENDPOINTS.stable,
            shadowEndpoint: ROLLOUT_ENDPOINTS.shadow,
          })
        : undefined;
    const status = deployment.targetStatus;
    // Only the candidate's own failure to load is held against it.
    const candidateLoadError =
      status &&
      !status.ready &&
      deployment.target === 'embedded' &&
      (status.failedVersion === undefined ||
        status.failedVersion === rollout.candidateVersion)
        ? status.message ?? 'the candidate is not ready'
        : undefined;
    // Blue-green on KServe, before the switch: the candidate runs beside
    // stable without traffic (KServe cannot mirror), so its readiness is
    // what there is to check.
    const result =
      deployment.target !== 'embedded' &&
      rollout.strategy === 'blue-green' &&
      !rollout.switched
        ? readinessAnalysis(status)
        : evaluateAnalysis({
            strategy: rollout.strategy,
            slo: rollout.slo,
            stable,
            candidate,
            ...(candidateLoadError ? { candidateLoadError } : {}),
            ...(agreement ? { agreement } : {}),
          });
    const analysis: NewAnalysis = {
      rolloutId: rollout.id,
      stepIndex: rollout.stepIndex,
      weight: rollout.weight,
      windowStart: since,
      windowEnd: now,
      verdict: result.verdict,
      checks: result.checks,
      arms: { stable, candidate },
      ...(result.comparison ? { comparison: result.comparison } : {}),
      ...(agreement ? { agreement } : {}),
      createdAt: now,
    };
    return { analysis, result };
  }
}

/** The pre-switch check of a blue-green rollout on a target that reports readiness. */
function readinessAnalysis(
  status: DeploymentTargetStatus | undefined,
): AnalysisResult {
  let verdict: CheckVerdict = 'wait';
  let message = `waiting for the candidate to be ready: ${
    status?.message ?? 'no status yet'
  }`;
  if (status?.ready) {
    verdict = 'pass';
    message = 'the candidate runs beside stable and is ready';
  } else if (status?.message && /fail/i.test(status.message)) {
    verdict = 'fail';
    message = `the candidate failed: ${status.message}`;
  }
  return { verdict, checks: [{ name: 'load', verdict, message }] };
}
