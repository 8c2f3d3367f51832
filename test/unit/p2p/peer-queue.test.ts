import { describe, expect, it } from 'vitest';
import { PeerQueue } from '../../../src/p2p/peer-queue.ts';

const f = (n: number, fill = 0) => new Uint8Array(n).fill(fill);

describe('peer queue', () => {
  it('is bounded by frame count: the newest frame is refused when full', () => {
    const q = new PeerQueue(3, 1000);
    expect([q.push(f(1)), q.push(f(1)), q.push(f(1)), q.push(f(1))]).toEqual([true, true, true, false]);
    expect(q.length).toBe(3);
  });

  it('is bounded by bytes', () => {
    const q = new PeerQueue(100, 10);
    expect(q.push(f(6))).toBe(true);
    expect(q.push(f(5))).toBe(false);
    expect(q.push(f(4))).toBe(true);
    expect(q.bytes).toBe(10);
  });

  it('hands out batches in order up to the byte budget, a large frame alone', () => {
    const q = new PeerQueue(100, 10_000);
    q.push(f(10, 1));
    q.push(f(10, 2));
    q.push(f(5000, 3));
    q.push(f(10, 4));
    expect(q.takeBatch(25).map((x) => x[0])).toEqual([1, 2]);
    expect(q.takeBatch(25).map((x) => x[0])).toEqual([3]);
    expect(q.takeBatch(25).map((x) => x[0])).toEqual([4]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.takeBatch(25)).toEqual([]);
  });

  it('keeps order and accounting across many pushes and takes', () => {
    const q = new PeerQueue(5000, 1 << 20);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(Uint8Array.of(next++ % 256));
      for (const x of q.takeBatch(37)) expect(x[0]).toBe(expected++ % 256);
    }
    while (q.length > 0) for (const x of q.takeBatch(1000)) expect(x[0]).toBe(expected++ % 256);
    expect(expected).toBe(next);
    expect(q.bytes).toBe(0);
  });

  it('clear reports how many frames it discarded', () => {
    const q = new PeerQueue(10, 100);
    q.push(f(1));
    q.push(f(2));
    expect(q.clear()).toBe(2);
    expect(q.bytes).toBe(0);
  });
});
