/**
 * A tiny stand-in for consensus around a LedgerChain: a mempool fed through admission (checkTx), and blocks
 * built from it, certified and committed when a test says so, with head-change listeners like the node's.
 */
import type { TxEnvelope } from '../../src/core/tx.ts';
import type { BuiltBlock, ChainHead, TxRejection } from '../../src/ledger/chain.ts';
import type { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { batchOf, runBlock } from './chain.ts';

export class FakeConsensus {
  readonly chain: LedgerChain;
  readonly mempool: TxEnvelope[] = [];
  /** Txs that execution refused: dropped, as a node drops them. */
  readonly rejected: TxRejection[] = [];
  readonly #now: () => number;
  readonly #listeners = new Set<(head: ChainHead) => void>();

  constructor(chain: LedgerChain, now: () => number) {
    this.chain = chain;
    this.#now = now;
  }

  /** The mempool entry point: admitted txs wait for the next block. */
  submit = async (env: TxEnvelope): Promise<TxRejection | undefined> => {
    const rejection = await this.chain.checkTx(env, this.#now());
    if (rejection === undefined) this.mempool.push(env);
    return rejection;
  };

  onHead = (listener: (head: ChainHead) => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Anchor txs waiting in the mempool. */
  anchorsWaiting(): TxEnvelope[] {
    return this.mempool.filter((t) => t.tx.type === 'anchor');
  }

  /** Commits the next block: the mempool, then `txs`, at the current time. */
  async commit(txs: readonly TxEnvelope[] = []): Promise<BuiltBlock> {
    const batch = [...this.mempool.splice(0), ...txs];
    const built = await runBlock(this.chain, batchOf(batch, this.#now()));
    this.rejected.push(...built.rejected);
    for (const listener of this.#listeners) listener(this.chain.head());
    return built;
  }
}
