import { CronTime } from 'cron';

/** The first time `cron` fires after `now` (UTC). */
export function nextFireTime(cron: string, now: number): number {
  return new CronTime(cron, 'UTC').getNextDateFrom(new Date(now)).toMillis();
}

/**
 * The latest time `cron` fired at or before `now`, if it is no older than
 * `maxLatenessMs`: the slot a tick must start, however late the tick is (a
 * missed slot is run once, older ones not at all, like KFP's `no_catchup`).
 */
export function dueFireTime(
  cron: string,
  now: number,
  maxLatenessMs: number,
): number | undefined {
  const time = new CronTime(cron, 'UTC');
  let due: number | undefined;
  // getNextDateFrom is strictly after its start: begin one ms before the window.
  let next = time.getNextDateFrom(new Date(now - maxLatenessMs - 1)).toMillis();
  while (next <= now) {
    due = next;
    next = time.getNextDateFrom(new Date(next)).toMillis();
  }
  return due;
}
