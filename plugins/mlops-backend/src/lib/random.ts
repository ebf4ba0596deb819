/**
 * mulberry32: a seeded pseudo-random generator of uniform numbers in [0, 1)
 * (32-bit state, full period 2^32). The same seed gives the same sequence on
 * every platform, so a sample or a split can be made again. Not for security.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
