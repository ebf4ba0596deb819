/**
 * The rollout domain's inner contracts: what a deployment target does, and
 * what the analysis reads from the inference log.
 */
import type {
  ArmMetrics,
  DeploymentTargetKind,
  DeploymentTargetStatus,
  QualitySlo,
  RolloutStrategy,
} from '@loopline/mlops-common';
import type { LogWindowQuery } from '../serving/log/types';

/** One version as a target needs it. */
export interface TargetVersion {
  version: number;
  /** Where the target fetches the ONNX file (KServe `storageUri`). */
  storageUri: string;
  /** The artifact's sha256, to label what runs. */
  sha256?: string;
}

/**
 * What a deployment should run now. A target makes it so (idempotently: the
 * same state applied twice changes nothing) and reports what it sees.
 */
export interface DesiredDeployment {
  modelName: string;
  /** The catalog entity, for labels. */
  entityRef: string;
  environment: string;
  strategy?: RolloutStrategy;
  /** Absent before the first deployment has finished. */
  stable?: TargetVersion;
  /** Present while a rollout runs. */
  candidate?: TargetVersion;
  /** The candidate's share of live traffic in percent (0 without a candidate). */
  candidatePercent: number;
}

export interface DeploymentTarget {
  readonly kind: DeploymentTargetKind;
  /**
   * Strategies this target can run; starting another is refused with an
   * InputError that says so (KServe alone has no shadow or A/B routing).
   */
  readonly strategies: RolloutStrategy[];
  /** Writes the desired state. Throws on a target that refuses it. */
  apply(desired: DesiredDeployment): Promise<DeploymentTargetStatus>;
  /** Reads back what runs; undefined when nothing was written yet. */
  status(
    modelName: string,
    environment: string,
  ): Promise<DeploymentTargetStatus | undefined>;
}

/**
 * Which log rows an arm's figures are computed from: the `endpoint` values
 * of the arm (the embedded server's, see ROLLOUT_ENDPOINTS) or its versions
 * (KServe's rows, whose endpoints do not tell the arms apart).
 */
export interface ArmWindowQuery extends LogWindowQuery {
  /** When given, the quality metric is computed over rows with ground truth. */
  quality?: QualitySlo['metric'];
}

/** What the analysis needs from the inference log. */
export interface RolloutLogReader {
  armMetrics(query: ArmWindowQuery): Promise<ArmMetrics>;
  /**
   * Shadow: for request ids logged on both `stableEndpoint` and
   * `shadowEndpoint` in the window, the share whose main output agrees
   * (equal labels; regression values within 1e-6 relative or `tolerance`).
   */
  outputAgreement(query: {
    modelName: string;
    stableEndpoint: string;
    shadowEndpoint: string;
    since: number;
    until: number;
    tolerance?: number;
    /** At most this many pairs are compared (the newest). Default 2000. */
    limit?: number;
  }): Promise<{ rate: number; samples: number }>;
}
