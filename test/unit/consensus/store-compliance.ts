/**
 * Compliance suite for ConsensusStore implementations: MemoryConsensusStore and LedgerConsensusStore (over both
 * ledger stores).
 * `make` returns a fresh, empty store; `reopen` (optional) reopens the same store as after a restart.
 */
import { describe, expect, it } from 'vitest';
import type { ConsensusStore } from '../../../src/consensus/interfaces.ts';

export function consensusStoreCompliance(
  name: string,
  make: () => Promise<{ store: ConsensusStore; reopen?: () => Promise<ConsensusStore> }>,
): void {
  describe(`ConsensusStore compliance: ${name}`, () => {
    const v = (...b: number[]) => new Uint8Array(b);

    it('returns what was written, and deletes', async () => {
      const { store } = await make();
      await store.write([
        { op: 'put', key: 'view', value: v(1, 2) },
        { op: 'put', key: 'vote/0000000000000001', value: v(3) },
      ]);
      await store.write([{ op: 'del', key: 'view' }]);
      expect(new Map(await store.load())).toEqual(new Map([['vote/0000000000000001', v(3)]]));
    });

    it('applies a batch in order (a put then a delete of the same key leaves nothing)', async () => {
      const { store } = await make();
      await store.write([
        { op: 'put', key: 'a', value: v(1) },
        { op: 'del', key: 'a' },
        { op: 'put', key: 'b', value: v(2) },
        { op: 'put', key: 'b', value: v(3) },
      ]);
      expect(new Map(await store.load())).toEqual(new Map([['b', v(3)]]));
    });

    it('keeps its own copies: later changes to the caller’s arrays do not leak in or out', async () => {
      const { store } = await make();
      const value = v(1, 2, 3);
      await store.write([{ op: 'put', key: 'k', value }]);
      value[0] = 9;
      const [[, loaded]] = (await store.load()) as [[string, Uint8Array]];
      expect(loaded).toEqual(v(1, 2, 3));
      loaded[1] = 9;
      expect(new Map(await store.load()).get('k')).toEqual(v(1, 2, 3));
    });

    it('survives a reopen, when the implementation has one', async () => {
      const { store, reopen } = await make();
      await store.write([{ op: 'put', key: 'stable', value: v(7) }]);
      const again = reopen ? await reopen() : store;
      expect(new Map(await again.load()).get('stable')).toEqual(v(7));
    });
  });
}
