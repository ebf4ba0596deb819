import { Config } from '@backstage/config';

export interface MonitoringConfig {
  /** How often the scheduler's tick looks for due drift checks. */
  tickIntervalSeconds: number;
  /** The current window when a Model names none: the log's last N minutes. */
  windowMinutes: number;
  /** Fewer decoded rows than this in a window: the report says `insufficient_data`. */
  minRows: number;
  /** Larger references and windows are reservoir-sampled down to these. */
  maxReferenceRows: number;
  maxCurrentRows: number;
  /** At most this many log rows are read for one window. */
  maxLogRows: number;
  /** One alert per Model and kind per cooldown, unless the Model says otherwise. */
  alertCooldownMinutes: number;
  /** Fewer values than this on either side of a feature: `insufficient_data`. */
  minFeatureValues: number;
  /** Columns a `POST /drift/compare` may send. */
  maxCompareColumns: number;
  /** The largest body of `POST /drift/compare` and of an uploaded reference (express's size syntax). */
  compareBodyLimit: string;
  /** Ground truth younger than this waits for the next tick (its request's log row may not be flushed yet). */
  groundTruthSettleMs: number;
  /** Alertmanager's base URL; alerts are posted to its `/api/v2/alerts` when set. */
  alertmanagerUrl?: string;
}

export function readMonitoringConfig(config: Config): MonitoringConfig {
  const c = config.getOptionalConfig('mlops.monitoring');
  return {
    tickIntervalSeconds: c?.getOptionalNumber('tickIntervalSeconds') ?? 30,
    windowMinutes: c?.getOptionalNumber('windowMinutes') ?? 60,
    minRows: c?.getOptionalNumber('minRows') ?? 30,
    maxReferenceRows: c?.getOptionalNumber('maxReferenceRows') ?? 100_000,
    maxCurrentRows: c?.getOptionalNumber('maxCurrentRows') ?? 100_000,
    maxLogRows: c?.getOptionalNumber('maxLogRows') ?? 200_000,
    alertCooldownMinutes: c?.getOptionalNumber('alertCooldownMinutes') ?? 60,
    minFeatureValues: c?.getOptionalNumber('minFeatureValues') ?? 5,
    maxCompareColumns: c?.getOptionalNumber('maxCompareColumns') ?? 500,
    compareBodyLimit: c?.getOptionalString('compareBodyLimit') ?? '16mb',
    groundTruthSettleMs: c?.getOptionalNumber('groundTruthSettleMs') ?? 5000,
    alertmanagerUrl: c?.getOptionalString('alertmanager.url'),
  };
}
