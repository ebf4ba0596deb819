import fs from 'node:fs';
import path from 'node:path';
import { evaluateGates, probeLatencyP95 } from './gates';

describe('evaluateGates', () => {
  const gates = {
    metrics: [
      { metric: 'rmse', max: 0.9 },
      { metric: 'r2', min: 0.2 },
    ],
    beatProduction: { metric: 'rmse', margin: 0.01 },
    maxLatencyP95Ms: 5,
  };

  it('passes a candidate within its bounds that beats Production by the margin', () => {
    const checks = evaluateGates(gates, {
      metrics: { rmse: 0.7, r2: 0.3 },
      production: { version: 1, metrics: { rmse: 0.72 } },
      latencyP95Ms: 1.5,
    });
    expect(checks.map(c => [c.gate, c.passed])).toEqual([
      ['metric:rmse', true],
      ['metric:r2', true],
      ['beatProduction:rmse', true],
      ['latencyP95', true],
    ]);
  });

  it('refuses with a reason per failed gate; lower is better for rmse, higher for accuracy', () => {
    const checks = evaluateGates(gates, {
      metrics: { rmse: 0.95 },
      production: { version: 3, metrics: { rmse: 0.72 } },
      latencyP95Ms: 12,
    });
    expect(checks.filter(c => !c.passed).map(c => c.message)).toEqual([
      'rmse 0.9500 is above the maximum 0.9',
      'The candidate has no metric r2',
      'rmse 0.9500 does not beat Production v3 (0.7200) by 0.01 (lower is better)',
      'p95 latency 12.00 ms is above the maximum 5 ms',
    ]);
    const accuracy = evaluateGates(
      { beatProduction: { metric: 'accuracy', margin: -0.01 } },
      {
        metrics: { accuracy: 0.895 },
        production: { version: 1, metrics: { accuracy: 0.9 } },
      },
    );
    expect(accuracy[0].passed).toBe(true);
  });

  it('passes the Production gate when there is nothing to beat, and fails an unmeasured latency', () => {
    const checks = evaluateGates(gates, {
      metrics: { rmse: 0.5, r2: 0.5 },
      latencyError: 'the version has no ONNX file',
    });
    expect(checks[2]).toMatchObject({
      passed: true,
      message: 'No Production version with rmse to beat',
    });
    expect(checks[3]).toMatchObject({
      passed: false,
      message:
        'The p95 latency could not be measured: the version has no ONNX file',
    });
  });
});

describe('probeLatencyP95', () => {
  it('times predictions of a real ONNX model in process', async () => {
    const bytes = fs.readFileSync(
      path.resolve(
        __dirname,
        '../../../../examples/rollout/wine-quality-4-features.onnx',
      ),
    );
    const p95 = await probeLatencyP95(bytes, undefined, 20);
    expect(p95).toBeGreaterThan(0);
    expect(p95).toBeLessThan(1000);
  });
});
