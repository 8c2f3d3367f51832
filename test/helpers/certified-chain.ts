/** Builds certified blocks by hand for tests that need a chain without running consensus or a ledger. */
import { type BlockHeader, type CommitCertificate, headerHash } from '../../src/core/block.ts';
import { type Genesis, genesisHash, genesisValidatorSet } from '../../src/core/genesis.ts';
import { inclusionProof, merkleRoot } from '../../src/core/merkle.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { validatorSetHash } from '../../src/core/validators.ts';
import { certify } from './fixtures.ts';

export interface TestBlock {
  header: BlockHeader;
  hash: Uint8Array;
  cert: CommitCertificate;
  txs: TxEnvelope[];
}

/** Consecutive blocks from height 1, one per entry of `blocks`, one second apart from `startTime`. */
export function buildChain(g: Genesis, blocks: TxEnvelope[][], startTime: number): TestBlock[] {
  const setHash = validatorSetHash(genesisValidatorSet(g));
  const out: TestBlock[] = [];
  let prev = genesisHash(g);
  for (const [i, txs] of blocks.entries()) {
    const header: BlockHeader = {
      chainId: g.chainId,
      height: i + 1,
      prevHash: prev,
      txRoot: merkleRoot(txs.map((t) => t.hash)),
      txCount: txs.length,
      proposer: 0,
      view: 0,
      time: startTime + i * 1000,
      validatorSetHash: setHash,
    };
    const hash = headerHash(header);
    out.push({ header, hash, cert: certify(header, header.view, undefined, genesisHash(g)), txs });
    prev = hash;
  }
  return out;
}

export function proofFor(block: TestBlock, tx: TxEnvelope) {
  return inclusionProof(
    block.txs.map((t) => t.hash),
    block.txs.findIndex((t) => t.hashHex === tx.hashHex),
  );
}
