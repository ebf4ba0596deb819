import { useEffect, useState } from 'react';
import type { ServingStats } from '@loopline/mlops-common';
import type { MlopsApi } from '../../api';

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
 * A model's serving figures, read now and then again `intervalMs` after each
 * answer (so a slow backend is never asked twice at once). A failed poll
 * keeps the last figures and reports the error; polling goes on. While the
 * page is hidden, polls are skipped.
 */
export function usePolledStats(
  mlopsApi: MlopsApi,
  modelName: string,
  options: { windowSeconds: number; intervalMs: number; maxSamples?: number },
): PolledStats {
  const { windowSeconds, intervalMs, maxSamples = 60 } = options;
  const [state, setState] = useState<PolledStats>({ history: [] });

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ history: [] });

    const poll = async () => {
      const hidden =
        typeof document !== 'undefined' &&
        document.visibilityState === 'hidden';
      if (!hidden) {
        try {
          const stats = await mlopsApi.getServingStats(
            modelName,
            windowSeconds,
          );
          if (stopped) {
            return;
          }
          const at = Date.now();
          setState(previous => ({
            stats,
            updatedAt: at,
            history: [
              ...previous.history,
              {
                at,
                requestsPerSecond: stats.requestsPerSecond,
                p95: stats.latencyMs.p95,
              },
            ].slice(-maxSamples),
          }));
        } catch (error) {
          if (stopped) {
            return;
          }
          setState(previous => ({ ...previous, error: error as Error }));
        }
      }
      if (!stopped) {
        timer = setTimeout(poll, intervalMs);
      }
    };
    poll();

    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [mlopsApi, modelName, windowSeconds, intervalMs, maxSamples]);

  return state;
}
