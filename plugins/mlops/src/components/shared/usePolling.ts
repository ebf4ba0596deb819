import { useCallback, useEffect, useRef, useState } from 'react';

/** The latest answer, the last failure, and a way to read again now. */
export interface Polled<T> {
  value?: T;
  /** The last read's failure; cleared by the next success. */
  error?: Error;
  /** When `value` was read, in milliseconds since the epoch. */
  updatedAt?: number;
  /** Reads again at once (after an action), then keeps polling. */
  refresh: () => void;
}

/**
 * Reads `load` now and again `intervalMs` after each answer (so a slow
 * backend is never asked twice at once). A failed read keeps the last value
 * and reports the error; polling goes on. While the page is hidden, reads are
 * skipped. A new `key` (another model) starts over without the old value;
 * `load` itself may change on every render.
 */
export function usePolling<T>(
  key: string,
  load: () => Promise<T>,
  intervalMs: number,
): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({});
  const [refreshes, setRefreshes] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setState({});
  }, [key]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const poll = async () => {
      const hidden =
        typeof document !== 'undefined' &&
        document.visibilityState === 'hidden';
      if (!hidden) {
        try {
          const value = await loadRef.current();
          if (stopped) {
            return;
          }
          setState({ value, updatedAt: Date.now() });
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
  }, [key, intervalMs, refreshes]);

  const refresh = useCallback(() => setRefreshes(count => count + 1), []);
  return { ...state, refresh };
}
