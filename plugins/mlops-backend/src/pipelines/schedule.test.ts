import { dueFireTime, nextFireTime } from './schedule';

const at = (iso: string) => Date.parse(iso);

describe('pipeline schedules', () => {
  it('find the slot due within the lateness, else none', () => {
    const hour = 3_600_000;
    expect(dueFireTime('0 4 * * 1', at('2026-12-07T04:00:00Z'), hour)).toBe(
      at('2026-12-07T04:00:00Z'),
    );
    expect(dueFireTime('0 4 * * 1', at('2026-12-07T04:59:00Z'), hour)).toBe(
      at('2026-12-07T04:00:00Z'),
    );
    expect(
      dueFireTime('0 4 * * 1', at('2026-12-07T05:00:01Z'), hour),
    ).toBeUndefined();
    expect(
      dueFireTime('0 4 * * 1', at('2026-12-07T03:59:59Z'), hour),
    ).toBeUndefined();
    // Several slots missed: only the latest runs.
    expect(dueFireTime('*/5 * * * *', at('2026-12-07T04:17:00Z'), hour)).toBe(
      at('2026-12-07T04:15:00Z'),
    );
  });

  it('tell the next slot', () => {
    expect(nextFireTime('0 4 * * 1', at('2026-12-07T04:00:00Z'))).toBe(
      at('2026-12-14T04:00:00Z'),
    );
    expect(nextFireTime('30 1 * * *', at('2026-12-07T12:00:00Z'))).toBe(
      at('2026-12-08T01:30:00Z'),
    );
  });
});
