import { Gauge, Registry } from 'prom-client';
import type { Deployment, RolloutState } from '@loopline/mlops-common';
import type { RolloutListener } from './RolloutService';

const STATES: Array<RolloutState | 'none'> = [
  'none',
  'progressing',
  'paused',
  'promoted',
  'rolled_back',
];

/**
 * Prometheus gauges of deployments, on the serving metrics' registry:
 * - `loopline_rollout_traffic_weight{model,environment,arm}`: live traffic share in percent
 * - `loopline_rollout_state{model,environment,state}`: 1 for the current rollout state
 * - `loopline_rollout_step{model,environment}`: the current step index
 */
export class RolloutMetrics implements RolloutListener {
  private readonly weight: Gauge<'model' | 'environment' | 'arm'>;
  private readonly state: Gauge<'model' | 'environment' | 'state'>;
  private readonly step: Gauge<'model' | 'environment'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.weight = new Gauge({
      name: 'loopline_rollout_traffic_weight',
      help: 'Live traffic share of each arm of a deployment, in percent',
      labelNames: ['model', 'environment', 'arm'],
      registers,
    });
    this.state = new Gauge({
      name: 'loopline_rollout_state',
      help: 'State of the current rollout of a deployment (1 for the current state)',
      labelNames: ['model', 'environment', 'state'],
      registers,
    });
    this.step = new Gauge({
      name: 'loopline_rollout_step',
      help: 'Index of the current step of the rollout of a deployment',
      labelNames: ['model', 'environment'],
      registers,
    });
  }

  onChange(deployment: Deployment): void {
    const labels = {
      model: deployment.modelName,
      environment: deployment.environment,
    };
    this.weight.set({ ...labels, arm: 'stable' }, deployment.weights.stable);
    this.weight.set(
      { ...labels, arm: 'candidate' },
      deployment.weights.candidate,
    );
    const current = deployment.rollout?.state ?? 'none';
    for (const state of STATES) {
      this.state.set({ ...labels, state }, state === current ? 1 : 0);
    }
    this.step.set(labels, deployment.rollout?.stepIndex ?? 0);
  }
}
