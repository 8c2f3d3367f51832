/** Ledger test helpers: hand-built blocks for store tests, page walking, and temporary directories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlockHeader, headerHash } from '../../src/core/block.ts';
import { type Genesis, genesisHash, genesisValidatorSet } from '../../src/core/genesis.ts';
import { merkleRoot } from '../../src/core/merkle.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { validatorSetHash } from '../../src/core/validators.ts';
import type { ChainHead } from '../../src/ledger/chain.ts';
import { decodeTxRecord } from '../../src/ledger/records.ts';
import type { BlockWrite, LedgerStore, Page, PageRequest } from '../../src/ledger/store.ts';
import { certify, testGenesis } from './fixtures.ts';

let cachedGenesis: Genesis | undefined;

/** The default test genesis, parsed once per test file. */
export function genesis(): Genesis {
  cachedGenesis ??= testGenesis();
  return cachedGenesis;
}

/** Height 0 of the test chain: the genesis hash and creation time. */
export function atGenesis(): ChainHead {
  return { height: 0, hash: genesisHash(genesis()), time: genesis().createdAt };
}

/** A well-formed, certified block of `txs` on top of `prev`, written straight to a store (no executor). */
export function blockWrite(prev: ChainHead, txs: readonly TxEnvelope[], time: number): BlockWrite {
  const header: BlockHeader = {
    chainId: genesis().chainId,
    height: prev.height + 1,
    prevHash: prev.hash,
    txRoot: merkleRoot(txs.map((t) => t.hash)),
    txCount: txs.length,
    proposer: 0,
    view: 0,
    time,
    validatorSetHash: validatorSetHash(genesisValidatorSet(genesis())),
  };
  const hash = headerHash(header);
  return {
    header,
    hash,
    cert: certify(header, header.view, undefined, genesisHash(genesis())),
    txs,
    records: txs.map((t) => decodeTxRecord(t.tx)),
  };
}

export async function appendBlock(
  store: LedgerStore,
  txs: readonly TxEnvelope[],
  time: number,
): Promise<BlockWrite> {
  const write = blockWrite(store.head() ?? atGenesis(), txs, time);
  await store.commitBlock(write);
  return write;
}

/** Follows cursors to the end; also checks every page respects its limit. */
export async function allPages<T>(
  fetch: (page: PageRequest) => Promise<Page<T>>,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await fetch({ limit, cursor });
    pages++;
    if (page.items.length > limit) throw new Error(`page of ${page.items.length} items, limit ${limit}`);
    items.push(...page.items);
    if (page.next === undefined) return { items, pages };
    if (pages > 100_000) throw new Error('paging does not terminate');
    cursor = page.next;
  }
}

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `jrchain-${label}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}
