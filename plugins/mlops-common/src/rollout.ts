/**
 * Progressive delivery: deployments of a Model per environment, the rollouts
 * that move them from a stable version to a candidate, the analyses that
 * decide each step, and the native routes' request and response types.
 */

/** How a candidate is exposed while it is checked. */
export type RolloutStrategy = 'canary' | 'shadow' | 'ab' | 'blue-green';

export const ROLLOUT_STRATEGIES: RolloutStrategy[] = [
  'canary',
  'shadow',
  'ab',
  'blue-green',
];

/** Where a deployment runs: the portal's own server, or KServe in Kubernetes. */
export type DeploymentTargetKind = 'embedded' | 'kserve';

/**
 * A rollout's life: `progressing` (analyses run and advance it), `paused`
 * (analyses stop, traffic stays as it is), and the two ends.
 */
export type RolloutState =
  | 'progressing'
  | 'paused'
  | 'promoted'
  | 'rolled_back';

/** The two arms of a rollout. */
export type RolloutArm = 'stable' | 'candidate';

/**
 * The `endpoint` the embedded server records in the inference log for each
 * arm: `stable`, `candidate`, and `shadow` for a mirrored copy. (KServe's
 * rows are told apart by version instead: both revisions of a KServe canary
 * log alike, so Loopline's target names the version in the logger URL.)
 */
export const ROLLOUT_ENDPOINTS = {
  stable: 'stable',
  candidate: 'candidate',
  shadow: 'shadow',
} as const;

/** A model-quality check, computed where ground truth has arrived. */
export interface QualitySlo {
  /** `accuracy` (classification, higher is better), `mae` / `rmse` (regression, lower is better). */
  metric: 'accuracy' | 'mae' | 'rmse';
  /** Fail below this (accuracy). */
  min?: number;
  /** Fail above this (mae, rmse). */
  max?: number;
  /** Requests with ground truth needed before the check counts; fewer → wait. Default 20. */
  minSamples?: number;
}

/** What a candidate must meet at each step. */
export interface RolloutSlo {
  /** Requests the candidate must have served in the window; fewer → wait. */
  minRequests: number;
  /** Highest allowed share of failed requests, 0..1. */
  maxErrorRate: number;
  maxLatencyP95Ms?: number;
  maxLatencyP99Ms?: number;
  quality?: QualitySlo;
  /** Shadow: lowest allowed share of mirrored requests whose output agrees with stable's, 0..1. */
  minAgreement?: number;
}

/** Where the A/B key of a request is read. */
export interface AbKeySource {
  /** A request header, e.g. `x-user-id`. */
  header?: string;
  /** An OIP request `parameters` entry, e.g. `user_id`. */
  parameter?: string;
}

/**
 * One rollout of a candidate version. `weight` is the candidate's share in
 * percent: of live traffic (canary, A/B, blue-green once switched) or of
 * copied traffic (shadow, blue-green before the switch).
 */
export interface Rollout {
  id: string;
  deploymentId: string;
  strategy: RolloutStrategy;
  state: RolloutState;
  /** The stable version when the rollout started; absent for a first deployment. */
  stableVersion?: number;
  candidateVersion: number;
  /** Candidate weights in percent, one per step, e.g. [10, 25, 50, 100]. */
  steps: number[];
  /** Index into `steps` of the current step. */
  stepIndex: number;
  /** The candidate's current weight in percent. */
  weight: number;
  /** Blue-green: true once all live traffic went to the candidate. */
  switched?: boolean;
  slo: RolloutSlo;
  abKey?: AbKeySource;
  /** Who started it (user or service entity ref). */
  startedBy: string;
  startedAt: string;
  /** When the current step began: the analysis window starts here. */
  stepStartedAt: string;
  finishedAt?: string;
  /** Why it ended or paused (the failing check, or the user's comment). */
  reason?: string;
  lastAnalysisAt?: string;
}

/** A Model's deployment to one environment. */
export interface Deployment {
  id: string;
  modelName: string;
  entityRef: string;
  environment: string;
  target: DeploymentTargetKind;
  /** The version that answers when no rollout is running; absent before the first one. */
  stableVersion?: number;
  /** The running rollout, or else the last one. */
  rollout?: Rollout;
  /** Current live traffic split in percent. */
  weights: { stable: number; candidate: number };
  /** What the target last reported (KServe: the InferenceService's status). */
  targetStatus?: DeploymentTargetStatus;
  createdAt: string;
  updatedAt: string;
}

