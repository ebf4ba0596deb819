import { RingBuffer } from './RingBuffer';

describe('RingBuffer', () => {
  it('is FIFO and evicts the oldest when full', () => {
    const buffer = new RingBuffer<number>(3);
    expect(buffer.push(1)).toBeUndefined();
    expect(buffer.push(2)).toBeUndefined();
    expect(buffer.push(3)).toBeUndefined();
    expect(buffer.push(4)).toBe(1);
    expect(buffer.size).toBe(3);
    expect(buffer.shiftMany(2)).toEqual([2, 3]);
    buffer.push(5);
    buffer.push(6);
    expect(buffer.shiftMany(10)).toEqual([4, 5, 6]);
    expect(buffer.size).toBe(0);
    expect(buffer.shiftMany(1)).toEqual([]);
  });

  it('puts items back in front and hands back what does not fit', () => {
    const buffer = new RingBuffer<number>(4);
    [1, 2, 3, 4].forEach(n => buffer.push(n));
    const taken = buffer.shiftMany(3); // [1, 2, 3]
    buffer.push(5);
    buffer.push(6);
    // Room for one: the newest of the taken items goes back, 1 and 2 are lost.
    expect(buffer.unshiftMany(taken)).toEqual([1, 2]);
    expect(buffer.shiftMany(10)).toEqual([3, 4, 5, 6]);
    expect(buffer.unshiftMany([7, 8])).toEqual([]);
    buffer.push(9);
    expect(buffer.shiftMany(10)).toEqual([7, 8, 9]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(/positive integer/);
    expect(() => new RingBuffer(1.5)).toThrow(/positive integer/);
  });
});
