import { GateCheck, ModelGates, ModelSignature } from '@loopline/mlops-common';
import { loadOnnxRuntime, zeroFeeds } from '../serving';

/** Metrics where less is better; the others are better higher. */
export const LOWER_IS_BETTER = new Set([
  'rmse',
  'mae',
  'mse',
  'log_loss',
  'loss',
  'val_rmse',
  'val_loss',
]);

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/**
 * A candidate against its Model's gates: each metric bound, beating the
 * Production version by the margin (in the metric's direction), and the p95
 * latency of the probe. Pure: the caller measures and looks things up.
 */
export function evaluateGates(
  gates: ModelGates,
  input: {
    metrics: Record<string, number>;
    production?: { version: number; metrics: Record<string, number> };
    latencyP95Ms?: number;
    /** Why the latency could not be measured, when it could not. */
    latencyError?: string;
  },
): GateCheck[] {
  const checks: GateCheck[] = [];
  for (const bound of gates.metrics ?? []) {
    const gate = `metric:${bound.metric}`;
    const value = input.metrics[bound.metric];
    if (value === undefined) {
      checks.push({
        gate,
        passed: false,
        message: `The candidate has no metric ${bound.metric}`,
      });
      continue;
    }
    if (bound.min !== undefined && value < bound.min) {
      checks.push({
        gate,
        passed: false,
        observed: value,
        threshold: bound.min,
        message: `${bound.metric} ${fmt(value)} is below the minimum ${
          bound.min
        }`,
      });
    } else if (bound.max !== undefined && value > bound.max) {
      checks.push({
        gate,
        passed: false,
        observed: value,
        threshold: bound.max,
        message: `${bound.metric} ${fmt(value)} is above the maximum ${
          bound.max
        }`,
      });
    } else {
      checks.push({
        gate,
        passed: true,
        observed: value,
        message: `${bound.metric} ${fmt(value)} is within its bounds`,
      });
    }
  }
  if (gates.beatProduction) {
    const { metric, margin = 0 } = gates.beatProduction;
    const gate = `beatProduction:${metric}`;
    const value = input.metrics[metric];
    const reference = input.production?.metrics[metric];
    if (value === undefined) {
      checks.push({
        gate,
        passed: false,
        message: `The candidate has no metric ${metric}`,
      });
    } else if (!input.production || reference === undefined) {
      checks.push({
        gate,
        passed: true,
        observed: value,
        message: `No Production version with ${metric} to beat`,
      });
    } else {
      const lower = LOWER_IS_BETTER.has(metric);
      const passed = lower
        ? value <= reference - margin
        : value >= reference + margin;
      checks.push({
        gate,
        passed,
        observed: value,
        threshold: reference,
        message: `${metric} ${fmt(value)} ${
          passed ? 'beats' : 'does not beat'
        } Production v${input.production.version} (${fmt(
          reference,
        )}) by ${margin}${lower ? ' (lower is better)' : ''}`,
      });
    }
  }
  if (gates.maxLatencyP95Ms !== undefined) {
    const max = gates.maxLatencyP95Ms;
    if (input.latencyP95Ms === undefined) {
      checks.push({
        gate: 'latencyP95',
        passed: false,
        threshold: max,
        message: `The p95 latency could not be measured: ${
          input.latencyError ?? 'no model file'
        }`,
      });
    } else {
      const passed = input.latencyP95Ms <= max;
      checks.push({
        gate: 'latencyP95',
        passed,
        observed: input.latencyP95Ms,
        threshold: max,
        message: `p95 latency ${input.latencyP95Ms.toFixed(2)} ms is ${
          passed ? 'within' : 'above'
        } the maximum ${max} ms`,
      });
    }
  }
  return checks;
}

/**
 * The p95 latency of one prediction (batch 1, inputs of zeros) over
 * `iterations` runs of an ONNX model in this process, after two warm-up
 * runs: a short probe, not a load test.
 */
export async function probeLatencyP95(
  bytes: Uint8Array,
  signature: ModelSignature | undefined,
  iterations = 50,
): Promise<number> {
  const ort = loadOnnxRuntime();
  const session = await ort.InferenceSession.create(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    { logSeverityLevel: 4, intraOpNumThreads: 1, interOpNumThreads: 1 },
  );
  try {
    const inputs =
      signature?.inputs ??
      session.inputMetadata.map(m => ({
        name: m.name,
        datatype: 'FP32' as const,
        shape: (m as { shape?: unknown[] }).shape?.map(d =>
          typeof d === 'number' ? d : -1,
        ) ?? [1],
      }));
    const feeds = zeroFeeds(ort, inputs);
    await session.run(feeds);
    await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    return times[
      Math.min(times.length - 1, Math.ceil(0.95 * times.length) - 1)
    ];
  } finally {
    await session.release();
  }
}
