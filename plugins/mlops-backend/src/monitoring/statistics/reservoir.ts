/**
 * Seeded reservoir sampling (Vitter's Algorithm R) so that a large window is
 * tested on a fixed-size, uniform and reproducible sample: the same rows and
 * seed give the same sample, so a report can be recomputed.
 *
 * The generator is mulberry32 (32-bit state, period 2^32), seeded with a
 * 32-bit integer; the seed of a scheduled check is derived from the model,
 * version and window start (see `seedFor`).
 */
import { fnv1a32 } from '../../lib/hash';
import { mulberry32 } from '../../lib/random';

export { mulberry32 };

/** A 32-bit FNV-1a hash of a string, to seed a sample from what it samples. */
export const seedFor: (text: string) => number = fnv1a32;

/** Keeps a uniform sample of at most `size` items of a stream. */
export class Reservoir<T> {
  private readonly items: T[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(readonly size: number, seed: number) {
    this.random = mulberry32(seed);
  }

  add(item: T): void {
    this.seen += 1;
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    // Item i (1-based) replaces a random slot with probability size / i.
    const j = Math.floor(this.random() * this.seen);
    if (j < this.size) this.items[j] = item;
  }

  get count(): number {
    return this.seen;
  }

  get sampled(): boolean {
    return this.seen > this.items.length;
  }

  sample(): T[] {
    return this.items;
  }
}

export function reservoirSample<T>(
  items: Iterable<T>,
  size: number,
  seed: number,
): T[] {
  const r = new Reservoir<T>(size, seed);
  for (const item of items) r.add(item);
  return r.sample();
}
