import { Gauge, Registry } from 'prom-client';
import type { DriftReport } from '@loopline/mlops-common';

/**
 * The Prometheus gauges of monitoring, on the registry `/metrics` serves:
 * `loopline_drift_score{model,version,feature,method}`,
 * `loopline_drift_detected{model,version}` and
 * `loopline_model_quality{model,version,metric}`.
 */
export class MonitoringMetrics {
  private readonly score: Gauge<string>;
  private readonly detected: Gauge<string>;
  private readonly quality: Gauge<string>;

  constructor(registry: Registry) {
    const existing = (name: string) =>
      registry.getSingleMetric(name) as Gauge<string> | undefined;
    this.score =
      existing('loopline_drift_score') ??
      new Gauge({
        name: 'loopline_drift_score',
        help: "A feature's drift score in the latest report: the p-value for tests, the distance otherwise",
        labelNames: ['model', 'version', 'feature', 'method'],
        registers: [registry],
      });
    this.detected =
      existing('loopline_drift_detected') ??
      new Gauge({
        name: 'loopline_drift_detected',
        help: '1 when the latest report found dataset drift',
        labelNames: ['model', 'version'],
        registers: [registry],
      });
    this.quality =
      existing('loopline_model_quality') ??
      new Gauge({
        name: 'loopline_model_quality',
        help: 'Quality against ground truth in the latest report window',
        labelNames: ['model', 'version', 'metric'],
        registers: [registry],
      });
  }

  record(report: DriftReport): void {
    const { model, version } = report;
    for (const f of report.features) {
      if (f.score !== null && f.method) {
        this.score.set(
          { model, version, feature: f.name, method: f.method },
          f.score,
        );
      }
    }
    this.detected.set({ model, version }, report.datasetDrift ? 1 : 0);
    for (const [metric, value] of Object.entries(report.quality ?? {})) {
      if (metric !== 'count' && typeof value === 'number') {
        this.quality.set({ model, version, metric }, value);
      }
    }
  }
}
