import { screen } from '@testing-library/react';
import { renderInTestApp } from '@backstage/test-utils';
import type { Deployment } from '@loopline/mlops-common';
import { productionDeployment } from '../../__testUtils__/rollout';
import { TrafficSplit } from './RolloutProgress';

const blueGreen = (target: Deployment['target']): Deployment => ({
  ...productionDeployment,
  target,
  weights: { stable: 100, candidate: 0 },
  rollout: {
    ...productionDeployment.rollout!,
    strategy: 'blue-green',
    state: 'progressing',
    steps: [100],
    stepIndex: 0,
    weight: 0,
    switched: false,
  },
});

describe('TrafficSplit', () => {
  it('says a blue-green candidate gets a copy of every request before the switch', async () => {
    await renderInTestApp(<TrafficSplit deployment={blueGreen('embedded')} />);
    expect(
      screen.getByText(/runs beside stable on a copy of every request/),
    ).toBeInTheDocument();
  });

  it('says a blue-green candidate on KServe waits without traffic until it is ready', async () => {
    await renderInTestApp(<TrafficSplit deployment={blueGreen('kserve')} />);
    expect(
      screen.getByText(/without traffic until it is ready/),
    ).toBeInTheDocument();
  });
});
