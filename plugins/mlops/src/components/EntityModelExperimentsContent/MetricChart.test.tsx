import { render, screen } from '@testing-library/react';
import { MetricChart } from './MetricChart';

describe('MetricChart', () => {
  it('breaks a line where a value is not a number', () => {
    render(
      <MetricChart
        title="loss by step"
        xLabel="step"
        yLabel="loss"
        series={[
          {
            id: 'a',
            label: 'run a',
            color: '#4e79a7',
            points: [
              { x: 0, y: 1 },
              { x: 1, y: 0.5 },
              { x: 2, y: NaN },
              { x: 3, y: 0.25 },
            ],
          },
        ]}
      />,
    );

    const path = screen
      .getByRole('img', { name: 'loss by step' })
      .querySelector('path[data-series="run a"]')!;
    expect(path.getAttribute('d')!.match(/[ML]/g)).toEqual(['M', 'L', 'M']);
  });

  it('thins a long history to at most 1000 points per line', () => {
    const points = Array.from({ length: 10_000 }, (_, step) => ({
      x: step,
      y: 1 / (step + 1),
    }));
    render(
      <MetricChart
        title="loss by step"
        xLabel="step"
        yLabel="loss"
        series={[{ id: 'a', label: 'run a', color: '#4e79a7', points }]}
      />,
    );

    const chart = screen.getByRole('img', { name: 'loss by step' });
    const path = chart.querySelector('path[data-series="run a"]')!;
    expect(path.getAttribute('d')!.match(/[ML]/g)).toHaveLength(1000);
    // Too many points for dots.
    expect(chart.querySelectorAll('circle')).toHaveLength(0);
    expect(chart.querySelector('[data-axis="x"]')).toHaveTextContent('10000');
  });
});
