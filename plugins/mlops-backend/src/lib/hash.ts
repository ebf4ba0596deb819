/**
 * Small, stable string hashes for sampling and traffic splitting: the same
 * text always lands in the same place, on every instance and after restarts.
 * Not for security.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * FNV-1a with murmur3's finalizer, as a number in [0, 1): the finalizer
 * spreads near-identical texts (ids differing in one digit) over the range,
 * so a sample rate keeps that share of them.
 */
export function unitHash(text: string): number {
  let hash = fnv1a32(text);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x100000000;
}

/**
 * A key's bucket 0..99 within a scope (e.g. a rollout): FNV-1a over the
 * scope and the key, so assignment is sticky within a scope and reshuffled
 * between scopes.
 */
export function bucketOf(scope: string, key: string): number {
  return fnv1a32(`${scope}\u0000${key}`) % 100;
}
