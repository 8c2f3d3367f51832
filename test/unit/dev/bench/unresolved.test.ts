import { describe, expect, it } from 'vitest';
import { probeUnresolved } from '../../../../src/dev/bench/unresolved.ts';

describe('probeUnresolved (where unresolved acknowledged txs were after the drain)', () => {
  it('splits them into on some chains, still pooled somewhere, and in no pool', async () => {
    // Tx 1 is on node0's chain only; tx 2 is in node1's pool; tx 3 in nobody's; tx 4 probe fails on node2.
    const pools: Set<number>[] = [new Set(), new Set([2]), new Set(), new Set()];
    const asked: number[][] = [];
    const split = await probeUnresolved(
      [
        { i: 1, onChains: 0b0001 },
        { i: 2, onChains: 0 },
        { i: 3, onChains: 0 },
        { i: 4, onChains: 0 },
      ],
      4,
      async (k, batch) => {
        asked.push(batch);
        if (k === 2) throw new Error('connection reset');
        return batch.map((i) => (pools[k]!.has(i) ? 'pending' : 'accepted'));
      },
    );
    expect(asked).toEqual([
      [2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
      [2, 3, 4],
    ]);
    expect(split).toEqual({
      total: 4,
      onSomeChains: 1,
      pooled: 1,
      inNoPool: 2,
      pooledBy: { node0: 0, node1: 1, node2: 0, node3: 0 },
      otherAnswers: { REQUEST_ERROR: 3 },
    });
  });
});
