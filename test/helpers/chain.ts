/** Drives a LedgerChain the way consensus does: build a block from a batch, certify it, commit it. */
import type { Batch } from '../../src/core/batch.ts';
import { SM2_SM3 } from '../../src/core/crypto-suite.ts';
import { genesisHash, genesisSuite } from '../../src/core/genesis.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import { LedgerChain, type LedgerChainOptions } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import type { LedgerStore } from '../../src/ledger/store.ts';
import { certify } from './fixtures.ts';
import { genesis } from './ledger.ts';
import { smCertify } from './sm-chain.ts';

export function openMemoryChain(options: LedgerChainOptions = {}): Promise<LedgerChain> {
  return LedgerChain.open(new MemoryLedgerStore(), genesis(), options);
}

export function openChain(store: LedgerStore, options: LedgerChainOptions = {}): Promise<LedgerChain> {
  return LedgerChain.open(store, genesis(), options);
}

export function batchOf(txs: readonly TxEnvelope[], time: number, proposer = 0, view = 0): Batch {
  return { proposer, view, time, txs };
}

/** Builds, certifies (quorum of the batch's view) and commits; returns the committed block. */
export async function runBlock(chain: LedgerChain, batch: Batch): Promise<BuiltBlock> {
  const built = await chain.buildBlock(batch);
  // An sm2-sm3 chain's blocks are certified by its SM2 validators (ADR 014).
  const cert =
    genesisSuite(chain.genesis) === SM2_SM3
      ? smCertify(chain.genesis, built.header)
      : certify(built.header, built.header.view, undefined, genesisHash(chain.genesis));
  await chain.commitBlock(built, cert);
  return built;
}

/**
 * The code each batch tx got: 'ok' when included, its TX_* code when rejected. Relies on the contract that
 * `txs` and `rejected` both keep batch order and that `txs` holds the batch's envelope objects.
 */
export function outcomes(block: BuiltBlock, batchTxs: readonly TxEnvelope[]): string[] {
  let included = 0;
  let rejected = 0;
  const out = batchTxs.map((t) => {
    if (block.txs[included] === t) {
      included++;
      return 'ok';
    }
    const r = block.rejected[rejected++];
    if (r === undefined || Buffer.compare(r.hash, t.hash) !== 0) throw new Error('block lost batch order');
    return r.code;
  });
  if (included !== block.txs.length || rejected !== block.rejected.length)
    throw new Error('extra txs in block');
  return out;
}
