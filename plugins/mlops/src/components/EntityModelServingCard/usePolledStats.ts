import { useEffect, useState } from 'react';
import type { ServingStats } from '@loopline/mlops-common';
import type { MlopsApi } from '../../api';
import { usePolling } from '../shared';

/** One poll's figures, for the sparklines. */
export interface StatsSample {
  at: number;
  requestsPerSecond: number;
  p95?: number;
}

/** The latest figures, the last error and the recent history. */
export interface PolledStats {
  stats?: ServingStats;
  /** The last poll's failure; cleared by the next success. */
  error?: Error;
  /** When `stats` was read, in milliseconds since the epoch. */
  updatedAt?: number;
  /** Oldest first, at most `maxSamples`. */
  history: StatsSample[];
}

/**
 * A model's serving figures, polled (see `usePolling`), with the recent
 * history of each successful poll for the sparklines.
 */
export function usePolledStats(
  mlopsApi: MlopsApi,
  modelName: string,
  options: { windowSeconds: number; intervalMs: number; maxSamples?: number },
): PolledStats {
  const { windowSeconds, intervalMs, maxSamples = 60 } = options;
  const key = `${modelName}\u0000${windowSeconds}`;
  const polled = usePolling(
    key,
    () => mlopsApi.getServingStats(modelName, windowSeconds),
    intervalMs,
  );
  const [history, setHistory] = useState<StatsSample[]>([]);

  const { value: stats, updatedAt: at } = polled;
  useEffect(() => setHistory([]), [key]);
  // Once per answer: each successful poll brings new stats.
  useEffect(() => {
    if (!stats || at === undefined) return;
    setHistory(previous =>
      [
        ...previous,
        {
          at,
          requestsPerSecond: stats.requestsPerSecond,
          p95: stats.latencyMs.p95,
        },
      ].slice(-maxSamples),
    );
  }, [stats, at, maxSamples]);

  return { stats, error: polled.error, updatedAt: at, history };
}
