/** An axis: its domain, rounded out to its ticks. */
export interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

/**
 * A "nice" axis for values from `min` to `max`: about `count` ticks at 1, 2
 * or 5 times a power of ten, the domain widened to the outer ticks. An empty
 * or single-valued range is widened so the values sit inside it.
 */
export function niceAxis(
  min: number,
  max: number,
  options: { count?: number; integer?: boolean } = {},
): Axis {
  const { count = 5, integer = false } = options;
  let low = min;
  let high = max;
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    low = 0;
    high = 1;
  }
  if (low === high) {
    const pad = integer ? 1 : Math.abs(low) * 0.1 || 1;
    low -= pad;
    high += pad;
  }
  const rough = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const normalised = rough / magnitude;
  let multiple = 10;
  if (normalised < 1.5) {
    multiple = 1;
  } else if (normalised < 3) {
    multiple = 2;
  } else if (normalised < 7) {
    multiple = 5;
  }
  let step = multiple * magnitude;
  if (integer) {
    step = Math.max(1, Math.round(step));
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const round = (value: number) => Number(value.toFixed(decimals));
  const first = Math.floor(low / step);
  const last = Math.ceil(high / step);
  const ticks: number[] = [];
  for (let index = first; index <= last; index++) {
    ticks.push(round(index * step));
  }
  return { min: ticks[0], max: ticks[ticks.length - 1], ticks };
}

/** Maps a value of a domain onto a pixel range. */
export function linearScale(
  domain: { min: number; max: number },
  from: number,
  to: number,
): (value: number) => number {
  const span = domain.max - domain.min || 1;
  return value => from + ((value - domain.min) / span) * (to - from);
}

/**
 * At most `limit` points of a long series, evenly spread, keeping the first
 * and last (a 10,000-step history need not be 10,000 path segments).
 */
export function thin<T>(points: ReadonlyArray<T>, limit: number): T[] {
  if (points.length <= limit) {
    return [...points];
  }
  const stride = (points.length - 1) / (limit - 1);
  return Array.from(
    { length: limit },
    (_, index) => points[Math.round(index * stride)],
  );
}
