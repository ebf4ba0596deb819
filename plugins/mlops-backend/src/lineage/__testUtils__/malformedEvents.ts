import { mulberry32 } from '../../lib/random';

/** Values that are no part of an event. */
export const JUNK: unknown[] = [
  null,
  42,
  'x',
  true,
  [],
  {},
  { a: 1 },
  -1.5,
  '',
];

/**
 * Breaks valid OpenLineage events, 1 to 3 ways each, from a seeded
 * generator (so a failure can be replayed): fields removed, malformed
 * values, parts replaced with junk, plus the caller's `extra` ways.
 */
export function eventBreaker(
  seed: number,
  extra: (pick: <T>(values: T[]) => T) => Array<(e: any) => void> = () => [],
) {
  const random = mulberry32(seed);
  const pick = <T>(values: T[]) => values[Math.floor(random() * values.length)];
  const mutations: Array<(e: any) => void> = [
    e => delete e.eventTime,
    e => delete e.producer,
    e => delete e.run.runId,
    e => delete e.job.name,
    e => (e.eventTime = pick(['yesterday', '2026-13-01T00:00:00Z', 5])),
    e => (e.run.runId = pick(['1234', 7, null, 'g'.repeat(36)])),
    e => (e.eventType = pick(['DONE', 'start', 3])),
    e => (e.inputs = pick([{}, 'raw', [{ name: 'no-namespace' }]])),
    e => (e.job = pick(JUNK)),
    e => (e.run = pick(JUNK)),
    ...extra(pick),
  ];
  return {
    random,
    pick,
    /** Mutates `event` in place and returns it. */
    breakEvent<E>(event: E): E {
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        try {
          pick(mutations)(event);
        } catch {
          // a mutation of a part an earlier one replaced with junk
        }
      }
      return event;
    },
  };
}