/** What a target reports about the objects it runs. */
export interface DeploymentTargetStatus {
  ready: boolean;
  message?: string;
  /** The version that could not be run, when the target knows. */
  failedVersion?: number;
  /** The object the target wrote, e.g. `kserve-test/wine-quality-production`. */
  resource?: string;
  /** Traffic by revision as the target sees it. */
  traffic?: Array<{ name: string; percent: number; latest?: boolean }>;
  observedAt: string;
}

/** One arm's figures over an analysis window (weighted by the log's sample rate). */
export interface ArmMetrics {
  requests: number;
  errors: number;
  errorRate: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  latencyP99Ms?: number;
  quality?: { metric: QualitySlo['metric']; value: number; samples: number };
  /** A/B: conversions recorded for requests of this arm. */
  conversions?: number;
  conversionRate?: number;
}

export type CheckVerdict = 'pass' | 'fail' | 'wait';

/** One SLO check of one analysis. */
export interface AnalysisCheck {
  name:
    | 'load'
    | 'requests'
    | 'errorRate'
    | 'latencyP95'
    | 'latencyP99'
    | 'quality'
    | 'conversion'
    | 'agreement';
  verdict: CheckVerdict;
  /** The measured value, absent when there was nothing to measure. */
  value?: number;
  /** The SLO's bound. */
  threshold?: number;
  message: string;
}

/** A/B: the candidate's conversion rate against stable's, two-proportion z-test. */
export interface AbComparison {
  stableRate: number;
  candidateRate: number;
  /** candidateRate - stableRate. */
  difference: number;
  zScore: number;
  /** Two-sided p-value. */
  pValue: number;
  /** p < 0.05. */
  significant: boolean;
}

/** One analysis of a rollout step, stored with its numbers. */
export interface RolloutAnalysis {
  id: string;
  rolloutId: string;
  stepIndex: number;
  weight: number;
  windowStart: string;
  windowEnd: string;
  verdict: CheckVerdict;
  checks: AnalysisCheck[];
  arms: { stable: ArmMetrics; candidate: ArmMetrics };
  comparison?: AbComparison;
  /** Shadow: share of mirrored requests whose main output agreed with stable's. */
  agreement?: { rate: number; samples: number };
  createdAt: string;
}

/** What happened to a deployment, by a user or by the analysis. */
export type RolloutAction =
  | 'start'
  | 'step'
  | 'switch'
  | 'promote'
  | 'rollback'
  | 'pause'
  | 'resume';

export interface RolloutEvent {
  id: string;
  deploymentId: string;
  rolloutId?: string;
  action: RolloutAction;
  /** The user or service, or `system:analysis` for automatic decisions. */
  actor: string;
  automatic: boolean;
  fromWeight?: number;
  toWeight?: number;
  comment?: string;
  createdAt: string;
}

/** `GET /deployments/models/:name/:environment`. */
export interface DeploymentDetail {
  deployment: Deployment;
  /** The rollouts of this deployment, newest first. */
  rollouts: Rollout[];
  /** Analyses of the current (or last) rollout, newest first. */
  analyses: RolloutAnalysis[];
  /** Timeline, newest first. */
  events: RolloutEvent[];
  /** Whether the caller may start, promote, roll back, pause and resume. */
  canManage?: boolean;
}

/** `POST /deployments/models/:name/:environment/rollouts`. */
export interface StartRolloutRequest {
  /** The registry version to roll out. */
  version: number;
  strategy: RolloutStrategy;
  /** Candidate weights per step; defaults per strategy. */
  steps?: number[];
  /** Overrides of the configured default SLO. */
  slo?: Partial<RolloutSlo>;
  /** A/B: where the sticky key comes from; default header `x-loopline-ab-key`. */
  abKey?: AbKeySource;
  comment?: string;
}

/** `POST .../promote|rollback|pause|resume`. */
export interface RolloutActionRequest {
  comment?: string;
}

/** `POST /deployments/models/:name/:environment/conversions`: an A/B outcome. */
export interface ConversionRequest {
  /** The A/B key the request was assigned by (e.g. the user id). */
  key: string;
  /** Default 1. */
  value?: number;
}

/** `GET /deployments/models/:name`. */
export interface DeploymentList {
  items: Deployment[];
  /** The environments configured, with their targets. */
  environments: Array<{
    name: string;
    target: DeploymentTargetKind;
    stage?: string;
  }>;
  /** What a rollout gets unless it says otherwise (the server's configuration). */
  defaults: RolloutDefaults;
}

export interface RolloutDefaults {
  steps: Record<RolloutStrategy, number[]>;
  slo: RolloutSlo;
}
