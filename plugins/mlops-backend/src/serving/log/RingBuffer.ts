/**
 * A bounded FIFO queue over a fixed array: O(1) push and shift; when full,
 * a push evicts the oldest item and hands it back so the caller can count it.
 */
export class RingBuffer<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(
        `RingBuffer capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `item`; returns the evicted oldest item when the buffer was full. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.count === this.capacity) {
      evicted = this.items[this.head];
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      return evicted;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    return undefined;
  }

  /** Removes and returns up to `n` of the oldest items, oldest first. */
  shiftMany(n: number): T[] {
    const taken = Math.min(n, this.count);
    const result = new Array<T>(taken);
    for (let i = 0; i < taken; i++) {
      result[i] = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= taken;
    return result;
  }

  /**
   * Puts `items` (oldest first) back in front of the queue, as the oldest.
   * What does not fit is not put back: the oldest of `items` are returned.
   */
  unshiftMany(items: T[]): T[] {
    const room = this.capacity - this.count;
    const lost = items.length > room ? items.slice(0, items.length - room) : [];
    const kept = items.length > room ? items.slice(items.length - room) : items;
    for (let i = kept.length - 1; i >= 0; i--) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = kept[i];
    }
    this.count += kept.length;
    return lost;
  }
}
