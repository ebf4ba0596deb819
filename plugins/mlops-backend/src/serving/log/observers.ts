import { InferenceEvent, InferenceEventObserver } from './types';

/**
 * One observer that hands each event to all of `observers` (e.g. the
 * metrics, then the log). Synchronous; an observer that throws is skipped,
 * never the request.
 */
export function combineObservers(
  ...observers: InferenceEventObserver[]
): InferenceEventObserver {
  return {
    observe(event: InferenceEvent) {
      for (const observer of observers) {
        try {
          observer.observe(event);
        } catch {
          // Observing must never fail a request.
        }
      }
    },
  };
}
