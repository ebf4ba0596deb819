import type {
  Deployment,
  DeploymentDetail,
  DeploymentList,
  Rollout,
  RolloutAnalysis,
  RolloutEvent,
} from '@loopline/mlops-common';

/*
 * Deployments of the wine-quality test Model, as the backend's rollout
 * routes answer them: a canary of version 3 in production at its second
 * step, and version 3 already promoted on KServe in staging.
 */

const minute = 60 * 1000;
const t0 = Date.UTC(2025, 4, 5, 9, 0, 0);
const at = (minutes: number) => new Date(t0 + minutes * minute).toISOString();

export const canaryRollout: Rollout = {
  id: 'rollout-7',
  deploymentId: 'deployment-production',
  strategy: 'canary',
  state: 'progressing',
  stableVersion: 2,
  candidateVersion: 3,
  steps: [10, 25, 50, 100],
  stepIndex: 1,
  weight: 25,
  slo: { minRequests: 50, maxErrorRate: 0.01, maxLatencyP95Ms: 50 },
  startedBy: 'user:default/alice',
  startedAt: at(0),
  stepStartedAt: at(5),
  lastAnalysisAt: at(6),
};

export const productionDeployment: Deployment = {
  id: 'deployment-production',
  modelName: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  environment: 'production',
  target: 'embedded',
  stableVersion: 2,
  rollout: canaryRollout,
  weights: { stable: 75, candidate: 25 },
  createdAt: at(-60 * 24),
  updatedAt: at(5),
};

/** Newest first: the current step is still waiting for traffic. */
export const canaryAnalyses: RolloutAnalysis[] = [
  {
    id: 'analysis-2',
    rolloutId: 'rollout-7',
    stepIndex: 1,
    weight: 25,
    windowStart: at(5),
    windowEnd: at(6),
    verdict: 'wait',
    checks: [
      {
        name: 'requests',
        verdict: 'wait',
        value: 12,
        threshold: 50,
        message: '12 requests of the 50 needed',
      },
    ],
    arms: {
      stable: { requests: 40, errors: 0, errorRate: 0, latencyP95Ms: 11 },
      candidate: { requests: 12, errors: 0, errorRate: 0, latencyP95Ms: 14 },
    },
    createdAt: at(6),
  },
  {
    id: 'analysis-1',
    rolloutId: 'rollout-7',
    stepIndex: 0,
    weight: 10,
    windowStart: at(0),
    windowEnd: at(5),
    verdict: 'pass',
    checks: [
      {
        name: 'requests',
        verdict: 'pass',
        value: 64,
        threshold: 50,
        message: '64 requests',
      },
      {
        name: 'errorRate',
        verdict: 'pass',
        value: 0.005,
        threshold: 0.01,
        message: 'Error rate 0.5% within 1%',
      },
      {
        name: 'latencyP95',
        verdict: 'pass',
        value: 18.5,
        threshold: 50,
        message: 'p95 18.5 ms within 50 ms',
      },
    ],
    arms: {
      stable: {
        requests: 580,
        errors: 1,
        errorRate: 0.0017,
        latencyP95Ms: 12,
        latencyP99Ms: 30,
        quality: { metric: 'rmse', value: 0.64, samples: 120 },
      },
      candidate: {
        requests: 64,
        errors: 0,
        errorRate: 0.005,
        latencyP95Ms: 18.5,
        latencyP99Ms: 41,
        quality: { metric: 'rmse', value: 0.61, samples: 14 },
      },
    },
    createdAt: at(5),
  },
];

/** Newest first: the analysis advanced the canary after alice started it. */
export const canaryEvents: RolloutEvent[] = [
  {
    id: 'event-2',
    deploymentId: 'deployment-production',
    rolloutId: 'rollout-7',
    action: 'step',
    actor: 'system:analysis',
    automatic: true,
    fromWeight: 10,
    toWeight: 25,
    comment: 'All checks passed',
    createdAt: at(5),
  },
  {
    id: 'event-1',
    deploymentId: 'deployment-production',
    rolloutId: 'rollout-7',
    action: 'start',
    actor: 'user:default/alice',
    automatic: false,
    fromWeight: 0,
    toWeight: 10,
    comment: 'Ridge with new features',
    createdAt: at(0),
  },
];

export const productionDetail: DeploymentDetail = {
  deployment: productionDeployment,
  rollouts: [canaryRollout],
  analyses: canaryAnalyses,
  events: canaryEvents,
  canManage: true,
};

export const stagingDeployment: Deployment = {
  id: 'deployment-staging',
  modelName: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  environment: 'staging',
  target: 'kserve',
  stableVersion: 3,
  rollout: {
    ...canaryRollout,
    id: 'rollout-5',
    deploymentId: 'deployment-staging',
    strategy: 'blue-green',
    state: 'promoted',
    steps: [100],
    stepIndex: 0,
    weight: 100,
    switched: true,
    finishedAt: at(-30),
    reason: 'All checks passed',
  },
  weights: { stable: 100, candidate: 0 },
  targetStatus: {
    ready: true,
    resource: 'kserve-test/wine-quality-staging',
    traffic: [{ name: 'wine-quality-staging-predictor-00002', percent: 100 }],
    observedAt: at(5),
  },
  createdAt: at(-60 * 24),
  updatedAt: at(-30),
};

export const stagingDetail: DeploymentDetail = {
  deployment: stagingDeployment,
  rollouts: [stagingDeployment.rollout!],
  analyses: [],
  events: [],
  canManage: true,
};

export const wineQualityDeployments: DeploymentList = {
  items: [productionDeployment, stagingDeployment],
  environments: [
    { name: 'production', target: 'embedded', stage: 'Production' },
    { name: 'staging', target: 'kserve', stage: 'Staging' },
  ],
  // The server's configuration, unlike the client's own fallbacks.
  defaults: {
    steps: {
      canary: [10, 30, 100],
      shadow: [50],
      ab: [20],
      'blue-green': [100],
    },
    slo: { minRequests: 40, maxErrorRate: 0.02, maxLatencyP99Ms: 300 },
  },
};
