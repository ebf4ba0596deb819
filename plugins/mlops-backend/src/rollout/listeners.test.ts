import { mockServices } from '@backstage/backend-test-utils';
import { Deployment } from '@loopline/mlops-common';
import { Registry } from 'prom-client';
import { RolloutMetrics } from './metrics';
import { rolloutNotifier } from './notifications';

const canary = (overrides: Partial<Deployment> = {}): Deployment => ({
  id: 'd1',
  modelName: 'wine-quality',
  entityRef: 'model:default/wine-quality',
  environment: 'production',
  target: 'embedded',
  stableVersion: 1,
  weights: { stable: 75, candidate: 25 },
  rollout: {
    id: 'r1',
    deploymentId: 'd1',
    strategy: 'canary',
    state: 'progressing',
    stableVersion: 1,
    candidateVersion: 2,
    steps: [10, 25, 50, 100],
    stepIndex: 1,
    weight: 25,
    slo: { minRequests: 50, maxErrorRate: 0.01 },
    startedBy: 'user:default/alice',
    startedAt: '2026-11-23T10:00:00.000Z',
    stepStartedAt: '2026-11-23T10:01:00.000Z',
  },
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:01:00.000Z',
  ...overrides,
});

describe('rolloutNotifier', () => {
  it("tells the model's owners, through its entity, of an automatic rollback", async () => {
    const send = jest.fn(async () => {});
    const notifier = rolloutNotifier({
      notifications: { send },
      logger: mockServices.logger.mock(),
    });
    await notifier.onAction!({
      deployment: canary({ weights: { stable: 100, candidate: 0 } }),
      action: 'rollback',
      actor: 'system:analysis',
      automatic: true,
      comment: 'Analysis failed: error rate 100% > 2%',
    });
    expect(send).toHaveBeenCalledWith({
      recipients: { type: 'entity', entityRef: 'model:default/wine-quality' },
      payload: {
        title: 'wine-quality v2 in production: rollout rolled back',
        description:
          'By the analysis (canary); stable 100% / candidate 0%. Analysis failed: error rate 100% > 2%',
        link: '/catalog/default/model/wine-quality/deployments',
        severity: 'high',
        topic: 'loopline-rollout:wine-quality:production',
      },
    });
  });

  it('logs a failure to notify instead of failing the action', async () => {
    const logger = mockServices.logger.mock();
    const notifier = rolloutNotifier({
      notifications: {
        send: async () => {
          throw new Error('notifications backend not installed');
        },
      },
      logger,
    });
    await expect(
      notifier.onAction!({
        deployment: canary(),
        action: 'step',
        actor: 'system:analysis',
        automatic: true,
      }),
    ).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('notifications backend not installed'),
    );
  });
});

describe('RolloutMetrics', () => {
  it('exports the weights, the state and the step of each deployment', async () => {
    const registry = new Registry();
    const metrics = new RolloutMetrics(registry);
    metrics.onChange(canary());
    const text = await registry.metrics();
    expect(text).toContain(
      'loopline_rollout_traffic_weight{model="wine-quality",environment="production",arm="candidate"} 25',
    );
    expect(text).toContain(
      'loopline_rollout_state{model="wine-quality",environment="production",state="progressing"} 1',
    );
    expect(text).toContain(
      'loopline_rollout_state{model="wine-quality",environment="production",state="promoted"} 0',
    );
    expect(text).toContain(
      'loopline_rollout_step{model="wine-quality",environment="production"} 1',
    );
  });
});
