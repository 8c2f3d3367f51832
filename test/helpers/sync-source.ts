/** A chain to sync from in unit tests: certified blocks in a memory ledger, served by a real SyncServer. */
import type { Batch } from '../../src/core/batch.ts';
import { genesisHash } from '../../src/core/genesis.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import type { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { SyncServer } from '../../src/node/net/sync-server.ts';
import { P2PError, P2PErrorCode } from '../../src/p2p/index.ts';
import { batchOf, openChain, runBlock } from './chain.ts';
import type { Responder } from './fake-host.ts';
import { evidenceTx, TEST_GENESIS_TIME } from './fixtures.ts';
import { genesis } from './ledger.ts';

export interface SyncSource {
  readonly chain: LedgerChain;
  readonly store: MemoryLedgerStore;
  readonly server: SyncServer;
  readonly blocks: BuiltBlock[];
}

/** Block k (from 1) holds `txsPerBlock` evidence txs, at TEST_GENESIS_TIME + 2 s + k ms. */
export function batchesOf(count: number, txsPerBlock = 2, nonceBase = 0): Batch[] {
  return Array.from({ length: count }, (_, k) =>
    batchOf(
      Array.from({ length: txsPerBlock }, (_, j) =>
        evidenceTx({ nonce: nonceBase + k * txsPerBlock + j + 1, createdAt: TEST_GENESIS_TIME + 1000 }),
      ),
      TEST_GENESIS_TIME + 2000 + k,
    ),
  );
}

export async function syncSource(
  batches: readonly Batch[],
  maxResponseBytes = 16 * 1024 * 1024,
): Promise<SyncSource> {
  const store = new MemoryLedgerStore();
  const chain = await openChain(store);
  const blocks: BuiltBlock[] = [];
  for (const b of batches) blocks.push(await runBlock(chain, b));
  const server = new SyncServer({
    store,
    stable: () => ({ seq: 0, headerHash: genesisHash(genesis()), signatures: [] }),
    batchFor: () => undefined,
    maxResponseBytes,
  });
  return { chain, store, server, blocks };
}

/** Answers like a peer running `server`; a refusal reaches the requester as P2P_NO_RESPONSE. */
export function respondFrom(
  server: SyncServer,
  edit?: (response: Uint8Array, request: Uint8Array) => Uint8Array,
): Responder {
  return async (request) => {
    const answer = await server.handle(request, new AbortController().signal);
    if (!(answer instanceof Uint8Array)) throw new P2PError(P2PErrorCode.noResponse, 'refused');
    return edit === undefined ? answer : edit(answer, request);
  };
}
