import { InputError } from '@backstage/errors';
import { mulberry32 } from '../lib/random';

/** A seeded source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * A seeded pseudo-random generator (mulberry32: 32-bit state, full period
 * 2^32). The same seed gives the same sequence on every platform.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) {
    throw new InputError(
      `The random seed must be a finite number, got ${seed}`,
    );
  }
  return mulberry32(Math.trunc(seed));
}

/** A shuffled copy (Fisher-Yates) of the items. */
export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const result = items.slice();
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

export interface SplitOptions {
  /** Share of rows in the test set, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Default 42. */
  seed?: number;
  /** One class label per row: each class is split in the same proportion. */
  stratify?: ReadonlyArray<string | number | boolean>;
}

/** Row indices of a train/test split, each in ascending order. */
export interface SplitIndices {
  train: number[];
  test: number[];
}

/**
 * A seeded, reproducible train/test split of `n` rows. The test set gets
 * round(n * testFraction) rows (per class when stratified), at least one
 * per side when there are two or more rows.
 */
export function trainTestSplit(
  n: number,
  options: SplitOptions = {},
): SplitIndices {
  const testFraction = options.testFraction ?? 0.2;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(n) || n < 2) {
    throw new InputError(`A train/test split needs at least 2 rows, got ${n}`);
  }
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new InputError(
      `testFraction must be between 0 and 1, got ${testFraction}`,
    );
  }
  const rng = createRng(seed);
  const groups = new Map<string, number[]>();
  if (options.stratify) {
    if (options.stratify.length !== n) {
      throw new InputError(
        `stratify has ${options.stratify.length} labels for ${n} rows`,
      );
    }
    options.stratify.forEach((label, i) => {
      const key = `${typeof label}:${String(label)}`;
      const group = groups.get(key) ?? [];
      group.push(i);
      groups.set(key, group);
    });
  } else {
    groups.set(
      'all',
      Array.from({ length: n }, (_, i) => i),
    );
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const key of [...groups.keys()].sort()) {
    const shuffled = shuffle(groups.get(key)!, rng);
    let nTest = Math.round(shuffled.length * testFraction);
    if (shuffled.length >= 2) {
      nTest = Math.min(Math.max(nTest, 1), shuffled.length - 1);
    }
    test.push(...shuffled.slice(0, nTest));
    train.push(...shuffled.slice(nTest));
  }
  const ascending = (a: number, b: number) => a - b;
  return { train: train.sort(ascending), test: test.sort(ascending) };
}

/** The items at the given indices. */
export function pick<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map(i => items[i]);
}
