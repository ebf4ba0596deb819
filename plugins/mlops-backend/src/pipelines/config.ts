import { Config } from '@backstage/config';
import os from 'node:os';
import path from 'node:path';

/** `mlops.pipelines`, with its defaults. */
export interface PipelinesConfig {
  workspaceDirectory: string;
  defaultTimeoutSeconds: number;
  passEnv: string[];
  logRetentionDays: number;
  maxLogLinesPerStep: number;
  maxLatenessMs: number;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  /** Unset: this backend's `/openlineage` route. */
  openLineageUrl?: string;
  /** Unset: this backend's `/mlflow` route. */
  trackingUri?: string;
}

export function readPipelinesConfig(config: Config): PipelinesConfig {
  const c = config.getOptionalConfig('mlops.pipelines');
  const positive = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key) ?? fallback;
    if (!(value > 0)) {
      throw new Error(
        `Invalid config mlops.pipelines.${key}: ${value} must be a positive number`,
      );
    }
    return value;
  };
  return {
    workspaceDirectory:
      c?.getOptionalString('workspaceDirectory') ??
      path.join(os.tmpdir(), 'loopline', 'pipelines'),
    defaultTimeoutSeconds: positive('local.defaultTimeoutSeconds', 3600),
    passEnv: c?.getOptionalStringArray('local.passEnv') ?? [],
    logRetentionDays: positive('logs.retentionDays', 30),
    maxLogLinesPerStep: positive('logs.maxLinesPerStep', 100_000),
    maxLatenessMs: positive('schedule.maxLatenessMinutes', 60) * 60_000,
    heartbeatIntervalMs: positive('heartbeatIntervalSeconds', 5) * 1000,
    staleAfterMs: positive('staleAfterSeconds', 60) * 1000,
    ...(c?.getOptionalString('openLineageUrl')
      ? { openLineageUrl: c.getString('openLineageUrl') }
      : {}),
    ...(c?.getOptionalString('trackingUri')
      ? { trackingUri: c.getString('trackingUri') }
      : {}),
  };
}
